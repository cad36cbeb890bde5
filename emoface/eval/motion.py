"""Motion metrics: jitter, blink rate, diversity (docs/design.md, Evaluation protocol).

Blinks are found by the same detector that calibrated the rules engine on the Live Link
captures (:mod:`emoface.data.livelink_stats`), so a generated blink rate and a captured
one are counted alike.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from ..animation import Animation
from ..data import livelink_stats
from .vertex import vertex_metrics

JITTER_FPS = livelink_stats.JITTER_FPS


def jitter(anim: Animation | np.ndarray, fps: float | None = None) -> float:
    """Mean absolute second difference of the weights over frames and all 52 channels,
    measured at 30 fps (an Animation at another rate is resampled first; a bare (T, 52)
    array is taken as already at 30 fps). ARKit weight units per frame squared."""
    if not isinstance(anim, Animation):
        anim = Animation(np.asarray(anim, np.float32), fps or JITTER_FPS)
    return float(livelink_stats.jitter(anim, JITTER_FPS).mean())


def blink_rate(anim: Animation) -> float:
    """Blinks per minute (:func:`emoface.data.livelink_stats.detect_blinks`)."""
    return float(livelink_stats.blink_rate_per_minute(anim))


def pooled_blink_rate(anims) -> float:
    """Blinks per minute over several takes together (long takes weigh more)."""
    anims = list(anims)
    minutes = sum(a.duration for a in anims) / 60.0
    blinks = sum(len(livelink_stats.detect_blinks(a)) for a in anims)
    return blinks / minutes if minutes > 0 else float("nan")


def diversity(samples, rig=None) -> float:
    """Mean pairwise distance between samples generated for the same input.

    Without a rig: the mean over frames of the L2 distance between two samples' 52-weight
    vectors (ARKit weight units), averaged over all pairs. With a rig: the mean over frames
    and face vertices of the L2 distance between the two meshes, in mm (the MVE of one
    sample against the other). Samples are cut to the shortest; one sample gives 0."""
    weights = [a.weights if isinstance(a, Animation) else np.asarray(a, np.float32)
               for a in samples]
    if len(weights) < 2:
        return 0.0
    n = min(len(w) for w in weights)
    weights = [w[:n] for w in weights]
    distances = []
    for a, b in combinations(weights, 2):
        if rig is None:
            distances.append(float(np.linalg.norm(a.astype(np.float64) - b, axis=1).mean()))
        else:

            distances.append(vertex_metrics(a, b, rig).mve)
    return float(np.mean(distances))
