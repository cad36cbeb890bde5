"""Timed phones: the one currency between phoneme timing sources and the animators.

Every source (espeak-ng events, pocketsphinx alignment or phone loop, EmoDB lablaut)
yields a list of :class:`Phone` in the canonical phone set below: the 39 ARPABET phones
of the CMU dictionary, without stress digits, plus ``SIL`` for silence and pauses.
Foreign symbols (IPA from espeak, German SAMPA from EmoDB) are mapped to the nearest
ARPABET phone by place and manner of articulation, which is what the face needs.
"""
from __future__ import annotations

from dataclasses import dataclass

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANTS = ("B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R",
              "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH")
SILENCE = "SIL"
PHONE_SET = frozenset(VOWELS + CONSONANTS + (SILENCE,))
# A fixed order of the 40 phones, for networks that classify them (class index = position).
PHONE_CLASSES = (SILENCE,) + VOWELS + CONSONANTS
BILABIALS = frozenset({"P", "B", "M"})
LABIODENTALS = frozenset({"F", "V"})


@dataclass(frozen=True)
class Phone:
    """One phone: ``start``/``end`` in seconds, ``phone`` canonical ARPABET (or SIL),
    ``label`` as the source wrote it, ``word`` the word it belongs to when known."""

    start: float
    end: float
    phone: str
    label: str = ""
    word: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def center(self) -> float:
        return 0.5 * (self.start + self.end)

    @property
    def is_silence(self) -> bool:
        return self.phone == SILENCE
