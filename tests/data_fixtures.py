"""Tiny corpora in the layouts the data builders read, written into a temporary folder:
speech comes from espeak-ng, target curves are smooth random numbers we keep to compare."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from emoface.animation import Animation
from emoface.audio.espeak import synthesize
from emoface.audio.io import resample
from emoface.export import livelink_csv

GOOD_TEXT = "The old dog sleeps by the fire."
RAVDESS_TEXT = "Kids are talking by the door."
_SAMPA = {"AA": "a", "AE": "E", "AH": "@", "AO": "O", "AW": "aU", "AY": "aI", "EH": "E",
          "ER": "6", "EY": "e", "IH": "I", "IY": "i", "OW": "o", "OY": "OY", "UH": "U",
          "UW": "u", "SIL": "."}


def speech(text: str, rate: int = 16000, voice: str = "en-us") -> tuple[np.ndarray, list]:
    samples, sr, phones = synthesize(text, voice)
    return resample(samples, sr, rate), phones


def smooth_curves(frames: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.random((frames + 8, width))
    kernel = np.ones(9) / 9
    out = np.stack([np.convolve(raw[:, j], kernel, mode="valid") for j in range(width)], 1)
    return out[:frames].astype(np.float32)


def write_lablaut(path: Path, phones, end_limit: float | None = None) -> None:
    lines = ["signal test", "type 0", "comment fixture", "#"]
    for p in phones:
        end = p.end if end_limit is None else min(p.end, end_limit)
        label = _SAMPA.get(p.phone, p.phone.lower()[:1])
        lines.append(f"    {end:.6f}   -1 {label}")
        if end_limit is not None and p.end >= end_limit:
            break
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")


def make_librivox(root: Path) -> Path:
    """good clip, a corrupt wav, a transcript that cannot be aligned."""
    root.mkdir(parents=True, exist_ok=True)
    x, _ = speech(GOOD_TEXT)
    sf.write(root / "reader_one-0001.wav", x, 16000, subtype="PCM_16")
    (root / "reader_one-0002.wav").write_bytes(b"RIFF\x00\x01\x02not really a wave file" * 20)
    short, _ = speech("Yes.")
    sf.write(root / "reader_one-0003.wav", short, 16000, subtype="PCM_16")
    long_text = ("nevertheless the committee deliberated extensively regarding the "
                 "unprecedented circumstances surrounding the international negotiations "
                 "throughout the extraordinarily complicated afternoon")
    (root / "transcription").write_text(
        f"<s> {GOOD_TEXT.lower().rstrip('.')} </s> (reader_one-0001)\n"
        f"<s> something was said here </s> (reader_one-0002)\n"
        f"<s> {long_text} </s> (reader_one-0003)\n", encoding="utf-8")
    return root


def make_emodb(root: Path) -> Path:
    """03a01Fa: speech with labels that fit; 03a02Nc: labels stop long before the speech."""
    (root / "wav").mkdir(parents=True, exist_ok=True)
    (root / "lablaut").mkdir(parents=True, exist_ok=True)
    for stem, text, limit in (("03a01Fa", "Der Lappen liegt auf dem Eisschrank.", None),
                              ("03a02Nc", "Das will sie am Mittwoch abgeben, heute.", 0.3)):
        x, phones = speech(text, rate=22050, voice="de")
        n = int(2.0 * 22050)
        x = np.concatenate([x, np.zeros(max(0, n - len(x)), np.float32)])[:n]
        sf.write(root / "wav" / f"{stem}.wav", x, 22050, subtype="PCM_16")
        write_lablaut(root / "lablaut" / f"{stem}xx.lablaut", phones, limit)
    return root


def make_etf3d(root: Path) -> dict[str, np.ndarray]:
    """Two clips (one beside its audio, one in blendshape/ + audio/), one too short.
    Returns the curves written, by clip id."""
    written: dict[str, np.ndarray] = {}
    root.mkdir(parents=True, exist_ok=True)
    x, _ = speech(GOOD_TEXT)
    frames = round(len(x) / 16000 * 30)
    w = smooth_curves(frames, 52, seed=1)
    sf.write(root / "WDA_Someone_000.wav", x, 16000, subtype="PCM_16")
    np.save(root / "WDA_Someone_000.npy", w)
    written["etf3d-WDA_Someone_000"] = w
    (root / "blendshape").mkdir()
    (root / "audio").mkdir()
    y, _ = speech(RAVDESS_TEXT)
    w2 = smooth_curves(round(len(y) / 16000 * 30), 52, seed=2)
    name = "01-01-05-02-01-01-21"
    sf.write(root / "audio" / f"{name}.wav", y, 16000, subtype="PCM_16")
    np.save(root / "blendshape" / f"{name}.npy", w2)
    written[f"etf3d-{name}"] = w2
    sf.write(root / "WDA_Other_001.wav", x, 16000, subtype="PCM_16")
    np.save(root / "WDA_Other_001.npy", w[: frames // 3])  # label/audio length mismatch
    return written


def make_livelink(root: Path) -> dict[str, Animation]:
    """One take folder named for its emotion: CSV at 60 fps + wav + transcript."""
    folder = root / "angry_takes"
    folder.mkdir(parents=True, exist_ok=True)
    x, _ = speech(GOOD_TEXT)
    frames = round(len(x) / 16000 * 60)
    anim = Animation(smooth_curves(frames, 52, seed=3), 60.0,
                     head=0.1 * (smooth_curves(frames, 3, seed=4) - 0.5),
                     eyes=0.1 * (smooth_curves(frames, 6, seed=5) - 0.5))
    livelink_csv.write(anim, folder / "take1.csv")
    sf.write(folder / "take1.wav", x, 16000, subtype="PCM_16")
    (folder / "take1.txt").write_text(GOOD_TEXT, encoding="utf-8")
    return {"livelink-angry_takes.take1": anim}
