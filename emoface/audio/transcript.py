"""Transcript text to the words a pronunciation dictionary knows.

Lower case, accents folded, hyphens and dashes split words, digits spelled out
("1999" -> "nineteen ninety nine", "3.5" -> "three point five", "21st" -> "twenty first"),
curly apostrophes straightened and kept inside words ("don't", "john's"), every other
punctuation mark dropped.
"""
from __future__ import annotations

import re
import unicodedata

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_ENDINGS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                    "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}
_APOSTROPHES = "\u2019\u2018\u02bc\u0060\u00b4"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015/"

_NUMBER = re.compile(r"(\d[\d,]*)(?:\.(\d+))?(st|nd|rd|th)?")


def number_words(n: int) -> list[str]:
    """Cardinal ``n`` (>= 0) in words."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return [_ONES[hundreds], "hundred"] + (number_words(rest) if rest else [])
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return number_words(head) + [name] + (number_words(rest) if rest else [])
    raise AssertionError("unreachable")


def _year_words(n: int) -> list[str]:
    """1100-1999 and 2010-2099 are read in pairs, as years usually are."""
    high, low = divmod(n, 100)
    if low == 0:
        return number_words(high) + ["hundred"]
    return number_words(high) + (["oh"] if low < 10 else []) + number_words(low)


def _ordinal(words: list[str]) -> list[str]:
    last = words[-1]
    if last in _ORDINAL_ENDINGS:
        last = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last = last + "th"
    return words[:-1] + [last]


def _spell_number(match: re.Match) -> str:
    digits, decimals, suffix = match.group(1).replace(",", ""), match.group(2), match.group(3)
    if not digits:
        return match.group(0)
    n = int(digits)
    if suffix:
        words = _ordinal(number_words(n))
    elif decimals is None and len(digits) == 4 and (1100 <= n <= 1999 or 2010 <= n <= 2099):
        words = _year_words(n)
    else:
        words = number_words(n)
    if decimals and not suffix:
        words = words + ["point"] + [_ONES[int(d)] for d in decimals]
    return " " + " ".join(words) + " "


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_transcript(text: str) -> list[str]:
    """The words of ``text`` as a lower-case dictionary would spell them."""
    t = _fold_accents(text or "")
    for ch in _APOSTROPHES:
        t = t.replace(ch, "'")
    for symbol, words in _SYMBOLS.items():
        t = t.replace(symbol, words)
    t = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", t)
    t = _NUMBER.sub(_spell_number, t)
    t = t.lower()
    for ch in _DASHES:
        t = t.replace(ch, " ")
    # recogniser transcripts mark sentence edges and noises: <s> </s> [noise]
    t = re.sub(r"<[^>]*>|\[[^\]]*\]", " ", t)
    t = re.sub(r"[^a-z' ]+", " ", t)
    words = []
    for word in t.split():
        word = word.strip("'")
        if word:
            words.append(word)
    return words
