"""Emotion control: does an explicit emotion do what it says, and only that?

* content preserved: the same audio animated neutral and in an emotion keeps its mouth
  movement; Pearson r of the two lip-aperture curves (no lag: same audio, same timing);
* the label wins over the voice: speech acted in one emotion, animated with another,
  should show the requested one to the expression classifier (:func:`label_following`);
* intensity is monotonic: the channels an emotion moves move further, in the same
  direction, as its intensity rises (:func:`intensity_monotonic`).

The functions here take animations or per-channel means and know nothing of engines, so
they can be checked on hand-made curves; ``runner.run_control`` feeds them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arkit import ARKIT_NAMES, lip_aperture
from .lipsync import best_lag_correlation

INTENSITIES = (0.25, 0.5, 0.75, 1.0)
# Blinks and gaze come from the seeded nonverbal layer, not from the emotion's expression.
NONVERBAL_PREFIXES = ("eyeBlink", "eyeLook")
EXPRESSIVE = np.array([not n.startswith(NONVERBAL_PREFIXES) for n in ARKIT_NAMES])
# A channel counts as moved by an emotion when its mean at full intensity is this far
# (ARKit weight units) from the neutral animation's; smaller shifts are noise-level.
MIN_CHANGE = 0.02
# Steps smaller than this count as flat, not as falling (float16 weights, resampling).
STEP_TOLERANCE = 0.002


def mouth_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of the lip apertures of two (T, 52) weight arrays of the same audio,
    cut to the shorter; a flat curve against anything gives 0."""
    return best_lag_correlation(lip_aperture(np.asarray(a, np.float64)),
                                lip_aperture(np.asarray(b, np.float64)), 0).r


def content_preserved(neutral: np.ndarray, by_emotion: dict[str, np.ndarray]) -> dict[str, float]:
    """{emotion: mouth-opening r against the neutral animation of the same audio}."""
    return {e: mouth_correlation(neutral, w) for e, w in by_emotion.items()}


def channel_means(weights: np.ndarray) -> np.ndarray:
    """Mean of each of the 52 channels over frames."""
    return np.asarray(weights, np.float64).mean(0)


@dataclass(frozen=True)
class Monotonicity:
    monotonic: int      # (emotion, channel) pairs that rise with intensity
    pairs: int          # pairs judged: channels the emotion moves at full intensity
    failures: list      # [emotion, channel] of each pair that does not

    @property
    def fraction(self) -> float:
        return self.monotonic / self.pairs if self.pairs else float("nan")

    def as_dict(self) -> dict:
        return {"fraction": self.fraction, "monotonic": self.monotonic, "pairs": self.pairs,
                "failures": self.failures}


def intensity_monotonic(neutral: np.ndarray, levels: dict[str, np.ndarray],
                        min_change: float = MIN_CHANGE,
                        tolerance: float = STEP_TOLERANCE) -> Monotonicity:
    """``neutral``: (52,) channel means of the neutral animation; ``levels``: {emotion:
    (L, 52) channel means at rising intensities}. For each emotion, the expressive
    channels whose mean at the highest intensity differs from neutral by ``min_change``
    or more are judged: a pair is monotonic when, signed by that direction, its mean never
    falls by more than ``tolerance`` from one intensity to the next and rises overall
    from the lowest intensity to the highest."""
    neutral = np.asarray(neutral, np.float64)
    good = total = 0
    failures = []
    for emotion, means in levels.items():
        means = np.asarray(means, np.float64)
        shift = means - neutral[None]
        for c in np.flatnonzero(EXPRESSIVE & (np.abs(shift[-1]) >= min_change)):
            d = np.sign(shift[-1, c]) * shift[:, c]
            total += 1
            if np.all(np.diff(d) >= -tolerance) and d[-1] - d[0] > tolerance:
                good += 1
            else:
                failures.append([emotion, ARKIT_NAMES[c]])
    return Monotonicity(good, total, failures)


@dataclass(frozen=True)
class LabelFollowing:
    followed: int       # the classifier saw the requested emotion
    voice: int          # it saw the acted one instead
    total: int

    @property
    def accuracy(self) -> float:
        return self.followed / self.total if self.total else float("nan")

    @property
    def voice_share(self) -> float:
        return self.voice / self.total if self.total else float("nan")


def label_following(rows) -> LabelFollowing:
    """``rows``: (acted, requested, seen by the classifier) with requested != acted."""
    rows = [r for r in rows if r[0] != r[1]]
    return LabelFollowing(sum(r[2] == r[1] for r in rows), sum(r[2] == r[0] for r in rows),
                          len(rows))
