"""Dominance blending of viseme targets (after Cohen & Massaro 1993).

Every segment (a phone, or half of a diphthong) exerts a dominance over each channel group
that is flat inside the segment and decays exponentially outside it; a channel's value at
time t is the dominance-weighted mean of all targets. Strong segments (bilabials on the
lips, rounded vowels on rounding) pull their neighbours; weak ones (/h/, velars) yield.
Anticipation reaches further than carry-over, as it does in speech.

Evaluation is windowed: only segments within ``REACH`` seconds of a block of frames are
considered, so cost grows linearly with duration (a 20-minute file is fine).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...arkit import INDEX, NUM_BLENDSHAPES
from ...audio.phones import Phone
from .visemes import DOMINANCE, GROUPS, SPREAD, TARGETS, VISEME_INDEX, viseme_of

# Decay widths (seconds) per group: jaw, lips, round, tongue.
BASE_WIDTH = np.array([0.07, 0.045, 0.09, 0.05], np.float32)
ANTICIPATION = 1.35  # upcoming segments reach further back than past ones reach forward
CARRY_OVER = 0.9
REACH = 0.6
BLOCK_FRAMES = 600
REST_PULL = 1e-3  # dominance of the rest pose where no segment reaches
DIPHTHONG_SPLIT = 0.55  # the onset vowel takes this share of a diphthong

_GROUP_CHANNELS = [np.array([INDEX[n] for n in names]) for names in GROUPS.values()]


@dataclass(frozen=True)
class Segments:
    """Viseme segments as parallel arrays (sorted by start)."""

    start: np.ndarray
    end: np.ndarray
    viseme: np.ndarray  # indices into visemes.VISEME_NAMES

    def __len__(self) -> int:
        return len(self.start)


def segments_from_phones(phones: list[Phone]) -> Segments:
    starts, ends, vis = [], [], []
    for p in phones:
        if p.end <= p.start:
            continue
        v = viseme_of(p.phone)
        if isinstance(v, tuple):
            mid = p.start + DIPHTHONG_SPLIT * (p.end - p.start)
            for a, b, name in ((p.start, mid, v[0]), (mid, p.end, v[1])):
                starts.append(a), ends.append(b), vis.append(VISEME_INDEX[name])
        else:
            starts.append(p.start), ends.append(p.end), vis.append(VISEME_INDEX[v])
    order = np.argsort(starts, kind="stable")
    return Segments(np.asarray(starts, np.float64)[order], np.asarray(ends, np.float64)[order],
                    np.asarray(vis, np.int64)[order])


def blend(segments: Segments, times: np.ndarray) -> np.ndarray:
    """Speech channel targets blended at ``times`` -> (len(times), 52) float32.

    Frames with no segment in reach (no phones at all) get the rest pose."""
    out = np.zeros((len(times), NUM_BLENDSHAPES), np.float32)
    rest = TARGETS[VISEME_INDEX["rest"]]
    if len(segments) == 0:
        out[:] = rest
        return out
    reach_end = np.maximum.accumulate(segments.end)  # sorted even if sources overlap phones
    for a in range(0, len(times), BLOCK_FRAMES):
        t = times[a:a + BLOCK_FRAMES]
        lo = np.searchsorted(reach_end, t[0] - REACH)
        hi = np.searchsorted(segments.start, t[-1] + REACH, side="right")
        if hi <= lo:
            out[a:a + len(t)] = rest
            continue
        s = slice(lo, hi)
        out[a:a + len(t)] = _blend_block(segments.start[s], segments.end[s],
                                         segments.viseme[s], t, rest)
    return out


def _blend_block(start, end, vis, t, rest) -> np.ndarray:
    before = start[None, :] - t[:, None]   # > 0: segment still to come (anticipation)
    after = t[:, None] - end[None, :]      # > 0: segment is past (carry-over)
    out = np.tile(rest, (len(t), 1))
    for g, channels in enumerate(_GROUP_CHANNELS):
        width = BASE_WIDTH[g] + SPREAD[vis][None, :]
        dist = np.maximum(0.0, np.maximum(before / ANTICIPATION, after / CARRY_OVER))
        dom = DOMINANCE[vis, g][None, :] * np.exp(-dist / width)
        den = dom.sum(1, keepdims=True)
        num = dom @ TARGETS[vis][:, channels]
        # Far from any segment the rest pose takes over smoothly.
        out[:, channels] = (num + REST_PULL * rest[channels]) / (den + REST_PULL)
    return out
