"""Telling speech from silence with an energy gate, and finding pauses to cut long audio at.

Cheap on purpose (one RMS per 10 ms frame, computed block by block): it decides where the
recognisers need to run at all, and where a long recording can be split without cutting
a word.
"""
from __future__ import annotations

import itertools

import numpy as np

from .io import SAMPLE_RATE

FRAME_SECONDS = 0.01
ABSOLUTE_FLOOR_DBFS = -55.0   # quieter than this is never speech
RELATIVE_RANGE_DB = 35.0      # speech is within this many dB of the recording's loud frames
HANGOVER_SECONDS = 0.15       # keep soft onsets and word-final consonants with their word
MIN_PAUSE_SECONDS = 0.25      # shorter gaps are within speech (stop closures, breaths)
_BLOCK_FRAMES = 6000


def frame_levels_dbfs(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """RMS level of each 10 ms frame in dB re full scale (-120 for digital silence)."""
    hop = round(FRAME_SECONDS * sample_rate)
    n = len(samples) // hop + (1 if len(samples) % hop else 0)
    out = np.empty(n, np.float32)
    for first in range(0, n, _BLOCK_FRAMES):
        last = min(n, first + _BLOCK_FRAMES)
        block = np.asarray(samples[first * hop:last * hop], dtype=np.float32)
        if len(block) < (last - first) * hop:
            block = np.concatenate([block, np.zeros((last - first) * hop - len(block), np.float32)])
        power = np.mean(np.square(block.reshape(last - first, hop), dtype=np.float32), axis=1)
        out[first:last] = 10.0 * np.log10(np.maximum(power, 1e-12))
    return out


def speech_activity(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Boolean speech mask, one entry per 10 ms frame."""
    levels = frame_levels_dbfs(samples, sample_rate)
    if len(levels) == 0:
        return np.zeros(0, bool)
    loud = float(np.percentile(levels, 95))
    gate = max(ABSOLUTE_FLOOR_DBFS, loud - RELATIVE_RANGE_DB)
    active = levels > gate
    return _close_gaps(_dilate(active, round(HANGOVER_SECONDS / FRAME_SECONDS)),
                       round(MIN_PAUSE_SECONDS / FRAME_SECONDS))


def speech_segments(samples: np.ndarray, sample_rate: int = SAMPLE_RATE
                    ) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech; pauses between them are at least
    MIN_PAUSE_SECONDS long."""
    return [(a * FRAME_SECONDS, b * FRAME_SECONDS)
            for a, b in mask_runs(speech_activity(samples, sample_rate))]


def has_speech(samples: np.ndarray, sample_rate: int = SAMPLE_RATE,
               min_seconds: float = 0.1) -> bool:
    """True when at least ``min_seconds`` of the audio passes the gate."""
    return float(speech_activity(samples, sample_rate).sum()) * FRAME_SECONDS >= min_seconds


def mask_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges [a, b) where ``mask`` is True."""
    if not len(mask):
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _dilate(mask: np.ndarray, width: int) -> np.ndarray:
    if width <= 0 or not mask.any():
        return mask
    out = mask.copy()
    for a, b in mask_runs(mask):
        out[max(0, a - width):min(len(mask), b + width)] = True
    return out


def _close_gaps(mask: np.ndarray, min_gap: int) -> np.ndarray:
    out = mask.copy()
    runs = mask_runs(mask)
    for (_, b), (a, _) in itertools.pairwise(runs):
        if a - b < min_gap:
            out[b:a] = True
    return out
