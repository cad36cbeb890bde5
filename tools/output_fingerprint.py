"""Fingerprint what every engine writes for a fixed set of inputs.

A refactor must not move a number: run this before and after and diff the two listings
(one line per take: engine, input, emotion, seed, sha1 of each array in the npz).

    python tools/output_fingerprint.py > before.txt
    ... change the code ...
    python tools/output_fingerprint.py > after.txt && diff before.txt after.txt

Inputs come from ../shared/data (LibriVox with its transcript, one EmoDB clip) plus an
espeak-ng sentence; takes cover every registered engine, auto and explicit emotion, a
keyframed emotion, 60 fps and a second seed.
"""
from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

import emoface  # noqa: E402


def inputs() -> list[tuple[str, Path, str | None]]:
    librivox = DATA / "speech" / "librivox"
    clip = librivox / "sense_and_sensibility_01_austen_64kb-0870.wav"
    text = None
    transcript = librivox / "transcription"
    if transcript.exists():
        for line in transcript.read_text().splitlines():
            if "0870" in line:
                text = line.rsplit("(", 1)[0].replace("<s>", "").replace("</s>", "").strip().lower()
    out = [("librivox-0870", clip, text), ("emodb-03a01Fa", DATA / "emodb" / "wav" / "03a01Fa.wav", None)]
    return [x for x in out if x[1].exists()]


def engine_names() -> list[str]:
    if hasattr(emoface, "list_engines"):
        return list(emoface.list_engines())
    from emoface.pipeline import engine_names as names

    return names()


def digest(path: Path) -> str:
    with np.load(path, allow_pickle=False) as z:
        parts = []
        for key in sorted(z.files):
            if key == "meta":
                continue
            a = z[key]
            parts.append(f"{key}:{hashlib.sha1(a.tobytes()).hexdigest()[:12]}")
    return " ".join(parts)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    takes = [("auto", 0, 30.0), ("happy:0.7", 0, 30.0), ("0:neutral,1:sad:0.8", 3, 60.0)]
    for engine in engine_names():
        for label, path, text in inputs():
            for with_text in ((False, True) if text else (False,)):
                for emotion, seed, fps in takes:
                    anim = emoface.animate(path, text=text if with_text else None, emotion=emotion,
                                           engine=engine, fps=fps, seed=seed)
                    out = tmp / "take.npz"
                    emoface.save(anim, out)
                    print(f"{engine:12s} {label:14s} text={int(with_text)} {emotion:20s} "
                          f"seed={seed} fps={fps:g} {digest(out)}", flush=True)


if __name__ == "__main__":
    main()
