"""Speed: real-time factor, latency and peak memory of one system (DESIGN.md, Evaluation
protocol).

    python -m emoface.eval.speed --engine rules [--transcript] [--seconds 60]

prints one JSON line. Run it in a fresh process, as the benchmark does, so that the peak
memory it reports is this system's alone. The clip is real recorded speech with its
transcript: the LibriVox clips, then Asterisk prompts, joined with short pauses until it
is at least ``--seconds`` long.

* real-time factor = compute seconds / audio seconds, split into phone timing (forced
  alignment with a transcript, the phone loop without), prosody, and the engine itself;
* cold start: the first utterance of a fresh process (decoders and tables loading);
* latency: an offline engine sees a whole utterance before it emits a frame, so its
  latency is the time from the end of a 5.5 s utterance to its finished animation, warm;
  a streaming engine will report its own first-frame latency here when it exists;
* peak memory: the process's peak resident set (what the OS had to give it), and the
  peak of Python/numpy allocations while animating the clip (tracemalloc; C libraries
  such as the aligner are invisible to it).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc

import numpy as np

from ..paths import shared_data_dir

PAUSE_S = 0.3
LATENCY_PROMPT = "agent-alreadyon"   # 5.5 s of speech, a typical spoken reply
WARMUP_PROMPT = "vm-goodbye"


def speech_clip(seconds: float):
    """(samples at 16 kHz, transcript) of ``seconds`` (within a second) of real read
    speech: the LibriVox clips, then the longest Asterisk prompts that still fit."""
    from ..audio.io import SAMPLE_RATE, audio_duration, load_audio
    from .suites import _asterisk, _librivox

    root = shared_data_dir()
    chosen, total = [], 0.0
    prompts = sorted(_asterisk(root), key=lambda i: (-audio_duration(i.audio), i.id))
    for item in _librivox(root) + prompts:
        length = audio_duration(item.audio) + PAUSE_S
        if total + length <= seconds + 1.0:
            chosen.append(item)
            total += length
        if total >= seconds - 0.5:
            break
    gap = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    pieces = [part for item in chosen for part in (load_audio(item.audio), gap)]
    return np.concatenate(pieces), " ".join(item.text for item in chosen)


def _prompt(name: str):
    from ..audio.io import load_audio
    from .suites import _asterisk

    item = next(i for i in _asterisk(shared_data_dir()) if i.id == f"asterisk/{name}")
    return load_audio(item.audio), item.text


def _run(engine: str, samples: np.ndarray, text: str | None) -> dict:
    """Seconds spent in each stage for one utterance. Engines that never read phones
    (the baselines) get none computed."""
    from ..audio.speech import Speech
    from ..pipeline import animate
    from .runner import TRANSCRIPT_BLIND

    speech = Speech(samples, 16000, text=text)
    t0 = time.perf_counter()
    if engine not in TRANSCRIPT_BLIND:
        speech.phones()
    t1 = time.perf_counter()
    speech.prosody()
    t2 = time.perf_counter()
    animate(speech, emotion="neutral", engine=engine, fps=30.0, seed=0)
    t3 = time.perf_counter()
    return {"phones_s": t1 - t0, "prosody_s": t2 - t1, "engine_s": t3 - t2, "total_s": t3 - t0,
            "phone_method": speech.phone_method}


def _peak_rss_mb() -> float:
    """This process's peak resident set. Not getrusage: Linux carries ru_maxrss over
    exec, so a child started by a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(engine: str, transcript: bool, seconds: float) -> dict:
    from ..pipeline import ENGINES

    if engine not in ENGINES:
        raise SystemExit(f"unknown engine {engine!r}")

    def run(samples, text):
        return _run(engine, samples, text if transcript else None)

    x, text = _prompt(WARMUP_PROMPT)
    t = time.perf_counter()
    run(x, text)
    cold = time.perf_counter() - t
    cold_audio = len(x) / 16000
    rss_warm = _rss_mb()

    clip, clip_text = speech_clip(seconds)
    duration = len(clip) / 16000
    stages = run(clip, clip_text)
    peak_rss = _peak_rss_mb()

    x, text = _prompt(LATENCY_PROMPT)
    latency = run(x, text)

    tracemalloc.start()
    run(clip, clip_text)
    heap_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "engine": engine, "transcript": transcript, "audio_s": duration,
        "rtf": stages["total_s"] / duration,
        "rtf_phones": stages["phones_s"] / duration, "rtf_prosody": stages["prosody_s"] / duration,
        "rtf_engine": stages["engine_s"] / duration, "stages": stages,
        "cold_start_s": cold, "cold_start_audio_s": cold_audio, "latency_s": latency["total_s"],
        "latency_audio_s": len(x) / 16000, "peak_rss_mb": peak_rss,
        "rss_after_warmup_mb": rss_warm, "heap_peak_mb": heap_peak,
        "phone_method": stages["phone_method"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emoface.eval.speed")
    parser.add_argument("--engine", default="rules")
    parser.add_argument("--transcript", action="store_true")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.engine, args.transcript, args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
