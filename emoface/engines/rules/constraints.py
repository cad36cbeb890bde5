"""Articulatory facts that blending alone cannot guarantee.

Blending gives smooth, plausible mouths, but a 40 ms /p/ between two open vowels may never
quite close, and an expression layered on top (a surprised jaw drop, a disgusted upper
lip) can hold the lips apart. Viewers notice a /p b m/ without closure at once, so after
composing all layers the lips are sealed in every frame that overlaps a bilabial, and
the lower lip is tucked for /f v/. Closure is judged with the rig-independent aperture of
docs/design.md, the same definition the evaluation uses.
"""
from __future__ import annotations

import numpy as np

from ...animation import frames_inside, frames_overlapping
from ...arkit import INDEX
from ...audio.phones import BILABIALS, LABIODENTALS, Phone

J, C = INDEX["jawOpen"], INDEX["mouthClose"]
LOWER = [INDEX["mouthLowerDownLeft"], INDEX["mouthLowerDownRight"]]
UPPER = [INDEX["mouthUpperUpLeft"], INDEX["mouthUpperUpRight"]]
FUNNEL = INDEX["mouthFunnel"]
PRESS = [INDEX["mouthPressLeft"], INDEX["mouthPressRight"]]
ROLL_LOWER = INDEX["mouthRollLower"]


def _seal(w: np.ndarray, strength: float) -> None:
    """Move rows ``w`` (in place) toward sealed lips by ``strength`` in [0, 1]."""
    jaw = w[:, J]
    sealed_jaw = np.minimum(jaw, np.maximum(0.08, 0.6 * jaw))  # the jaw rises into a closure
    target = w.copy()
    target[:, J] = sealed_jaw
    target[:, C] = sealed_jaw
    target[:, LOWER + UPPER] = 0.0
    target[:, FUNNEL] = np.minimum(w[:, FUNNEL], 0.02)
    target[:, PRESS] = np.maximum(w[:, PRESS], 0.15)
    w[:] = (1 - strength) * w + strength * target


def enforce(weights: np.ndarray, phones: list[Phone], fps: float) -> np.ndarray:
    """Apply closure and tuck constraints in place; returns ``weights``."""
    n = len(weights)
    for p in phones:
        if p.phone in BILABIALS:
            frames = frames_inside(p.start, p.end, fps, n)
            rows = weights[frames]
            _seal(rows, 1.0)
            weights[frames] = rows
            # Edge frames overlapping the phone close partly: lips move, they don't jump.
            edge = np.setdiff1d(frames_overlapping(p.start, p.end, fps, n), frames)
            if len(edge):
                rows = weights[edge]
                _seal(rows, 0.6)
                weights[edge] = rows
        elif p.phone in LABIODENTALS:
            frames = frames_inside(p.start, p.end, fps, n)
            weights[frames, ROLL_LOWER] = np.maximum(weights[frames, ROLL_LOWER], 0.45)
            weights[np.ix_(frames, LOWER)] = np.minimum(weights[np.ix_(frames, LOWER)], 0.04)
            weights[frames, J] = np.minimum(weights[frames, J], 0.15)
    # ARKit's mouthClose means "lips together while the jaw is open": never beyond the jaw.
    weights[:, C] = np.minimum(weights[:, C], weights[:, J])
    return weights
