"""Asterisk telephone prompts (../shared/data/speech/asterisk): one speaker (Allison
Smith), 8 kHz, ``transcripts.txt`` lines ``name: text`` where ``name`` is the wav path
without extension (``dictate/both_help``).

The audio stays 8 kHz (flag ``telephone``): the model has to cope with telephone
bandwidth. Keypad symbols in the prompts are read the way the speaker says them
(``*`` star, ``#`` pound) and the transcriber's notes in parentheses are dropped; prompts
whose transcript is only a bracketed description (``[this is a simple beep tone]``) are
tones, not speech, and are skipped. All clips are *train* (one speaker cannot be split).
"""
from __future__ import annotations

import re
from pathlib import Path

from ...errors import UserError
from ...paths import shared_data_dir
from .common import Clip, Item, SkipClip, align_or_skip, load_audio_or_skip, safe_id

NAME = "asterisk"
LICENCE = "CC-BY-SA-3.0 (Asterisk core sounds, voice: Allison Smith)"
SPEAKER = "asterisk-allison"
SPLIT = "train"
_SPOKEN_SYMBOLS = {"*": " star ", "#": " pound "}


def default_root() -> Path:
    return shared_data_dir() / "speech" / "asterisk"


def read_transcripts(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith(";") or ":" not in line:
            continue
        name, text = line.split(":", 1)
        out[name.strip()] = text.strip()
    return out


def spoken(text: str) -> str:
    """The words the speaker says: keypad symbols spelled, the transcriber's notes in
    parentheses (``(simple tone sound plays)``) dropped."""
    text = re.sub(r"\([^)]*\)", " ", text)
    for symbol, words in _SPOKEN_SYMBOLS.items():
        text = text.replace(symbol, words)
    return " ".join(text.split())


def plan(root: Path, options) -> list[Item]:
    listing = root / "transcripts.txt"
    if not listing.is_file():
        raise UserError(f"asterisk: no 'transcripts.txt' in {str(root)!r}")
    texts = read_transcripts(listing)
    on_disk = {str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.wav")}
    items = []
    for name in sorted(set(texts) | on_disk):
        items.append(Item(f"asterisk-{safe_id(name)}", NAME,
                          {"audio": str((root / f"{name}.wav").resolve()),
                           "text": texts.get(name)}))
    return items


def load(item: Item) -> Clip:
    p = item.params
    if p["text"] is None:
        raise SkipClip("no line for this audio file in transcripts.txt")
    if not Path(p["audio"]).is_file():
        raise SkipClip(f"audio file {p['audio']!r} is missing (listed in transcripts.txt)")
    samples, rate = load_audio_or_skip(p["audio"])
    text = spoken(p["text"])
    phones, method, note = align_or_skip(samples, text)
    return Clip(samples=samples, sample_rate=rate, language="en", speaker=SPEAKER, split=SPLIT,
                licence=LICENCE, phones=phones, phone_method=method, phone_note=note,
                audio=p["audio"], transcript=text,
                flags=["telephone"] if 0 < rate <= 8000 else [])
