"""Lip-sync metrics that need no vertex ground truth (docs/design.md, Evaluation protocol).

* bilabial closure rate: the share of /p b m/ phones during which the lips meet at least
  once, i.e. some frame inside the phone (:func:`~emoface.animation.frames_inside`) has
  :func:`~emoface.arkit.lip_aperture` below :data:`~emoface.arkit.LIPS_MEET`;
* mouth-opening correlation: Pearson r between the predicted and reference lip aperture,
  best over lags within +-100 ms, and the lag that gave it;
* viseme accuracy: the share of phones with a clearly visible mouth shape whose centre
  frame shows that shape (closed, lip-on-teeth, rounded, open, spread).

Viseme classes are read from the weights by a few rig-independent rules (see
:func:`viseme_classes`), not by any engine's own viseme table, so an engine cannot score
well merely by reusing that table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..animation import frames_inside
from ..arkit import INDEX, LIPS_MEET, lip_aperture

# ---------------------------------------------------------------- bilabial closure
BILABIALS = frozenset({"P", "B", "M"})


@dataclass(frozen=True)
class ClosureResult:
    closed: int
    total: int
    missed: list = field(default_factory=list)  # (start, end, phone) of each miss

    @property
    def rate(self) -> float:
        """Share of bilabials closed; NaN when there were none to judge."""
        return self.closed / self.total if self.total else float("nan")

    def as_dict(self) -> dict:
        return {"rate": self.rate, "closed": self.closed, "total": self.total,
                "missed": [list(m) for m in self.missed]}


def bilabial_closure(weights: np.ndarray, fps: float, phones) -> ClosureResult:
    """Closure of every /p b m/ in ``phones`` (objects with ``start end phone``)."""
    w = np.asarray(weights)
    aperture = lip_aperture(w)
    closed = total = 0
    missed = []
    for ph in phones:
        if ph.phone not in BILABIALS:
            continue
        total += 1
        frames = frames_inside(ph.start, ph.end, fps, len(w))
        if np.any(aperture[frames] < LIPS_MEET):
            closed += 1
        else:
            missed.append((round(ph.start, 3), round(ph.end, 3), ph.phone))
    return ClosureResult(closed, total, missed)


# ------------------------------------------------------------ mouth-opening correlation
MAX_LAG_S = 0.1


@dataclass(frozen=True)
class LagCorrelation:
    """Best Pearson ``r`` and its ``lag`` in frames; a positive lag means the prediction
    comes late (``pred[t + lag]`` matches ``ref[t]``)."""

    r: float
    lag: int
    fps: float

    @property
    def lag_ms(self) -> float:
        return 1000.0 * self.lag / self.fps

    def as_dict(self) -> dict:
        return {"r": self.r, "lag_frames": self.lag, "lag_ms": self.lag_ms}


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    # A flat curve says nothing about the other one: no linear relation, r = 0.
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


def best_lag_correlation(pred: np.ndarray, ref: np.ndarray, max_lag: int,
                         fps: float = 30.0) -> LagCorrelation:
    """Pearson r of two curves over their overlap at each lag in ``[-max_lag, max_lag]``
    frames; the best r wins, and among equal r the smallest |lag|."""
    p = np.asarray(pred, np.float64).ravel()
    r = np.asarray(ref, np.float64).ravel()
    n = min(len(p), len(r))
    p, r = p[:n], r[:n]
    best = LagCorrelation(0.0, 0, fps)
    best_key = None
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            a, b = p[lag:], r[:n - lag]
        else:
            a, b = p[:n + lag], r[-lag:]
        if len(a) < 3:
            continue
        value = _pearson(a, b)
        key = (round(value, 12), -abs(lag))
        if best_key is None or key > best_key:
            best, best_key = LagCorrelation(value, lag, fps), key
    return best


def mouth_opening_correlation(pred_weights: np.ndarray, ref_weights: np.ndarray, fps: float,
                              max_lag_s: float = MAX_LAG_S) -> LagCorrelation:
    """:func:`best_lag_correlation` of the two animations' lip apertures, +-``max_lag_s``."""
    return best_lag_correlation(lip_aperture(np.asarray(pred_weights)),
                                lip_aperture(np.asarray(ref_weights)),
                                round(max_lag_s * fps), fps)


# ------------------------------------------------------------------- viseme accuracy
VISEME_CLASSES: tuple[str, ...] = ("closed", "lip_teeth", "rounded", "open", "spread")
OTHER = -1  # a frame or phone with no clearly visible class

# Phones whose mouth shape is visible and stable enough to judge. Diphthongs move between
# two classes, AO is both open and rounded, and tongue consonants borrow their neighbours'
# lips, so they are not judged.
PHONE_CLASS: dict[str, str] = {
    **{p: "closed" for p in ("P", "B", "M")},
    **{p: "lip_teeth" for p in ("F", "V")},
    **{p: "rounded" for p in ("W", "UW", "UH", "OW")},
    **{p: "open" for p in ("AA", "AE", "AH", "EH")},
    **{p: "spread" for p in ("IY", "IH", "Y")},
}

# Thresholds in ARKit weight units (the rules of thumb an animator would use).
TUCK_MIN = 0.3         # mouthRollLower: the lower lip rolled in under the upper teeth
TUCK_MAX_APERTURE = 0.25
ROUND_MIN = 0.3        # max(mouthFunnel, mouthPucker)
OPEN_RELATIVE = 0.55   # aperture as a share of the clip's wide-open level
# The wide-open level is at least OPEN_FLOOR, so a barely moving mouth is never "open".
OPEN_FLOOR = 0.15
SPREAD_MIN = 0.12      # mean of mouthStretch and mouthSmile, both sides

_ROLL_LOWER = INDEX["mouthRollLower"]
_ROUND = [INDEX["mouthFunnel"], INDEX["mouthPucker"]]
_SPREAD = [INDEX[n] for n in ("mouthStretchLeft", "mouthStretchRight", "mouthSmileLeft",
                              "mouthSmileRight")]


def viseme_classes(weights: np.ndarray, open_level: float | None = None) -> np.ndarray:
    """Class index into :data:`VISEME_CLASSES` (or :data:`OTHER`) of each frame.

    In order: lower lip tucked and mouth nearly shut -> lip_teeth; lips meet -> closed;
    lips rounded -> rounded; aperture at least OPEN_RELATIVE of ``open_level`` -> open;
    corners pulled -> spread. ``open_level`` defaults to the 95th percentile of this
    animation's aperture (floored at OPEN_FLOOR), so loud and quiet speakers are judged alike.
    """
    w = np.atleast_2d(np.asarray(weights, np.float64))
    a = lip_aperture(w)
    if open_level is None:
        open_level = float(np.percentile(a, 95)) if len(a) else 0.0
    open_level = max(open_level, OPEN_FLOOR)
    out = np.full(len(w), OTHER, np.int64)
    tuck = (w[:, _ROLL_LOWER] >= TUCK_MIN) & (a < TUCK_MAX_APERTURE)
    rules = (
        ("lip_teeth", tuck),
        ("closed", a < LIPS_MEET),
        ("rounded", w[:, _ROUND].max(1) >= ROUND_MIN),
        ("open", a >= OPEN_RELATIVE * open_level),
        ("spread", w[:, _SPREAD].mean(1) >= SPREAD_MIN),
    )
    for name, mask in reversed(rules):  # earlier rules win: apply them last
        out[mask] = VISEME_CLASSES.index(name)
    return out


@dataclass(frozen=True)
class VisemeResult:
    correct: int
    total: int
    confusion: np.ndarray  # (5, 6): rows true class, columns predicted class, last "other"

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    def as_dict(self) -> dict:
        return {"accuracy": self.accuracy, "correct": self.correct, "total": self.total,
                "classes": list(VISEME_CLASSES) + ["other"], "confusion": self.confusion.tolist()}


def viseme_accuracy(weights: np.ndarray, fps: float, phones) -> VisemeResult:
    """Share of judged phones (:data:`PHONE_CLASS`) whose centre frame shows their class."""
    w = np.asarray(weights)
    classes = viseme_classes(w)
    k = len(VISEME_CLASSES)
    confusion = np.zeros((k, k + 1), np.int64)
    for ph in phones:
        want = PHONE_CLASS.get(ph.phone)
        if want is None:
            continue
        frame = min(max(round(0.5 * (ph.start + ph.end) * fps), 0), len(w) - 1)
        got = classes[frame]
        confusion[VISEME_CLASSES.index(want), got if got != OTHER else k] += 1
    return VisemeResult(int(np.trace(confusion[:, :k])), int(confusion.sum()), confusion)


def viseme_agreement(pred_weights: np.ndarray, ref_weights: np.ndarray) -> float:
    """For reference curves without phones (captures): the share of frames where the
    reference shows a class and the prediction shows the same one. NaN if none do."""
    p, r = np.asarray(pred_weights), np.asarray(ref_weights)
    n = min(len(p), len(r))
    ref = viseme_classes(r[:n])
    pred = viseme_classes(p[:n], open_level=None)
    judged = ref != OTHER
    return float((pred[judged] == ref[judged]).mean()) if judged.any() else float("nan")
