"""IPA (as espeak-ng writes it) to the canonical ARPABET phone set.

espeak-ng names one phoneme with one or more IPA letters plus diacritics (``oʊ``, ``ɑːɹ``,
``n̩``, ``tʃ``). :func:`ipa_to_arpabet` strips stress and length, then reads the rest
greedily, longest known sequence first, so an r-coloured vowel becomes two phones and a
diphthong one. Every letter of the IPA chart has an entry, chosen by the articulation the
face shows (lip rounding, jaw, tongue tip): foreign vowels go to the English vowel of the
same height and rounding (front rounded ``y ø œ`` to ``UW OW AO``), foreign consonants to
the English one of the same place (``x ç χ`` to ``HH``, as CMUdict writes the [ç] of
"huge"; ``ɸ β`` to ``F B``; retroflex to alveolar). Only a symbol outside the chart
falls through to the default (``AH`` for letters, logged once) -- never silently dropped.
"""
from __future__ import annotations

import logging
import unicodedata

from .phones import PHONE_SET, SILENCE

log = logging.getLogger(__name__)

# Multi-letter units first; _longest_match tries the longest prefix.
_SEQUENCES: dict[str, tuple[str, ...]] = {
    # diphthongs
    "aɪ": ("AY",), "ɑɪ": ("AY",), "ʌɪ": ("AY",), "ɐɪ": ("AY",), "äɪ": ("AY",),
    "aʊ": ("AW",), "ɑʊ": ("AW",), "ɐʊ": ("AW",), "æʊ": ("AW",), "ao": ("AW",),
    "eɪ": ("EY",), "ɛɪ": ("EY",), "ej": ("EY",),
    "oʊ": ("OW",), "əʊ": ("OW",), "ɔʊ": ("OW",), "ou": ("OW",),
    "ɔɪ": ("OY",), "ɔʏ": ("OY",), "oɪ": ("OY",), "ɔy": ("OY",), "ɔø": ("OY",),
    "ʌʉ": ("AW",), "ʌu": ("AW",),
    "ɪə": ("IH", "AH"), "eə": ("EH", "AH"), "ɛə": ("EH", "AH"), "ʊə": ("UH", "AH"),
    "iə": ("IY", "AH"), "aɪə": ("AY", "AH"), "aʊə": ("AW", "AH"),
    # r-coloured vowels (espeak en-us writes them as one phoneme)
    "aɪɚ": ("AY", "ER"), "aʊɚ": ("AW", "ER"),
    "ɑɹ": ("AA", "R"), "ɔɹ": ("AO", "R"), "oɹ": ("AO", "R"), "ɛɹ": ("EH", "R"),
    "ɪɹ": ("IH", "R"), "iɹ": ("IY", "R"), "ʊɹ": ("UH", "R"), "əɹ": ("ER",), "ɜɹ": ("ER",),
    "eɹ": ("EH", "R"),
    # affricates
    "tʃ": ("CH",), "t͡ʃ": ("CH",), "dʒ": ("JH",), "d͡ʒ": ("JH",),
    "ts": ("T", "S"), "t͡s": ("T", "S"), "dz": ("D", "Z"), "d͡z": ("D", "Z"),
    "pf": ("P", "F"), "p͡f": ("P", "F"), "tɕ": ("CH",), "dʑ": ("JH",), "ʈʂ": ("CH",),
    "ɖʐ": ("JH",),
    # espeak spells some schwa + consonant units as one phoneme
    "əl": ("AH", "L"), "ən": ("AH", "N"), "əm": ("AH", "M"),
}

_LETTERS: dict[str, str] = {
    # vowels: height x backness x rounding to the nearest English vowel
    "i": "IY", "y": "UW", "ɨ": "IH", "ʉ": "UW", "ɯ": "UW", "u": "UW",
    "ɪ": "IH", "ʏ": "UH", "ʊ": "UH", "ᵻ": "IH", "ᵿ": "UH",
    "e": "EY", "ø": "OW", "ɘ": "AH", "ɵ": "OW", "ɤ": "AH", "o": "OW",
    "ə": "AH", "ɛ": "EH", "œ": "AO", "ɜ": "ER", "ɞ": "AO", "ʌ": "AH", "ɔ": "AO",
    "æ": "AE", "ɐ": "AH", "a": "AA", "ɶ": "AO", "ä": "AA", "ɑ": "AA", "ɒ": "AA",
    "ɚ": "ER", "ɝ": "ER",
    # plosives
    "p": "P", "b": "B", "t": "T", "d": "D", "ʈ": "T", "ɖ": "D", "c": "K", "ɟ": "G",
    "k": "K", "g": "G", "ɡ": "G", "q": "K", "ɢ": "G", "ʔ": "HH", "ʡ": "HH",
    # nasals
    "m": "M", "ɱ": "M", "n": "N", "ɳ": "N", "ɲ": "N", "ŋ": "NG", "ɴ": "NG",
    # trills, taps (the en-us tap of "butter" is a /t d/), approximants
    "ʙ": "B", "r": "R", "ʀ": "R", "ⱱ": "V", "ɾ": "D", "ɽ": "D", "ɺ": "L",
    "ʋ": "V", "ɹ": "R", "ɻ": "R", "j": "Y", "ɰ": "W", "w": "W", "ʍ": "W", "ɥ": "W",
    "l": "L", "ɫ": "L", "ɭ": "L", "ʎ": "L", "ʟ": "L", "ɬ": "L", "ɮ": "L",
    # fricatives
    "ɸ": "F", "β": "B", "f": "F", "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z",
    "ʃ": "SH", "ʒ": "ZH", "ʂ": "SH", "ʐ": "ZH", "ɕ": "SH", "ʑ": "ZH", "ç": "HH", "ʝ": "Y",
    "x": "HH", "ɣ": "G", "χ": "HH", "ʁ": "R", "ħ": "HH", "ʕ": "HH", "h": "HH", "ɦ": "HH",
    "ɧ": "SH",
    # clicks and implosives: the closest ordinary stop
    "ʘ": "P", "ǀ": "T", "ǃ": "T", "ǂ": "T", "ǁ": "L", "ɓ": "B", "ɗ": "D", "ʄ": "G",
    "ɠ": "G", "ʛ": "G",
}

# Marks that change neither the place nor the face shape enough to matter here.
_IGNORED = set("ˈˌːˑ.‿|‖-_'̯̪̺̻̹̜̟̠̥̬̤̰̼̝̞̘̙̈̽̆̊̃ʰʷʲˠˤ˞ⁿˡ̚͜͡ʼ")
_SYLLABIC = "\u0329"  # n̩ l̩: espeak's syllabic consonant, heard as schwa + consonant
_PAUSE_NAMES = {"", "_", "_:", "_!", "||", "|", "#", "_^_"}

_warned: set[str] = set()


def _clean(symbol: str) -> tuple[str, bool]:
    syllabic = _SYLLABIC in symbol
    text = unicodedata.normalize("NFD", symbol)
    kept = [ch for ch in text if ch not in _IGNORED and ch != _SYLLABIC]
    return unicodedata.normalize("NFC", "".join(kept)), syllabic


def ipa_to_arpabet(symbol: str) -> list[str]:
    """ARPABET phones for one espeak phoneme name (IPA). A pause gives ``["SIL"]``;
    every other input gives at least one phone."""
    if symbol.strip() in _PAUSE_NAMES:
        return [SILENCE]
    text, syllabic = _clean(symbol.strip())
    if not text:
        return [SILENCE]
    phones: list[str] = []
    i = 0
    while i < len(text):
        for length in (3, 2):
            unit = _SEQUENCES.get(text[i:i + length])
            if unit:
                phones.extend(unit)
                i += length
                break
        else:
            ch = text[i]
            mapped = _LETTERS.get(ch) or _LETTERS.get(unicodedata.normalize("NFD", ch)[0])
            if mapped is None:
                mapped = _fallback(ch, symbol)
            if mapped:
                phones.append(mapped)
            i += 1
    if syllabic and phones and phones[0] not in ("AH", "ER"):
        phones.insert(0, "AH")
    return _dedupe(phones) or ["AH"]


def _fallback(ch: str, symbol: str) -> str:
    if ch.isupper() and ch.lower() in _LETTERS:
        return _LETTERS[ch.lower()]
    if not ch.isalpha():  # punctuation and stray marks carry no articulation
        return ""
    if ch not in _warned:
        _warned.add(ch)
        log.warning("IPA symbol %r (in %r) has no ARPABET mapping; using AH", ch, symbol)
    return "AH"


def _dedupe(phones: list[str]) -> list[str]:
    out: list[str] = []
    for p in phones:
        assert p in PHONE_SET, p
        if not out or out[-1] != p:
            out.append(p)
    return out
