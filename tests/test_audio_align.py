"""Forced alignment and the phone loop (pocketsphinx) on real read speech."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import need

from emoface.audio import align as align_module
from emoface.audio.align import (
    METHOD_ALIGNMENT,
    METHOD_PHONE_LOOP,
    METHOD_SILENCE,
    align,
    align_detailed,
    phone_loop,
    phone_loop_detailed,
)
from emoface.audio.io import load_audio
from emoface.audio.phones import PHONE_SET
from emoface.audio.transcript import normalize_transcript

LIBRIVOX = "speech/librivox"


def _librivox(shared_data):
    folder = need(shared_data / LIBRIVOX)
    clips = []
    for line in (folder / "transcription").read_text().splitlines():
        text, _, name = line.rpartition("(")
        clips.append((folder / f"{name.strip(' )')}.wav", text))
    return clips


def _check_tiling(phones, duration):
    assert phones[0].start == 0 and phones[-1].end == pytest.approx(duration, abs=1e-6)
    for a, b in itertools.pairwise(phones):
        assert a.end == pytest.approx(b.start, abs=1e-9)
    assert all(p.end > p.start and p.phone in PHONE_SET for p in phones)


def _words(phones):
    """Word sequence: a new word starts at each word change or after a silence."""
    out, previous = [], None
    for p in phones:
        if p.word and (previous is None or previous.word != p.word or previous.is_silence):
            out.append(p.word)
        previous = p
    return out


@pytest.fixture(scope="module")
def librivox(shared_data):
    return [(load_audio(path), text) for path, text in _librivox(shared_data)]


def test_librivox_clips_align_to_their_words(librivox):
    for samples, text in librivox:
        result = align_detailed(samples, text)
        assert result.method == METHOD_ALIGNMENT, result.note
        _check_tiling(result.phones, len(samples) / 16000)
        assert _words(result.phones) == normalize_transcript(text)
        spoken = [p for p in result.phones if not p.is_silence]
        # 10 ms frames; every HMM phone has at least 3 states, so 30 ms at least
        assert min(p.duration for p in spoken) >= 0.03 - 1e-9
        assert max(p.duration for p in spoken) < 0.6
        # the reader starts after a short lead-in and the clip ends with silence
        assert result.phones[0].is_silence and result.phones[-1].is_silence


def test_alignment_phones_sit_on_voiced_audio(librivox):
    """Vowels fall on louder audio than silences: the boundaries are where the sound is."""
    samples, text = librivox[0]
    phones = align(samples, text)
    level = lambda p: np.sqrt(np.mean(samples[int(p.start * 16000):int(p.end * 16000)] ** 2))
    vowels = [level(p) for p in phones if p.phone in ("AA", "AE", "AH", "AO", "AW", "AY",
                                                      "EH", "IY", "OW", "UW")]
    silences = [level(p) for p in phones if p.is_silence and p.duration >= 0.1]
    assert np.median(vowels) > 10 * np.median(silences)


def test_out_of_dictionary_words_still_align(librivox):
    samples, _ = librivox[1]  # "he was not an ill disposed young man"
    result = align_detailed(samples, "He wuzz nott an ill-dispoazed 1 man!")
    assert result.method == METHOD_ALIGNMENT, result.note
    assert _words(result.phones) == ["he", "wuzz", "nott", "an", "ill", "dispoazed", "one",
                                     "man"]
    assert [p.phone for p in result.phones if p.word == "dispoazed"][:4] == ["D", "IH", "S", "P"]


def test_a_transcript_with_a_typo_still_fits(librivox):
    samples, _ = librivox[1]
    result = align_detailed(samples, "he was not an ill disposd young man")
    assert result.method == METHOD_ALIGNMENT and not result.dropped, result.note


def test_the_wrong_sentence_does_not_fit(librivox):
    samples, _ = librivox[1]
    result = align_detailed(samples, "the quick brown fox jumps over the lazy dog")
    assert result.method == METHOD_PHONE_LOOP and result.dropped
    assert "does not fit the audio" in result.note or "alignment failed" in result.note
    _check_tiling(result.phones, len(samples) / 16000)


def test_long_audio_is_aligned_in_windows(librivox, monkeypatch):
    """Windowed alignment (forced here by a short limit) agrees with clip-by-clip alignment."""
    monkeypatch.setattr(align_module, "MAX_DIRECT_SECONDS", 9.0)
    monkeypatch.setattr(align_module, "WINDOW_SECONDS", 8.0)
    samples = np.concatenate([s for s, _ in librivox])
    text = " ".join(t for _, t in librivox)
    result = align_detailed(samples, text)
    assert result.method == METHOD_ALIGNMENT and "windows" in result.note
    assert "phone loop" not in result.note
    _check_tiling(result.phones, len(samples) / 16000)
    assert _words(result.phones) == normalize_transcript(text)
    # word starts agree with aligning each clip on its own
    reference, offset = [], 0.0
    for clip, clip_text in librivox:
        reference += [p.start + offset for p in align(clip, clip_text)
                      if p.word and not p.is_silence]
        offset += len(clip) / 16000
    joined = [p.start for p in result.phones if p.word]
    assert len(joined) == len(reference)
    assert np.median(np.abs(np.array(joined) - reference)) < 0.02


def test_transcript_that_does_not_fit_falls_back(librivox):
    samples, _ = librivox[1]
    much_too_long = " ".join(["constantinople"] * 60)
    result = align_detailed(samples, much_too_long)
    assert result.method == METHOD_PHONE_LOOP and "alignment failed" in result.note
    _check_tiling(result.phones, len(samples) / 16000)


def test_empty_transcript_uses_the_phone_loop(librivox):
    samples, _ = librivox[1]
    result = align_detailed(samples, " ... !? ")
    assert result.method == METHOD_PHONE_LOOP


def test_phone_loop_on_speech(librivox):
    samples, _ = librivox[0]
    phones = phone_loop(samples)
    _check_tiling(phones, len(samples) / 16000)
    spoken = [p for p in phones if not p.is_silence]
    assert len(spoken) > 40 and {"M", "N", "D"} <= {p.phone for p in spoken}


def test_phone_loop_on_silence_is_quick_and_silent():
    ten_minutes = np.zeros(16000 * 600, np.float32)
    result = phone_loop_detailed(ten_minutes)
    assert result.method == METHOD_SILENCE
    assert [(p.start, p.end, p.phone) for p in result.phones] == [(0.0, 600.0, "SIL")]
    assert align_detailed(ten_minutes[:16000 * 5], "hello there").method == METHOD_SILENCE


def test_phone_loop_skips_pauses_and_chunks(librivox, monkeypatch):
    """Speech separated by long silence: silence stays SIL, speech on both sides decoded."""
    monkeypatch.setattr(align_module, "PHONE_LOOP_CHUNK_SECONDS", 4.0)
    a, b = librivox[1][0], librivox[4][0]
    gap = np.zeros(16000 * 20, np.float32)
    samples = np.concatenate([a, gap, b])
    phones = phone_loop(samples)
    _check_tiling(phones, len(samples) / 16000)
    in_gap = [p for p in phones if p.start >= len(a) / 16000 + 0.5
              and p.end <= (len(a) + len(gap)) / 16000 - 0.5]
    assert in_gap == [] or all(p.is_silence for p in in_gap)
    after = [p for p in phones if p.start > (len(a) + len(gap)) / 16000 and not p.is_silence]
    assert len(after) > 10


@pytest.mark.parametrize("text, words", [
    ("Hello, World!", ["hello", "world"]),
    ("cold-hearted — and selfish", ["cold", "hearted", "and", "selfish"]),
    ("Don’t stop; John's car.", ["don't", "stop", "john's", "car"]),
    ("In 1999 I had 21 cats & 3.5 dogs", ["in", "nineteen", "ninety", "nine", "i", "had",
                                          "twenty", "one", "cats", "and", "three", "point",
                                          "five", "dogs"]),
    ("the 3rd of 2,000", ["the", "third", "of", "two", "thousand"]),
    ("<s> naïve café </s>", ["naive", "cafe"]),
    ("'quoted'", ["quoted"]),
])
def test_normalize_transcript(text, words):
    assert normalize_transcript(text) == words
