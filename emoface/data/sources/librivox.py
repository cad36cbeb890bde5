"""LibriVox read speech with sphinx-style transcripts (../shared/data/speech/librivox).

Layout: ``transcription`` holds one ``<s> words </s> (fileid)`` line per clip and
``fileid.wav`` lies beside it. One LibriVox recording is one reader, so the speaker is the
file id without its trailing segment number. The whole source is the *test* split: the
model's lip-sync acceptance is measured on it, so no clip of it is ever trained on.
"""
from __future__ import annotations

import re
from pathlib import Path

from ...errors import UserError
from ...paths import shared_data_dir
from .common import Clip, Item, SkipClip, align_or_skip, load_audio_or_skip, safe_id

NAME = "librivox"
LICENCE = "public domain (LibriVox recording); BSD-2-Clause packaging (pocketsphinx-testdata)"
SPLIT = "test"
_LINE = re.compile(r"^\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^()]+)\)\s*$")


def default_root() -> Path:
    return shared_data_dir() / "speech" / "librivox"


def read_transcription(path: Path) -> dict[str, str]:
    """fileid -> transcript from a sphinx ``transcription`` file."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _LINE.match(line)
        if m and m.group(1).strip():
            out[m.group(2).strip()] = m.group(1).strip()
    return out


def speaker_of(fileid: str) -> str:
    return "librivox-" + re.sub(r"[-_]\d+$", "", fileid)


def plan(root: Path, options) -> list[Item]:
    listing = root / "transcription"
    if not listing.is_file():
        raise UserError(f"librivox: no 'transcription' file in {str(root)!r}")
    texts = read_transcription(listing)
    ids = sorted(set(texts) | {p.stem for p in root.glob("*.wav")})
    items = []
    for fileid in ids:
        wav = root / f"{fileid}.wav"
        items.append(Item(f"librivox-{safe_id(fileid)}", NAME,
                          {"audio": str(wav.resolve()), "text": texts.get(fileid),
                           "speaker": speaker_of(fileid)}))
    return items


def load(item: Item) -> Clip:
    p = item.params
    if not p["text"]:
        raise SkipClip("no transcript line for this audio file")
    if not Path(p["audio"]).is_file():
        raise SkipClip(f"audio file {p['audio']!r} is missing")
    samples, rate = load_audio_or_skip(p["audio"])
    phones, method, note = align_or_skip(samples, p["text"])
    return Clip(samples=samples, sample_rate=rate, language="en", speaker=p["speaker"],
                split=SPLIT, licence=LICENCE, phones=phones, phone_method=method,
                phone_note=note, audio=p["audio"], transcript=p["text"],
                flags=["telephone"] if 0 < rate <= 8000 else [])
