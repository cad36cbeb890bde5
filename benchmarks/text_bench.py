"""What the words cost: MiniLM's load and per-second cost for word features, and the rules
engine's text-aware cues against the same animation without words.

    .venv/bin/python benchmarks/text_bench.py

Inputs: the LibriVox clips of the shared data with their transcripts (aligned once, before
timing). MiniLM's cold load runs in a fresh process (import included), so its peak memory
(max RSS) is its own.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emoface.audio.io import load_audio  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402
from emoface.emotion import EmotionTrack  # noqa: E402
from emoface.engines.rules.engine import animate_phones  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402
from emoface.text import timed_words  # noqa: E402

COLD_LOAD = """
import resource, time
t = time.perf_counter()
from emoface.text.embeddings import load_minilm, token_vectors
load_minilm()
token_vectors("warm up.")
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def librivox() -> list[Speech]:
    folder = shared_data_dir() / "speech" / "librivox"
    out = []
    for line in (folder / "transcription").read_text().splitlines():
        text, _, name = line.rpartition("(")
        text = text.replace("<s>", "").replace("</s>", "").strip().lower()
        out.append(Speech(load_audio(folder / f"{name.strip(' )')}.wav"), text=text,
                          source=name.strip(" )")))
    return out


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    done = subprocess.run([sys.executable, "-c", COLD_LOAD], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          check=True)
    load_s, load_mb = (float(x) for x in done.stdout.split())
    from emoface.text.embeddings import frame_features, load_minilm

    load_minilm()
    clips = librivox()
    audio_s = sum(c.duration for c in clips)
    for c in clips:
        c.phones(), c.prosody()   # aligned and analysed before timing
    words = [timed_words(c.phones(), c.text) for c in clips]
    n_words = sum(len(w) for w in words)
    track = EmotionTrack.constant("neutral")

    def features():
        for c, w in zip(clips, words):
            frame_features(w, c.text, int(c.duration * 30) + 1, 30.0)

    def rules(with_words: bool):
        for c, w in zip(clips, words):
            animate_phones(c.phones(), c.prosody(), c.duration, track,
                           words=w if with_words else None)

    feat_s = best_of(features)
    plain_s = best_of(lambda: rules(False), repeats=15)
    text_s = best_of(lambda: rules(True), repeats=15)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"LibriVox: {len(clips)} clips, {audio_s:.1f} s of speech, {n_words} aligned words")
    print("| measure | value |\n|---|---|")
    print(f"| MiniLM cold load (fresh process, import included) | {load_s:.1f} s, peak RSS "
          f"{load_mb:.0f} MB |")
    print(f"| MiniLM word features, {audio_s:.0f} s of speech | {feat_s:.2f} s "
          f"(real-time factor {feat_s / audio_s:.3f}) |")
    print(f"| rules engine without words | {plain_s:.2f} s (RTF {plain_s / audio_s:.3f}) |")
    print(f"| rules engine with words (text cues) | {text_s:.2f} s (RTF {text_s / audio_s:.3f}),"
          f" {100 * (text_s / plain_s - 1):+.0f} % |")
    print(f"| peak RSS of this process (MiniLM loaded) | {rss:.0f} MB |")


if __name__ == "__main__":
    main()
