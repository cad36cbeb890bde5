"""``make demo``: speak bundled sentences in several emotions and write every format."""
from __future__ import annotations

import time
from pathlib import Path

from .audio.io import save_wav
from .outputs import plan, writable_extensions, write_all
from .pipeline import speak

DEMO_LINES: tuple[tuple[str, str], ...] = (
    ("neutral", "The quick brown fox jumps over the lazy dog."),
    ("happy:0.8", "What a wonderful surprise, I am so happy to see you!"),
    ("sad:0.8", "I miss the old days, when we were all together."),
    ("angry:0.8", "Stop it right now, I have had more than enough of this!"),
    ("surprised:0.8", "Oh my goodness, you built all of this by yourself?"),
    ("fearful:0.7", "Please be quiet, I think somebody is moving behind that door."),
)


def demo_formats() -> tuple[str, ...]:
    """Every format this installation can write (the core three always)."""

    wanted = (".csv", ".json", ".npz", ".glb", ".usda", ".mp4")
    available = set(writable_extensions())
    return tuple(ext for ext in wanted if ext in available)


def run_demo(out: Path, fps: float = 30.0) -> list[Path]:
    from tqdm import tqdm


    out.mkdir(parents=True, exist_ok=True)
    formats = demo_formats()
    written: list[Path] = []
    rows = []
    for emotion, sentence in tqdm(DEMO_LINES, desc="demo", unit="take", disable=None):
        name = emotion.split(":")[0]
        start = time.perf_counter()
        anim, samples, sr = speak(sentence, emotion=emotion, fps=fps)
        wav = out / f"{name}.wav"
        save_wav(wav, samples, sr)
        paths = write_all(anim, plan(out, name, formats), audio=str(wav))
        written += [wav, *paths]
        rows.append((name, len(samples) / sr, anim.num_frames, time.perf_counter() - start))
    print(f"\nwrote {len(written)} files to {out}/ ({', '.join(formats)} and .wav per take):")
    for name, seconds, frames, took in rows:
        print(f"  {name:10s} {seconds:5.2f} s speech, {frames:4d} frames, made in {took:.2f} s")
    return written
