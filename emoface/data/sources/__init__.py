"""Corpus sources: each knows where its data lies, how to list its clips (``plan``) and
how to turn one into audio, phone timings and labels (``load``).

=============== ============================================== ===========================
source          default location                               phone timings
=============== ============================================== ===========================
librivox        ../shared/data/speech/librivox                 forced alignment
asterisk        ../shared/data/speech/asterisk (8 kHz)         forced alignment
emodb           ../shared/data/emodb                           hand labels (lablaut)
librispeech     ../shared/data/speech/librispeech (no text)    alignment of Whisper's words
tts             generated (espeak-ng, sentences_en.txt)        espeak-ng's own events
flite           generated (CMU Flite, sentences_en.txt)        flite's own segment table
livelink-take   a folder given as livelink-take=DIR            alignment or phone loop
etf3d           a folder given as etf3d=DIR                    alignment or phone loop
video           a folder given as video=DIR (or video DIR)     alignment or phone loop
=============== ============================================== ===========================
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from .common import Clip, Item, SkipClip


@dataclass(frozen=True)
class Source:
    name: str
    module: str
    plan_name: str = "plan"
    load_name: str = "load"
    needs_root: bool = True

    def _mod(self):
        return importlib.import_module(f"{__name__}.{self.module}")

    def plan(self, root: Path | None, options) -> list[Item]:
        return getattr(self._mod(), self.plan_name)(root, options)

    def load(self, item: Item) -> Clip:
        return getattr(self._mod(), self.load_name)(item)

    def root(self) -> Path | None:
        fn = getattr(self._mod(), "default_root", None)
        return fn() if fn else None


SOURCES: dict[str, Source] = {
    "librivox": Source("librivox", "librivox"),
    "asterisk": Source("asterisk", "asterisk"),
    "emodb": Source("emodb", "emodb"),
    "librispeech": Source("librispeech", "librispeech"),
    "tts": Source("tts", "tts", needs_root=False),
    "flite": Source("flite", "flite", needs_root=False),
    "livelink-take": Source("livelink-take", "captured", "plan_livelink", "load_livelink"),
    "etf3d": Source("etf3d", "captured", "plan_etf3d", "load_etf3d"),
    "video": Source("video", "video"),
}
DEFAULT_SOURCES = ("librivox", "asterisk", "emodb", "tts", "flite")

__all__ = ["DEFAULT_SOURCES", "SOURCES", "Clip", "Item", "SkipClip", "Source"]
