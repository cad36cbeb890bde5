"""The text branch's inputs on the frame grid (numpy only, so data builds need no torch):
the words' MiniLM vectors with their timing, and the voice's pitch, voicing and loudness
with the emotion amounts (:mod:`.text_branch` reads them)."""
from __future__ import annotations

import numpy as np

from ...text.embeddings import FEATURE_DIM, frame_features
from ...text.words import TimedWord

N_TIMING = 6                 # inside the word: flag, since onset, to end, progress; after it
REACH_S = 1.0                # how long after a word's onset its timing is marked
TEXT_INPUTS = FEATURE_DIM + N_TIMING
AUDIO_INPUTS = 3 + 8         # f0 (semitones re 100 Hz / 12), voiced, loudness; amounts
HEAD_SCALE = 0.1             # radians per output unit: head and weights train on one scale


def timing_features(words: list[TimedWord], n: int, fps: float) -> np.ndarray:
    """(n, 6) where each frame stands to the words: inside a word 1, seconds since its
    onset and to its end, how far through it; and for up to :data:`REACH_S` after a word
    (until the next one), seconds since that word's onset and since its end, so what the
    face does after a word (a shake, a fading brow) knows its phase. Zeros far from words
    and everywhere without words."""
    out = np.zeros((n, N_TIMING), np.float32)
    t = np.arange(n) / fps
    for k, w in enumerate(words):
        inside = (t >= w.start) & (t < w.end)
        length = max(w.end - w.start, 1e-3)
        out[inside, 0] = 1.0
        out[inside, 1] = t[inside] - w.start
        out[inside, 2] = w.end - t[inside]
        out[inside, 3] = (t[inside] - w.start) / length
        until = min(w.start + REACH_S, words[k + 1].start if k + 1 < len(words) else np.inf)
        after_onset = (t >= w.start) & (t < until)
        out[after_onset, 4] = t[after_onset] - w.start
        after_end = (t >= w.end) & (t < until)
        out[after_end, 5] = t[after_end] - w.end
    return out


def audio_features(prosody, amounts: np.ndarray, fps: float) -> np.ndarray:
    """(n, 11): the voice's pitch (semitones re 100 Hz / 12, 0 unvoiced), voicing and
    loudness at the frame times, then the emotion amounts (n, 8)."""
    n = len(amounts)
    t = np.arange(n) / fps
    times = np.asarray(prosody.times, np.float64)
    f0 = np.asarray(prosody.f0, np.float64)
    voiced = np.asarray(prosody.voiced, np.float64)
    loud = np.asarray(prosody.loudness, np.float64)
    if len(times) == 0:
        voice = np.zeros((n, 3))
    else:
        # nearest prosody frame (interpolating f0 across unvoiced gaps would invent pitch)
        k = np.clip(np.searchsorted(times, t), 0, len(times) - 1)
        semis = np.where(f0[k] > 0, 12.0 * np.log2(np.maximum(f0[k], 1e-3) / 100.0), 0.0)
        voice = np.stack([semis / 12.0, voiced[k], loud[k]], 1)
    return np.concatenate([voice, amounts], 1).astype(np.float32)


def text_features(words: list[TimedWord], text: str | None, n: int, fps: float) -> np.ndarray:
    """(n, TEXT_INPUTS): MiniLM word and sentence vectors on the frame grid, then timing."""
    return np.concatenate([frame_features(words, text, n, fps), timing_features(words, n, fps)], 1)
