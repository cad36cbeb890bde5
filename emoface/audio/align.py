"""Phone timings from recorded speech with pocketsphinx: forced alignment to a transcript,
or a phone loop (free phone recognition) when there is none.

Alignment is a two-pass Viterbi over the transcript's pronunciation (words missing from
CMUdict get one from espeak-ng's letter-to-sound rules). Its memory grows faster than
linearly with length (measured: 0.2 GB for 50 s, 2.3 GB for 5 min), so audio longer than
``MAX_DIRECT_SECONDS`` is aligned in overlapping windows: each window ends at a pause,
gets the words its speech time predicts, and only the words well before its end are
kept; the next window starts at the last kept word, so an error in the word estimate
never accumulates. The phone loop skips silence with an energy gate and decodes the
speech in chunks cut at pauses, which bounds both time and memory.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from . import espeak
from .activity import FRAME_SECONDS, frame_levels_dbfs, mask_runs, speech_activity
from .io import SAMPLE_RATE
from .phones import PHONE_SET, SILENCE, Phone
from .prosody import analyse
from .transcript import normalize_transcript

log = logging.getLogger(__name__)

METHOD_ALIGNMENT = "alignment"
METHOD_PHONE_LOOP = "phone_loop"
METHOD_SILENCE = "silence"

MAX_DIRECT_SECONDS = 45.0     # align in one pass up to this long (about 0.2 GB)
WINDOW_SECONDS = 40.0         # target window length for long audio
COMMIT_FRACTION = 0.7         # keep the words in the first 70% of each window
PHONE_LOOP_CHUNK_SECONDS = 30.0
_CHUNK_MARGIN_SECONDS = 0.1   # silence kept around a chunk so its edges decode as SIL

_ALIGN_BEAMS = {"beam": 1e-60, "wbeam": 1e-40, "pbeam": 1e-60}
_WIDE_BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}
_FRAME = 0.01                 # pocketsphinx frames are 10 ms

# A transcript that does not fit the audio (another sentence, a word of it, a part of it,
# too much of it) still aligns, badly: the bounds below, chosen on correct and wrong
# transcripts (docs/hardening.md), send it to the phone loop instead.
# Bounds on the measures of a forced alignment (docs/hardening.md has the validation).
# The acoustic score depends on the voice as much as on the words (correct transcripts:
# real voices -15 to -4 per frame, espeak-ng -45 to -23, wrong ones of real voices -77 to
# -20), so on its own it only rejects what no voice scores; between the two bounds it
# counts when a second measure is also off.
MIN_SCORE_PER_FRAME = -50.0   # alone
DOUBTFUL_SCORE = -25.0        # with one of the doubtful measures below
MIN_EXPLAINED = 0.6           # correct: at least 0.60 of the speech inside words
DOUBTFUL_EXPLAINED = 0.75
MIN_PHONES_PER_SECOND = 4.0   # correct: 5.9 to 14.6
MAX_PHONES_PER_SECOND = 25.0
DOUBTFUL_RATE = (5.0, 18.0)
MAX_SQUEEZED = 0.35           # correct: at most 0.24 of the phones at 30 ms
DOUBTFUL_SQUEEZED = 0.2
MAX_PHONE_SECONDS = 1.0       # correct: at most 0.74 s
_MIN_PHONE_SECONDS = 0.03     # three HMM states, one frame each
_VOICING_REACH = 15           # frames (150 ms): unvoiced consonants beside voiced sounds


@dataclass
class Fit:
    """How well a forced alignment explains the audio (see :func:`transcript_fit`)."""

    rate: float            # transcript phones per second of speech (energy gate)
    explained: float       # share of the speech frames that fall inside aligned words
    squeezed: float        # share of the word phones held at the 30 ms minimum
    longest: float         # seconds of the longest word phone
    score: float | None    # pocketsphinx's acoustic score per frame (0 best, lower worse)

    def problem(self) -> str:
        """Why the transcript does not fit the audio, or "" when it fits."""
        if self.score is not None and self.score < MIN_SCORE_PER_FRAME:
            return f"low alignment confidence, {self.score:.0f} per frame"
        doubts = [why for off, why in (
            (self.explained < DOUBTFUL_EXPLAINED, f"words cover {self.explained:.0%} of the speech"),
            (self.squeezed > DOUBTFUL_SQUEEZED, f"{self.squeezed:.0%} of phones squeezed"),
            (not DOUBTFUL_RATE[0] <= self.rate <= DOUBTFUL_RATE[1],
             f"{self.rate:.1f} phones per second")) if off]
        if self.score is not None and self.score < DOUBTFUL_SCORE and doubts:
            return f"low alignment confidence, {self.score:.0f} per frame, and {doubts[0]}"
        if self.explained < MIN_EXPLAINED:
            return f"its words cover only {self.explained:.0%} of the speech"
        if self.rate < MIN_PHONES_PER_SECOND:
            return f"{self.rate:.1f} phones per second of speech is too slow to be real"
        if self.rate > MAX_PHONES_PER_SECOND:
            return f"{self.rate:.1f} phones per second of speech is too fast to be real"
        if self.squeezed > MAX_SQUEEZED:
            return f"{self.squeezed:.0%} of its phones are squeezed to the shortest duration"
        if self.longest > MAX_PHONE_SECONDS:
            return f"one phone is stretched over {self.longest:.1f} s of speech"
        return ""

    def as_dict(self) -> dict:
        return {"rate": round(self.rate, 2), "explained": round(self.explained, 3),
                "squeezed": round(self.squeezed, 3), "longest": round(self.longest, 2),
                "score": None if self.score is None else round(self.score, 2)}


@dataclass
class Alignment:
    """Timed phones and how they were obtained: ``method`` is "alignment", "phone_loop"
    or "silence"; ``note`` says what went wrong or was retried, if anything;
    ``dropped`` says why a transcript was given but not used (it did not fit the audio),
    and ``fit`` holds the measures that decided it, when alignment got that far."""

    phones: list[Phone]
    method: str
    note: str = ""
    words: list[str] = field(default_factory=list)
    dropped: str = ""
    fit: Fit | None = None


class _Decoders:
    """The decoders of one top-level call, each behind its own lock.

    pocketsphinx carries state from one utterance to the next (its feature normalisation
    adapts), so a decoder reused across calls makes an alignment depend on what was
    aligned before. Every :func:`align_detailed` / :func:`phone_loop_detailed` call gets
    fresh decoders (about 0.3 s to load), shared by the windows of one long file."""

    def __init__(self) -> None:
        self.align_lock = threading.Lock()
        self.loop_lock = threading.Lock()
        self._aligner = None
        self._wide_aligner = None
        self._loop = None

    def aligner(self, wide: bool = False):
        from pocketsphinx import Decoder
        if wide:
            if self._wide_aligner is None:
                self._wide_aligner = Decoder(samprate=SAMPLE_RATE, bestpath=False,
                                             loglevel="FATAL", **_WIDE_BEAMS)
            return self._wide_aligner
        if self._aligner is None:
            self._aligner = Decoder(samprate=SAMPLE_RATE, bestpath=False, loglevel="FATAL",
                                    **_ALIGN_BEAMS)
        return self._aligner

    def phone_loop(self):
        from pocketsphinx import Decoder, get_model_path
        if self._loop is None:
            self._loop = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", lm=None,
                                 allphone=get_model_path("en-us/en-us-phone.lm.bin"),
                                 bestpath=False, lw=2.0, pip=0.3, beam=1e-20, pbeam=1e-20)
        return self._loop


_CURRENT: contextvars.ContextVar[_Decoders | None] = contextvars.ContextVar(
    "emoface_decoders", default=None)


def _decoders_now() -> _Decoders:
    current = _CURRENT.get()
    return current if current is not None else _Decoders()


@contextlib.contextmanager
def _fresh_decoders():
    """Fresh decoders for the duration of one top-level call (nested calls share them)."""
    if _CURRENT.get() is not None:
        yield
        return
    token = _CURRENT.set(_Decoders())
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _pcm16(samples: np.ndarray) -> bytes:
    x = np.asarray(samples, dtype=np.float32)
    return np.clip(np.rint(x * 32767.0), -32768, 32767).astype(np.int16).tobytes()


def _all_silence(duration: float) -> list[Phone]:
    return [Phone(0.0, duration, SILENCE, "", "")] if duration > 0 else []


# ---------------------------------------------------------------- pronunciations

def _ensure_pronunciations(decoder, words: list[str]) -> dict[str, int]:
    """Phone count of every word, adding espeak pronunciations for words CMUdict lacks.
    Raises LookupError naming a word no pronunciation could be found for."""
    counts: dict[str, int] = {}
    for word in dict.fromkeys(words):
        pron = decoder.lookup_word(word)
        if pron is None:
            pron = _guess_pronunciation(word)
            if not pron:
                raise LookupError(f"no pronunciation for {word!r}")
            decoder.add_word(word, pron, True)
        counts[word] = len(pron.split())
    return counts


def _guess_pronunciation(word: str) -> str:
    try:
        phones = [p for p in espeak.phonemize(word.replace("'", "")) if p in PHONE_SET
                  and p != SILENCE]
    except UserError as exc:  # espeak-ng missing: the caller falls back to the phone loop
        log.warning("cannot pronounce %r: %s", word, exc)
        return ""
    return " ".join(phones)


# ---------------------------------------------------------------- forced alignment

@dataclass
class _Pass:
    """One successful forced alignment: its phones and each word's (start, end)."""

    phones: list[Phone]
    spans: list[tuple[float, float]]
    score: float = 0.0    # pocketsphinx's acoustic score summed over the aligned frames
    frames: int = 0

    def shifted(self, offset: float) -> _Pass:
        return _Pass(_shift(self.phones, offset), [(a + offset, b + offset) for a, b in self.spans],
                     self.score, self.frames)


def _align_pass(decoder, samples: np.ndarray, words: list[str]) -> _Pass | None:
    """One forced alignment of ``words`` to ``samples``; times relative to samples[0]."""
    pcm = _pcm16(samples)
    try:
        decoder.set_align_text(" ".join(words))
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return None
        decoder.set_alignment()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        alignment = decoder.get_alignment()
        if alignment is None:
            return None
        phones: list[Phone] = []
        spans: list[tuple[float, float]] = []
        names: list[str] = []
        score, frames = 0.0, 0
        for entry in alignment:
            score += entry.score
            frames += entry.duration
            word = _word_name(entry.name)
            if word is not None:
                names.append(word)
                spans.append((entry.start * _FRAME, (entry.start + entry.duration) * _FRAME))
            for ph in entry:
                start, end = ph.start * _FRAME, (ph.start + ph.duration) * _FRAME
                name = ph.name.upper()
                if word is None or name not in PHONE_SET:
                    phones.append(Phone(start, end, SILENCE, ph.name, ""))
                else:
                    phones.append(Phone(start, end, name, ph.name, word))
    except (RuntimeError, ValueError) as exc:
        log.debug("alignment pass failed: %s", exc)
        return None
    if names != words:
        return None
    return _Pass(phones, spans, score, frames)


def _word_name(name: str) -> str | None:
    """Dictionary word without its variant number; None for silences and fillers."""
    if name.startswith(("<", "[", "+")) or name in ("SIL", "sil"):
        return None
    return name.split("(", 1)[0]


def _align_window(samples: np.ndarray, words: list[str]) -> tuple[_Pass | None, str]:
    """Align with the standard beams, then retry on speech-trimmed audio with wider beams."""
    with _decoders_now().align_lock:
        decoder = _decoders_now().aligner()
        _ensure_pronunciations(decoder, words)
        result = _align_pass(decoder, samples, words)
    if result is not None:
        return result, ""
    offset, trimmed = _trim_to_speech(samples)
    with _decoders_now().align_lock:
        decoder = _decoders_now().aligner(wide=True)
        _ensure_pronunciations(decoder, words)
        result = _align_pass(decoder, trimmed, words)
    if result is None:
        return None, "alignment failed even with wider beams on speech-trimmed audio"
    return result.shifted(offset), "retried with wider beams on speech-trimmed audio"


def _trim_to_speech(samples: np.ndarray) -> tuple[float, np.ndarray]:
    active = speech_activity(samples)
    if not active.any():
        return 0.0, samples
    hop = int(FRAME_SECONDS * SAMPLE_RATE)
    first = max(0, int(np.argmax(active)) - 20)
    last = min(len(active), len(active) - int(np.argmax(active[::-1])) + 20)
    return first * FRAME_SECONDS, samples[first * hop:last * hop]


def _shift(phones: list[Phone], offset: float) -> list[Phone]:
    if offset == 0:
        return phones
    return [Phone(p.start + offset, p.end + offset, p.phone, p.label, p.word) for p in phones]


def _cover(phones: list[Phone], start: float, end: float) -> list[Phone]:
    """Clip to [start, end], fill gaps with SIL and merge neighbouring silences, so the
    phones tile the interval exactly."""
    out: list[Phone] = []
    cursor = start
    for p in sorted(phones, key=lambda q: q.start):
        a, b = max(p.start, cursor), min(p.end, end)
        if b <= a:
            continue
        if a > cursor + 1e-9:
            out.append(Phone(cursor, a, SILENCE, "", ""))
        out.append(Phone(a, b, p.phone, p.label, p.word))
        cursor = b
    if end > cursor + 1e-9:
        out.append(Phone(cursor, end, SILENCE, "", ""))
    merged: list[Phone] = []
    for p in out:
        if merged and p.is_silence and merged[-1].is_silence:
            merged[-1] = Phone(merged[-1].start, p.end, SILENCE, merged[-1].label, "")
        else:
            merged.append(p)
    return merged


def align(samples: np.ndarray, text: str) -> list[Phone]:
    """Phones of 16 kHz mono ``samples`` aligned to the transcript ``text`` (falling back
    to the phone loop when alignment fails; see :func:`align_detailed` for which)."""
    return align_detailed(samples, text).phones


def align_detailed(samples: np.ndarray, text: str) -> Alignment:
    """Like :func:`align`, also telling the method used and why."""
    with _fresh_decoders():
        return _align_detailed(samples, text)


def _align_detailed(samples: np.ndarray, text: str) -> Alignment:
    x = np.asarray(samples, dtype=np.float32)
    duration = len(x) / SAMPLE_RATE
    words = normalize_transcript(text)
    if not words:
        result = phone_loop_detailed(x)
        result.note = "the transcript has no words; " + result.note
        result.dropped = "it has no words"
        return result
    if not speech_activity(x).any():
        return Alignment(_all_silence(duration), METHOD_SILENCE, "no speech in the audio", words)
    try:
        if duration <= MAX_DIRECT_SECONDS:
            result, note = _align_window(x, words)
            if result is None:
                return _fall_back(x, words, f"alignment failed ({note})",
                                  "the aligner could not place its words in the speech")
            aligned = Alignment(_cover(result.phones, 0.0, duration), METHOD_ALIGNMENT, note,
                                words)
            score = result.score / result.frames if result.frames else None
        else:
            aligned, score = _align_long(x, words)
            if aligned.method != METHOD_ALIGNMENT:
                aligned.dropped = "the aligner could not place its words in the speech"
                return aligned
    except LookupError as exc:
        return _fall_back(x, words, f"alignment failed ({exc})", str(exc))
    aligned.fit = transcript_fit(x, aligned.phones, score)
    problem = aligned.fit.problem()
    if problem:
        result = _fall_back(x, words, f"the transcript does not fit the audio ({problem})",
                            problem)
        result.fit = aligned.fit
        return result
    return aligned


def _fall_back(x: np.ndarray, words: list[str], why: str, dropped: str) -> Alignment:
    result = phone_loop_detailed(x)
    result.note = f"{why}; used the phone loop"
    result.words = words
    result.dropped = dropped
    return result


# ---------------------------------------------------------------- does the transcript fit?

def transcript_fit(samples: np.ndarray, phones: list[Phone],
                   score: float | None = None) -> Fit:
    """Measures of how well aligned ``phones`` explain ``samples``: the speaking rate they
    imply, the share of the speech inside words, phones squeezed to the minimum duration
    or stretched long, and ``score``, pocketsphinx's acoustic score per frame."""
    # Speech is where the energy gate opens near voicing: the gate alone also opens on a
    # steady background (GRID's studio noise reads as 3 s of speech around 1.5 s of words).
    active = speech_activity(samples)
    voiced = analyse(samples).voiced[:len(active)]
    near = np.convolve(np.pad(voiced, (0, len(active) - len(voiced))).astype(np.float32),
                       np.ones(2 * _VOICING_REACH + 1, np.float32), mode="same") > 0
    active &= near
    speech_frames = int(active.sum())
    word_phones = [p for p in phones if p.word and not p.is_silence]
    inside = np.zeros(len(active), bool)
    for p in word_phones:
        inside[int(round(p.start / FRAME_SECONDS)):int(round(p.end / FRAME_SECONDS))] = True
    durations = np.array([p.duration for p in word_phones], np.float64)
    return Fit(
        rate=len(word_phones) / max(speech_frames * FRAME_SECONDS, 1e-3),
        explained=float((active & inside).sum()) / max(speech_frames, 1),
        squeezed=float(np.mean(durations <= _MIN_PHONE_SECONDS + 1e-6)) if len(durations) else 1.0,
        longest=float(durations.max()) if len(durations) else 0.0,
        score=score)


# ---------------------------------------------------------------- long audio

def _quietest_point(x: np.ndarray, low: float, high: float) -> float:
    """Time in [low, high] at the centre of the quietest 200 ms: a pause if there is one."""
    a, b = int(low * SAMPLE_RATE), int(high * SAMPLE_RATE)
    levels = frame_levels_dbfs(x[a:b])
    width = 20
    if len(levels) <= width:
        return 0.5 * (low + high)
    smooth = np.convolve(levels, np.ones(width) / width, mode="valid")
    return low + (int(np.argmin(smooth)) + width / 2) * FRAME_SECONDS


# Forced alignment fails outright when given more words than the audio holds, but
# copes with too few (the last ones stretch); so the estimate is shaded down, and cut
# further on each failure.
_WORD_ESTIMATE_FACTORS = (0.92, 0.82, 0.7)


def _align_long(x: np.ndarray, words: list[str]) -> tuple[Alignment, float | None]:
    duration = len(x) / SAMPLE_RATE
    active = speech_activity(x)
    with _decoders_now().align_lock:
        counts = _ensure_pronunciations(_decoders_now().aligner(), words)
    phone_counts = np.array([counts[w] for w in words], dtype=np.float64)
    cumulative_speech = np.concatenate([[0.0], np.cumsum(active) * FRAME_SECONDS])
    phones_per_second = phone_counts.sum() / max(cumulative_speech[-1], 1e-3)

    def speech_between(a: float, b: float) -> float:
        ia = int(np.clip(a / FRAME_SECONDS, 0, len(active)))
        ib = int(np.clip(b / FRAME_SECONDS, 0, len(active)))
        return float(cumulative_speech[ib] - cumulative_speech[ia])

    kept: list[Phone] = []
    start, first_word = 0.0, 0
    windows = fallbacks = 0
    notes: list[str] = []
    score, frames = 0.0, 0
    while first_word < len(words):
        windows += 1
        if duration - start <= MAX_DIRECT_SECONDS:
            end = duration
            attempts = [len(words)]
        else:
            end = _quietest_point(x, start + 0.75 * WINDOW_SECONDS, start + 1.1 * WINDOW_SECONDS)
            reach = np.cumsum(phone_counts[first_word:])
            expected = speech_between(start, end) * phones_per_second
            attempts = [int(np.clip(first_word + np.searchsorted(reach, f * expected) + 1,
                                    first_word + 1, len(words)))
                        for f in _WORD_ESTIMATE_FACTORS]
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        result = None
        for last_word in dict.fromkeys(attempts):
            result, note = _align_window(x[a:b], words[first_word:last_word])
            if result is not None:
                break
        if result is None:
            fallbacks += 1
            notes.append(note)
            kept.extend(_shift(phone_loop_detailed(x[a:b]).phones, start))
            start, first_word = end, attempts[0]
            continue
        if note:
            notes.append(note)
        score, frames = score + result.score, frames + result.frames
        result = result.shifted(start)
        if end >= duration:
            kept.extend(result.phones)
            break
        n_keep, cut = _commit_point(result.spans, start + COMMIT_FRACTION * (end - start))
        kept.extend(p for p in result.phones if p.end <= cut + 1e-9)
        start, first_word = cut, first_word + n_keep
    note = f"aligned in {windows} windows"
    if fallbacks:
        note += f"; {fallbacks} fell back to the phone loop"
    if notes:
        note += "; " + "; ".join(sorted(set(notes)))
    method = METHOD_ALIGNMENT if fallbacks < windows else METHOD_PHONE_LOOP
    return (Alignment(_cover(kept, 0.0, duration), method, note, words),
            score / frames if frames else None)


def _commit_point(spans: list[tuple[float, float]], limit: float) -> tuple[int, float]:
    """How many words to keep and where the next window starts: at the widest pause
    between words that ends by ``limit`` (among the last few), else the last boundary."""
    best_k, best_gap, best_cut = 1, -1.0, spans[0][1] if spans else limit
    for k in range(1, len(spans)):
        gap_start, gap_end = spans[k - 1][1], spans[k][0]
        if gap_end > limit:
            break
        # prefer late cuts: a pause counts for more the nearer it is to the limit
        score = (gap_end - gap_start) + 0.02 * (gap_end - limit)
        if score > best_gap:
            best_k, best_gap, best_cut = k, score, 0.5 * (gap_start + gap_end)
    return best_k, best_cut


# ---------------------------------------------------------------- phone loop

def phone_loop(samples: np.ndarray) -> list[Phone]:
    """Phones recognised without a transcript (pocketsphinx allphone search)."""
    return phone_loop_detailed(samples).phones


def phone_loop_detailed(samples: np.ndarray) -> Alignment:
    """The phone loop with the method and a note (see :func:`phone_loop`)."""
    with _fresh_decoders():
        return _phone_loop_detailed(samples)


def _phone_loop_detailed(samples: np.ndarray) -> Alignment:
    x = np.asarray(samples, dtype=np.float32)
    duration = len(x) / SAMPLE_RATE
    active = speech_activity(x)
    if not active.any():
        return Alignment(_all_silence(duration), METHOD_SILENCE, "no speech in the audio")
    phones: list[Phone] = []
    for a, b in _phone_loop_chunks(x, active):
        piece = x[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]
        phones.extend(_shift(_decode_phones(piece), a))
    return Alignment(_cover(phones, 0.0, duration), METHOD_PHONE_LOOP, "")


def _phone_loop_chunks(x: np.ndarray, active: np.ndarray) -> list[tuple[float, float]]:
    """Stretches of speech (with a little silence around) of at most
    PHONE_LOOP_CHUNK_SECONDS, cut at pauses, or at the quietest frame when a stretch runs
    on without a pause."""
    duration = len(x) / SAMPLE_RATE
    margin = _CHUNK_MARGIN_SECONDS
    chunks: list[tuple[float, float]] = []
    for a, b in mask_runs(active):
        start, end = max(0.0, a * FRAME_SECONDS - margin), min(duration, b * FRAME_SECONDS + margin)
        if chunks and end - chunks[-1][0] <= PHONE_LOOP_CHUNK_SECONDS:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
    out: list[tuple[float, float]] = []
    for start, end in chunks:
        while end - start > PHONE_LOOP_CHUNK_SECONDS:
            lo, hi = start + 0.66 * PHONE_LOOP_CHUNK_SECONDS, start + PHONE_LOOP_CHUNK_SECONDS
            seg = x[int(lo * SAMPLE_RATE):int(hi * SAMPLE_RATE)]
            cut = lo + int(np.argmin(frame_levels_dbfs(seg))) * FRAME_SECONDS
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


def _decode_phones(samples: np.ndarray) -> list[Phone]:
    with _decoders_now().loop_lock:
        decoder = _decoders_now().phone_loop()
        decoder.start_utt()
        decoder.process_raw(_pcm16(samples), full_utt=True)
        decoder.end_utt()
        segments = [(s.word, s.start_frame, s.end_frame) for s in decoder.seg()]
    phones = []
    for name, first, last in segments:
        label = name.upper()
        phone = label if label in PHONE_SET else SILENCE
        phones.append(Phone(first * _FRAME, (last + 1) * _FRAME, phone, name, ""))
    return phones
