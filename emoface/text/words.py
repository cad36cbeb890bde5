"""The transcript's words on the timeline, and what the written text says about each.

Word times come from the phones' ``word`` field (set by forced alignment and by
espeak-ng); the written transcript adds what the phones lose: sentence and phrase ends
(punctuation), questions, negation, written emphasis (``*word*`` or ``WORD`` in capitals)
and a valence from :mod:`emoface.text.lexicon`. Phones without words (the phone loop, a
dropped transcript) give no words, and then nothing downstream changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..audio.phones import VOWELS, Phone
from ..audio.transcript import normalize_transcript
from . import lexicon

_TOKEN = re.compile(r"\S+")
_PHRASE_END = re.compile(r"[,;:.!?\u2026]+[\"')\]]*$")
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"')\]]*$")
_RESYNC_REACH = 4   # words of the transcript skipped at most to re-find an aligned word


@dataclass(frozen=True)
class Token:
    """One whitespace-separated token of the written transcript (punctuation kept)."""

    text: str
    words: tuple[str, ...]   # its dictionary words ("42" -> forty two)
    sentence: int
    phrase_end: bool          # punctuation after it closes a phrase (, ; : . ! ?)
    sentence_end: bool
    emphasis: bool            # written emphasis: *word*, _word_ or WORD in capitals


@dataclass(frozen=True)
class TimedWord:
    """A spoken word: ``start``/``end`` seconds, its dictionary spelling, and the
    transcript's view of it (``token`` indexes :func:`tokenize`'s list, -1 when the word
    could not be matched to the transcript)."""

    start: float
    end: float
    word: str
    token: int = -1
    sentence: int = 0
    phrase_end: bool = False
    sentence_end: bool = False
    question: str = ""        # "yes_no" or "wh" on every word of a question, else ""
    negation: bool = False
    emphasis: bool = False
    valence: float = 0.0
    stressed_at: float = -1.0   # the middle of its first vowel (where a nod lands)


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    sentence = 0
    for match in _TOKEN.finditer(text or ""):
        raw = match.group()
        words = tuple(normalize_transcript(raw))
        bare = raw.strip("\"'()[]{}.,;:!?\u2026")
        emphasis = ((bare.startswith(("*", "_")) and bare.endswith(("*", "_")) and len(bare) > 2)
                    or (len(bare) > 1 and bare.isalpha() and bare.isupper() and bare != "I"))
        sentence_end = bool(_SENTENCE_END.search(raw))
        out.append(Token(raw, words, sentence, bool(_PHRASE_END.search(raw)), sentence_end,
                         emphasis))
        if sentence_end:
            sentence += 1
    return out


def _question_kinds(tokens: list[Token]) -> dict[int, str]:
    """Sentence index -> "yes_no" or "wh" for sentences ending in a question mark."""
    kinds: dict[int, str] = {}
    for sentence in {t.sentence for t in tokens}:
        members = [t for t in tokens if t.sentence == sentence and t.words]
        if not members or "?" not in members[-1].text:
            continue
        first = members[0].words[0]
        kinds[sentence] = "yes_no" if first in lexicon.AUXILIARIES else "wh"
    return kinds


def _spoken_runs(phones: list[Phone]) -> list[tuple[float, float, str, float]]:
    """(start, end, word label, first-vowel centre) of consecutive phones of one word."""
    runs: list[list] = []
    previous = None
    for p in phones:
        if p.is_silence or not p.word:
            previous = None
            continue
        if previous is not None and p.word == previous.word and abs(p.start - previous.end) < 1e-6:
            runs[-1][1] = p.end
        else:
            runs.append([p.start, p.end, p.word, -1.0])
        if runs[-1][3] < 0 and p.phone in VOWELS:
            runs[-1][3] = p.center
        previous = p
    return [tuple(r) for r in runs]


def _absorb(word: TimedWord, folded: list[str]) -> TimedWord:
    """``word`` also standing for ``folded`` (espeak-ng labels "do not" as one word)."""
    negation = word.negation or any(w in lexicon.NEGATIONS or w.endswith("n't") for w in folded)
    valence = max([word.valence] + [lexicon.VALENCE.get(w, 0.0) for w in folded], key=abs)
    return replace(word, word=" ".join([word.word] + folded), negation=negation, valence=valence)


def timed_words(phones: list[Phone], text: str | None) -> list[TimedWord]:
    """The words of ``text`` where ``phones`` put them. Empty without a transcript or
    when the phones carry no words."""
    if not text:
        return []
    tokens = tokenize(text)
    expected = [(w, i) for i, tok in enumerate(tokens) for w in tok.words]
    questions = _question_kinds(tokens)
    out: list[TimedWord] = []
    k = 0
    for start, end, label, vowel in _spoken_runs(phones):
        spoken = normalize_transcript(label)
        if not spoken:
            continue
        index = -1
        for skip in range(_RESYNC_REACH + 1):
            ahead = [w for w, _ in expected[k + skip:k + skip + len(spoken)]]
            if ahead == spoken:
                index = expected[k + skip][1]
                if skip and out:   # words the phones folded into the previous one
                    out[-1] = _absorb(out[-1], [w for w, _ in expected[k:k + skip]])
                k += skip + len(spoken)
                break
        if index < 0 and k < len(expected):
            # A label that matches nothing near (espeak-ng's text positions can drift
            # after punctuation: "far" came back as "o") is taken as the next word.
            spoken, index = [expected[k][0]], expected[k][1]
            k += 1
        word = " ".join(spoken)
        valence = max((lexicon.VALENCE.get(w, 0.0) for w in spoken), key=abs)
        negation = any(w in lexicon.NEGATIONS or w.endswith("n't") for w in spoken)
        stressed = vowel if vowel >= 0 else 0.5 * (start + end)
        if index < 0:
            out.append(TimedWord(start, end, word, negation=negation, valence=valence,
                                 stressed_at=stressed))
            continue
        tok = tokens[index]
        last_of_token = k >= len(expected) or expected[k][1] != index
        out.append(TimedWord(start, end, word, index, tok.sentence,
                             tok.phrase_end and last_of_token, tok.sentence_end and last_of_token,
                             questions.get(tok.sentence, ""), negation, tok.emphasis, valence,
                             stressed))
    return out
