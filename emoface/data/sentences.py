"""The English sentence list the synthetic (espeak-ng) corpus speaks.

Stored as a text asset (``sentences_en.txt`` beside this module): hand-written lines plus
phonetically balanced sentences from a small grammar of our own. ``python
tools/sentences.py`` (outside the package) generates it, deterministically.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

ASSET = Path(__file__).with_name("sentences_en.txt")


@lru_cache(maxsize=1)
def load_sentences() -> tuple[str, ...]:
    """The stored sentence list (comment lines dropped)."""
    text = ASSET.read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines()
                 if line.strip() and not line.startswith("#"))
