"""What the voice emotion costs (BENCHMARKS.md, "Voice emotion recognition"): each branch's
load time and real-time factor on 60 s of English speech, and `emoface animate` end to end
(default emotion auto) with each branch, in fresh processes.

    .venv/bin/python benchmarks/voice_emotion_bench.py [--seconds 60] [--engine neural]

Branches: ``whisper`` (Whisper tiny.en encoder to layer 2, then the bundled classifier) and
``network`` (the neural model's own emotion branch), chosen by $EMOFACE_VOICE_EMOTION.
The load average is printed with the timings: other work on the machine changes them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emoface.audio.io import SAMPLE_RATE, load_audio  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402

CHILD = """
import json, sys, time
import numpy as np, soundfile as sf
t0 = time.perf_counter()
from emoface.audio.speech import Speech
from emoface.engines.neural.voice_emotion import VoiceEmotion
voice = VoiceEmotion(branch=sys.argv[2])
load = time.perf_counter() - t0
x, sr = sf.read(sys.argv[1], dtype="float32")
speech = Speech(x, sr)
speech.prosody()                       # shared with the animation; not the branch's cost
t1 = time.perf_counter(); voice.heard_track(speech); first = time.perf_counter() - t1
t1 = time.perf_counter(); voice.heard_track(Speech(x, sr)); again = time.perf_counter() - t1
print(json.dumps({"load_s": load, "first_s": first, "again_s": again}))
"""


def speech_clip(seconds: float) -> np.ndarray:
    """LibriSpeech test-other clips joined to ``seconds`` (none trained on)."""
    files = sorted((shared_data_dir() / "speech/librispeech/test-other").rglob("*.flac"))
    x = np.concatenate([load_audio(f) for f in files[:20]])
    return x[:int(seconds * SAMPLE_RATE)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--engine", default="neural")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = {"load_average": os.getloadavg()[0], "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        sf.write(wav, speech_clip(args.seconds), SAMPLE_RATE)
        for branch in ("network", "whisper"):
            r = subprocess.run([sys.executable, "-c", CHILD, str(wav), branch], env=env,
                               capture_output=True, text=True, check=True)
            d = json.loads(r.stdout.strip().splitlines()[-1])
            d["rtf"] = d["again_s"] / args.seconds
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "emoface", "animate", str(wav), "-o",
                            str(Path(tmp) / f"{branch}.npz"), "--engine", args.engine],
                           env=dict(env, EMOFACE_VOICE_EMOTION=branch), check=True,
                           capture_output=True)
            d["animate_s"] = time.perf_counter() - t
            d["animate_rtf"] = d["animate_s"] / args.seconds
            out[branch] = {k: round(v, 4) for k, v in d.items()}
            print(branch, out[branch], flush=True)
    out["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
