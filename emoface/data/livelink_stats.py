"""Statistics of captured ARKit animation: blinks, gaze, expression levels, symmetry, smoothness.

The rules engine is calibrated from these numbers (``emoface/rules/calibration.py``,
``docs/calibration.md``); the same functions describe any user's capture or any generated
:class:`~emoface.animation.Animation`. Everything works at the animation's own frame rate,
so a 60 fps Live Link take is measured at 60 fps (smoothness alone is measured at 30 fps,
the rate engines emit)::

    emoface dev livelink-report [FOLDER] [--json OUT] [--markdown OUT] [--plots DIR]

FOLDER holds Live Link Face CSVs, one sub-folder per label (``sad/take1.csv``); it defaults
to the shared captures in ``../shared/data/livelink``.
"""
from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.signal import find_peaks, peak_widths, welch

from ..animation import Animation
from ..arkit import ARKIT_NAMES, INDEX
from ..errors import UserError
from ..export.livelink_csv import read
from ..paths import shared_data_dir

# Eye rotation per unit of eyeLook* weight, used only when a capture has no eye rotation
# columns. Fitted on the shared Live Link captures (see fit_eye_angles, docs/calibration.md).
YAW_RAD_PER_LOOK = 0.62
PITCH_RAD_PER_LOOK = 0.47

# A blink is the eyelid closing and reopening within a few hundred milliseconds; anything
# held longer is a squint or a deliberate closure, which an animator treats differently.
MAX_BLINK_HALF_WIDTH_S = 0.3
# Below this, a gaze step is tracking noise rather than an eye movement anyone would see.
MIN_SACCADE_DEG = 1.0
# Fixational eye noise in these captures is ~3 deg/s; saccades peak well above 30 deg/s even
# at 60 fps, which is the usual velocity-threshold choice for 60 Hz trackers.
SACCADE_VELOCITY_DEG_S = 30.0
JITTER_FPS = 30.0


# ------------------------------------------------------------------ feature groups
# Sideways shifts: jawLeft and jawRight are opposite motions, not the two halves of one.
_SIDEWAYS = {"jawLeft", "jawRight", "mouthLeft", "mouthRight"}


def _stem(name: str) -> str:
    if name in _SIDEWAYS:
        return name
    for side in ("Left", "Right"):
        if name.endswith(side):
            return name[: -len(side)]
    return name


# Unsided feature names (``browDown`` = mean of browDownLeft/Right), the convention the rules
# engine uses for its expression targets.
FEATURES: dict[str, tuple[str, ...]] = {}
for _name in ARKIT_NAMES:
    FEATURES.setdefault(_stem(_name), ())
    FEATURES[_stem(_name)] += (_name,)
# Mirror pairs for asymmetry. eyeLookIn/Out are left out: their mirror of eyeLookInLeft is
# eyeLookOutRight (both eyes turn the same way), so L/R differences there are gaze, not asymmetry.
SIDED_PAIRS: dict[str, tuple[str, str]] = {
    stem: (stem + "Left", stem + "Right") for stem, names in FEATURES.items()
    if len(names) == 2 and stem not in ("eyeLookIn", "eyeLookOut")}
# The features an emotion moves; gaze direction and jaw/mouth sideways shifts are not emotion.
EXPRESSION_FEATURES: tuple[str, ...] = (
    "browInnerUp", "browDown", "browOuterUp", "eyeWide", "eyeSquint", "eyeBlink", "cheekSquint",
    "cheekPuff", "noseSneer", "mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch",
    "mouthPress", "mouthShrugLower", "mouthShrugUpper", "mouthRollLower", "mouthRollUpper",
    "mouthUpperUp", "mouthLowerDown", "mouthPucker", "mouthFunnel", "mouthClose", "jawOpen",
    "jawForward",
)


def feature_curves(anim: Animation) -> dict[str, np.ndarray]:
    """Per-frame value of every unsided feature (left/right averaged)."""
    w = anim.weights.astype(np.float64)
    return {f: w[:, [INDEX[n] for n in names]].mean(1) for f, names in FEATURES.items()}


# ------------------------------------------------------------------------ blinks
@dataclass(frozen=True)
class Blink:
    """One blink. Times in seconds; weights in ARKit units."""

    time: float         # peak closure
    start: float        # closing begins (10% of the rise)
    amplitude: float    # rise of mean eyeBlink above the surrounding open level
    peak_weight: float  # mean eyeBlink at the peak
    rise: float         # rise of the detection signal (eyeBlink - eyeWide), see eye_closure
    closing: float      # start -> peak
    opening: float      # peak -> 10% of the rise left
    duration: float     # closing + opening
    half_width: float   # time spent above half the rise


@dataclass(frozen=True)
class Closure:
    """Eyelids held (partly) closed longer than a blink: a squint, a wince, eyes shut."""

    start: float
    duration: float
    mean_weight: float  # mean eyeBlink over the closure, both eyes
    peak_weight: float
    side: str           # both | left | right


def eye_closure(anim: Animation) -> np.ndarray:
    """(T, 2) per-eye closure signal, eyeBlink - eyeWide.

    ARKit reports a blink from wide-open eyes (fear, surprise) mostly as eyeWide collapsing,
    with eyeBlink barely rising; subtracting eyeWide makes those blinks as tall as the rest.
    """
    w = anim.weights.astype(np.float64)
    blink = w[:, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]]
    wide = w[:, [INDEX["eyeWideLeft"], INDEX["eyeWideRight"]]]
    return blink - wide


def _frames(seconds: float, fps: float, minimum: int = 1) -> int:
    return max(minimum, round(seconds * fps))


@dataclass(frozen=True)
class _Candidates:
    """Closure peaks that passed the height tests, whatever their width."""

    peaks: np.ndarray       # frame of each peak
    rise: np.ndarray
    left_base: np.ndarray   # frames of the open level each side
    right_base: np.ndarray
    half_width: np.ndarray  # s
    left: np.ndarray        # 10%-of-rise crossings, fractional frames
    right: np.ndarray

    @classmethod
    def none(cls) -> _Candidates:
        i, f = np.zeros(0, int), np.zeros(0)
        return cls(i, f, i, i, f, f, f)


def _closure_peaks(anim: Animation, min_separation: float = 0.2, context: float = 1.5,
                   min_rise: float = 0.15, relative: float = 0.3,
                   min_peak: float = 0.0) -> _Candidates:
    """The candidates of :func:`detect_blinks` (same defaults), before the width test."""
    fps = anim.fps
    per_eye = eye_closure(anim)
    signal = per_eye.mean(1)
    if len(signal) < 3:
        return _Candidates.none()
    wlen = _frames(context, fps, 3) | 1
    with warnings.catch_warnings():
        # A held closure has zero prominence inside the window; that is the intended answer.
        warnings.filterwarnings("ignore", message="some peaks have a prominence of 0")
        peaks, props = find_peaks(signal, prominence=0.05, wlen=wlen,
                                  distance=_frames(min_separation, fps))
    rise, lb, rb = props["prominences"], props["left_bases"], props["right_bases"]
    threshold = max(min_rise, relative * float(np.percentile(rise, 90))) if len(rise) else min_rise
    # Closed lids are never wide: a dip of eyeWide that leaves the eye wider than neutral
    # is an expression flicker, not a blink.
    keep = (rise >= threshold) & (signal[peaks] >= min_peak)
    for eye in range(2):
        e = per_eye[:, eye]
        keep &= e[peaks] - np.maximum(e[lb], e[rb]) >= 0.5 * threshold
    peaks, rise, lb, rb = peaks[keep], rise[keep], lb[keep], rb[keep]
    if not len(peaks):
        return _Candidates.none()
    data = (rise, lb, rb)
    half = peak_widths(signal, peaks, rel_height=0.5, prominence_data=data)[0] / fps
    _, _, left, right = peak_widths(signal, peaks, rel_height=0.9, prominence_data=data)
    return _Candidates(peaks, rise, lb, rb, half, left, right)


def _lids(anim: Animation) -> np.ndarray:
    return anim.weights[:, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]].astype(np.float64)


def detect_blinks(anim: Animation, *, min_separation: float = 0.2,
                  max_half_width: float = MAX_BLINK_HALF_WIDTH_S, context: float = 1.5,
                  min_rise: float = 0.15, relative: float = 0.3,
                  min_peak: float = 0.0) -> list[Blink]:
    """Blinks: short closures of both eyes.

    A candidate is a peak of the mean closure signal (:func:`eye_closure`); its rise is
    measured against the open level on either side within ``context`` seconds (the higher
    of the two, so a blink riding on a slow squint is measured from the squint, and an
    expression change is not a blink). A candidate counts when its rise reaches
    ``max(min_rise, relative * p90 of this take's candidate rises)``, each eye rises at
    least half that (winks are not blinks), the closure signal reaches ``min_peak`` (the
    lids are no longer wide), it is ``min_separation`` s from a taller one, and it stays
    above half its rise for at most ``max_half_width`` s (longer is a closure, see
    :func:`detect_closures`).
    """
    c = _closure_peaks(anim, min_separation, context, min_rise, relative, min_peak)
    blink = _lids(anim).mean(1)
    fps = anim.fps
    out = []
    for k, p in enumerate(c.peaks):
        if c.half_width[k] > max_half_width:
            continue
        base = max(blink[c.left_base[k]], blink[c.right_base[k]])
        out.append(Blink(
            time=p / fps, start=c.left[k] / fps, amplitude=float(max(0.0, blink[p] - base)),
            peak_weight=float(blink[p]), rise=float(c.rise[k]), closing=(p - c.left[k]) / fps,
            opening=(c.right[k] - p) / fps, duration=(c.right[k] - c.left[k]) / fps,
            half_width=float(c.half_width[k])))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def detect_closures(anim: Animation, blinks: Sequence[Blink] | None = None, *,
                    max_half_width: float = MAX_BLINK_HALF_WIDTH_S, min_duration: float = 0.5,
                    relative_level: float = 0.3, min_level: float = 0.15) -> list[Closure]:
    """The long squints and closures that :func:`detect_blinks` deliberately does not count.

    Two kinds, merged where they overlap: closure peaks too wide to be blinks (more than
    ``max_half_width`` s above half their rise), and stretches of at least ``min_duration``
    s where either eye's eyeBlink stays above the take's median plus ``relative_level`` of
    its typical blink amplitude (at least ``min_level``), which also catches closures too
    long to look like a peak at all.
    """
    blinks = detect_blinks(anim, max_half_width=max_half_width) if blinks is None else blinks
    fps = anim.fps
    lids = _lids(anim)
    spans: list[tuple[int, int]] = []
    c = _closure_peaks(anim)
    for k in np.flatnonzero(c.half_width > max_half_width):
        spans.append((math.floor(c.left[k]), math.ceil(c.right[k]) + 1))
    typical = float(np.median([b.amplitude for b in blinks])) if blinks else 0.5
    level = float(np.median(lids.mean(1))) + max(min_level, relative_level * typical)
    spans += [(a, b) for a, b in _runs(lids.max(1) >= level) if (b - a) / fps >= min_duration]
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        b = min(b, len(lids))
        left, right = lids[a:b].mean(0)
        side = "both" if min(left, right) >= 0.5 * max(left, right) else (
            "left" if left > right else "right")
        out.append(Closure(start=a / fps, duration=(b - a) / fps,
                           mean_weight=float(lids[a:b].mean()),
                           peak_weight=float(lids[a:b].mean(1).max()), side=side))
    return out


def blink_rate_per_minute(anim: Animation, blinks: Sequence[Blink] | None = None) -> float:
    blinks = detect_blinks(anim) if blinks is None else blinks
    return len(blinks) / (anim.duration / 60.0)


# -------------------------------------------------------------------------- gaze
def eye_rotations_recorded(anim: Animation) -> bool:
    return anim.eyes is not None and bool(np.any(np.abs(anim.eyes) > 1e-6))


def head_recorded(anim: Animation) -> bool:
    return anim.head is not None and bool(np.any(np.abs(anim.head) > 1e-6))


def look_weights(anim: Animation) -> np.ndarray:
    """(T, 4) eyeLook differences in the sense of Live Link's eye rotation columns:
    left (In - Out), right (Out - In), left (Down - Up), right (Down - Up). Positive yaw is
    toward the performer's right for both eyes, positive pitch is down."""
    c = lambda n: anim.weights[:, INDEX[n]].astype(np.float64)
    return np.stack([c("eyeLookInLeft") - c("eyeLookOutLeft"),
                     c("eyeLookOutRight") - c("eyeLookInRight"),
                     c("eyeLookDownLeft") - c("eyeLookUpLeft"),
                     c("eyeLookDownRight") - c("eyeLookUpRight")], 1)


def gaze_angles(anim: Animation, source: str = "auto", *, yaw_per_look: float = YAW_RAD_PER_LOOK,
                pitch_per_look: float = PITCH_RAD_PER_LOOK) -> np.ndarray:
    """(T, 2) conjugate gaze (both eyes averaged) yaw and pitch in radians.

    ``source``: ``rotation`` (the eye rotation columns), ``weights`` (eyeLook* weights times
    the given factors) or ``auto`` (rotation when recorded, else weights). The weights lose
    small movements near centre: ARKit clips them to 0 inside a dead zone of a few degrees.
    """
    if source not in ("auto", "rotation", "weights"):
        raise ValueError(f"unknown gaze source {source!r}")
    if source == "rotation" or (source == "auto" and eye_rotations_recorded(anim)):
        if anim.eyes is None:
            raise ValueError("animation has no eye rotations")
        e = anim.eyes.astype(np.float64)
        return np.stack([(e[:, 0] + e[:, 3]) / 2, (e[:, 1] + e[:, 4]) / 2], 1)
    look = look_weights(anim)
    return np.stack([yaw_per_look * (look[:, 0] + look[:, 1]) / 2,
                     pitch_per_look * (look[:, 2] + look[:, 3]) / 2], 1)


@dataclass(frozen=True)
class Saccade:
    time: float           # onset, s
    duration: float       # s above the velocity threshold
    amplitude: float      # deg, gaze before -> after
    peak_velocity: float  # deg/s
    yaw: float            # deg change, + toward the performer's right
    pitch: float          # deg change, + down


def gaze_speed(anim: Animation, source: str = "auto") -> np.ndarray:
    """(T,) angular speed of the conjugate gaze in deg/s."""
    g = np.degrees(gaze_angles(anim, source))
    if len(g) < 2:
        return np.zeros(len(g))
    return np.hypot(*np.gradient(g, axis=0).T) * anim.fps


def detect_saccades(anim: Animation, *, source: str = "auto",
                    velocity_threshold: float = SACCADE_VELOCITY_DEG_S,
                    min_amplitude: float = MIN_SACCADE_DEG,
                    blinks: Sequence[Blink] | None = None,
                    closures: Sequence[Closure] | None = None,
                    blink_margin: float = 0.1) -> list[Saccade]:
    """Rapid gaze shifts: runs of angular speed above ``velocity_threshold`` (deg/s) whose
    net shift is at least ``min_amplitude`` degrees.

    Shifts overlapping a blink or a closure (widened by ``blink_margin`` s) are dropped:
    ARKit reports the eyes rolling down ~15 deg whenever the lids close, a tracking
    artefact here, not gaze. Pass ``blinks=[]`` and ``closures=[]`` to keep them.
    """
    fps = anim.fps
    g = np.degrees(gaze_angles(anim, source))
    speed = gaze_speed(anim, source)
    blinks = detect_blinks(anim) if blinks is None else blinks
    closures = detect_closures(anim, blinks) if closures is None else closures
    masked = np.zeros(len(g), bool)
    for start, length in [(b.start, b.duration) for b in blinks] + [
            (c.start, c.duration) for c in closures]:
        a = max(0, math.floor((start - blink_margin) * fps))
        masked[a: math.ceil((start + length + blink_margin) * fps) + 1] = True
    runs = _runs(speed > velocity_threshold)
    merged: list[list[int]] = []
    for a, b in runs:  # one dip below threshold mid-flight is still one movement
        if merged and a - merged[-1][1] <= 1:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        if masked[a:b].any():
            continue
        before, after = g[max(0, a - 1)], g[min(len(g) - 1, b)]
        dyaw, dpitch = after - before
        amplitude = float(math.hypot(dyaw, dpitch))
        if amplitude < min_amplitude:
            continue
        out.append(Saccade(time=a / fps, duration=(b - a) / fps, amplitude=amplitude,
                           peak_velocity=float(speed[a:b].max()), yaw=float(dyaw),
                           pitch=float(dpitch)))
    return out


def _fit(x: np.ndarray, y: np.ndarray) -> dict:
    """Least squares y = slope * x + intercept, plus separate lines for x > 0 and x < 0."""
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        return {"slope": float("nan"), "intercept": float("nan"), "r2": float("nan"), "frames": n}
    A = np.column_stack([x, np.ones(n)])
    (slope, intercept), *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ (slope, intercept)
    r2 = 1 - float(resid @ resid) / max(float(((y - y.mean()) ** 2).sum()), 1e-12)
    out = {"slope": float(slope), "intercept": float(intercept), "r2": r2, "frames": n}
    # Each side on its own line: ARKit's Up and Down (In and Out) shapes need not be equally
    # strong, and one shared intercept would bend both slopes toward the dead zone.
    for name, side in (("slope_positive", x > 0), ("slope_negative", x < 0)):
        if side.sum() >= 3 and np.ptp(x[side]) > 0:
            out[name] = float(np.polyfit(x[side], y[side], 1)[0])
    return out


def fit_eye_angles(anims: Animation | Iterable[Animation], dead_zone: float = 0.01) -> dict:
    """Eye rotation (radians) per unit of eyeLook* weight, by least squares over all frames
    with eye rotations recorded, per eye.

    x is each eye's own (eyeLookOut - eyeLookIn) for yaw and (eyeLookUp - eyeLookDown) for
    pitch, so the left eye's yaw slope is negative where the right eye's is positive (both
    eyes turn the same way; their Out and In are mirrored).
    Frames with |x| <= ``dead_zone`` are left out: there ARKit holds the weights at 0 while
    the rotation still moves a few degrees, which says nothing about the slope.
    """
    anims = [anims] if isinstance(anims, Animation) else list(anims)
    anims = [a for a in anims if eye_rotations_recorded(a)]
    if not anims:
        return {}
    w = np.concatenate([a.weights for a in anims]).astype(np.float64)
    e = np.concatenate([a.eyes for a in anims]).astype(np.float64)
    c = lambda n: w[:, INDEX[n]]
    xs = {
        "left_yaw": (c("eyeLookOutLeft") - c("eyeLookInLeft"), e[:, 0]),
        "right_yaw": (c("eyeLookOutRight") - c("eyeLookInRight"), e[:, 3]),
        "left_pitch": (c("eyeLookUpLeft") - c("eyeLookDownLeft"), e[:, 1]),
        "right_pitch": (c("eyeLookUpRight") - c("eyeLookDownRight"), e[:, 4]),
    }
    out = {}
    for key, (x, y) in xs.items():
        m = np.abs(x) > dead_zone
        out[key] = _fit(x[m], y[m])
        # How far the rotation wanders while the weights sit in the dead zone.
        out[key]["dead_zone_rotation_p95_deg"] = float(
            np.degrees(np.percentile(np.abs(y[~m]), 95))) if (~m).any() else 0.0
    for axis in ("yaw", "pitch"):
        out[f"{axis}_rad_per_look"] = (abs(out[f"left_{axis}"]["slope"])
                                       + abs(out[f"right_{axis}"]["slope"])) / 2
    out["pitch_same_both_eyes"] = bool(np.allclose(e[:, 1], e[:, 4], atol=1e-3))
    return out


# ------------------------------------------------------------ levels and motion
def _pct(x: np.ndarray) -> dict:
    if len(x) == 0:
        return {k: float("nan") for k in ("mean", "std", "p5", "p50", "p95", "max")}
    p5, p50, p95 = np.percentile(x, [5, 50, 95])
    return {"mean": float(x.mean()), "std": float(x.std()), "p5": float(p5), "p50": float(p50),
            "p95": float(p95), "max": float(x.max())}


def _as_list(anims: Animation | Iterable[Animation]) -> list[Animation]:
    return [anims] if isinstance(anims, Animation) else list(anims)


def channel_stats(anims: Animation | Iterable[Animation]) -> dict[str, dict]:
    """mean std p5 p50 p95 max of each of the 52 channels over all frames of ``anims``."""
    w = np.concatenate([a.weights for a in _as_list(anims)]).astype(np.float64)
    return {name: _pct(w[:, j]) for j, name in enumerate(ARKIT_NAMES)}


def feature_levels(anims: Animation | Iterable[Animation]) -> dict[str, dict]:
    """The same statistics for each unsided feature (left/right averaged per frame)."""
    curves = [feature_curves(a) for a in _as_list(anims)]
    return {f: _pct(np.concatenate([c[f] for c in curves])) for f in FEATURES}


def asymmetry(anims: Animation | Iterable[Animation]) -> dict[str, dict]:
    """Per left/right pair: mean of each side, mean (L - R), mean |L - R| relative to the
    pair's mean level, and the L/R correlation over time."""
    w = np.concatenate([a.weights for a in _as_list(anims)]).astype(np.float64)
    out = {}
    for stem, (ln, rn) in SIDED_PAIRS.items():
        left, right = w[:, INDEX[ln]], w[:, INDEX[rn]]
        level = float((left + right).mean() / 2)
        both_move = left.std() > 1e-6 and right.std() > 1e-6
        out[stem] = {
            "mean_left": float(left.mean()), "mean_right": float(right.mean()),
            "mean_diff": float((left - right).mean()),
            "relative_abs_diff": (float(np.abs(left - right).mean() / level)
                                  if level > 1e-4 else 0.0),
            "corr": float(np.corrcoef(left, right)[0, 1]) if both_move else float("nan"),
        }
    return out


def jitter(anim: Animation, fps: float = JITTER_FPS) -> np.ndarray:
    """(52,) mean |second difference| of each channel after resampling to ``fps`` (the
    evaluation protocol's jitter, per channel)."""
    w = anim.resample(fps).weights.astype(np.float64)
    if len(w) < 3:
        return np.zeros(w.shape[1])
    return np.abs(np.diff(w, 2, axis=0)).mean(0)


def pooled_jitter(anims: Animation | Iterable[Animation], fps: float = JITTER_FPS) -> np.ndarray:
    """Frame-weighted :func:`jitter` over several takes (no difference spans two takes)."""
    diffs = [np.abs(np.diff(a.resample(fps).weights.astype(np.float64), 2, axis=0))
             for a in _as_list(anims)]
    diffs = [d for d in diffs if len(d)]
    return np.concatenate(diffs).mean(0) if diffs else np.zeros(len(ARKIT_NAMES))


def jaw_activity(anim: Animation) -> dict:
    """How much the jaw moves and whether it moves like speech.

    Speech opens and closes the jaw at the syllable rate, about 3-6 per second, so a
    speaking take has several jawOpen peaks per second and most of its jawOpen variance
    in the 2-8 Hz band; an acted silent expression holds the jaw or moves it slowly.
    """
    jaw = anim.channel("jawOpen").astype(np.float64)
    peaks, _ = find_peaks(jaw, prominence=0.05, distance=_frames(0.1, anim.fps))
    band = float("nan")
    if len(jaw) >= 64 and jaw.std() > 0.01:  # a still jaw's spectrum is only noise
        f, p = welch(jaw - jaw.mean(), fs=anim.fps, nperseg=min(256, len(jaw)))
        band = float(p[(f >= 2) & (f <= 8)].sum() / p[f > 0].sum())
    return {"mean": float(jaw.mean()), "p95": float(np.percentile(jaw, 95)),
            "max": float(jaw.max()), "std": float(jaw.std()),
            "share_open": float((jaw > 0.1).mean()),
            "peaks_per_s": len(peaks) / anim.duration, "band_2_8hz_share": band}


# ------------------------------------------------------------------- per take
def _dist(values: Sequence[float]) -> dict:
    v = np.asarray(values, np.float64)
    if not len(v):
        return {"n": 0}
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return {"n": len(v), "mean": float(v.mean()), "p10": float(p10), "median": float(p50),
            "p90": float(p90), "min": float(v.min()), "max": float(v.max())}


def describe_take(anim: Animation) -> dict:
    """Every per-take statistic as JSON-ready values."""
    blinks = detect_blinks(anim)
    closures = detect_closures(anim, blinks)
    minutes = anim.duration / 60.0
    out: dict = {
        "frames": anim.num_frames, "fps": anim.fps, "duration_s": anim.duration,
        "head_recorded": head_recorded(anim),
        "head_absmax_rad": float(np.abs(anim.head).max()) if anim.head is not None else None,
        "eyes_recorded": eye_rotations_recorded(anim),
        "blinks": len(blinks), "blinks_per_min": len(blinks) / minutes,
        "blink_amplitude": _dist([b.amplitude for b in blinks]),
        "blink_peak_weight": _dist([b.peak_weight for b in blinks]),
        "blink_closing_s": _dist([b.closing for b in blinks]),
        "blink_opening_s": _dist([b.opening for b in blinks]),
        "blink_duration_s": _dist([b.duration for b in blinks]),
        "blink_half_width_s": _dist([b.half_width for b in blinks]),
        "blink_intervals_s": _dist(np.diff([b.time for b in blinks])),
        "blink_list": [asdict(b) for b in blinks],
        "closures": [asdict(c) for c in closures],
        "jaw": jaw_activity(anim),
        "jitter_30fps_mean": float(jitter(anim).mean()),
    }
    # Rotation columns are the better gaze record; the weights-only figures show what a
    # capture without them would give (their dead zone hides small saccades).
    for source in ("rotation", "weights"):
        if source == "rotation" and not eye_rotations_recorded(anim):
            continue
        sacc = detect_saccades(anim, source=source, blinks=blinks, closures=closures)
        if "saccade_list" not in out:
            out["saccade_source"] = source
            out["saccade_list"] = [asdict(x) for x in sacc]
        out[f"saccades_{source}"] = {
            "count": len(sacc), "per_min": len(sacc) / minutes,
            "amplitude_deg": _dist([s.amplitude for s in sacc]),
            "peak_velocity_deg_s": _dist([s.peak_velocity for s in sacc]),
            "duration_s": _dist([s.duration for s in sacc]),
            "intervals_s": _dist(np.diff([s.time for s in sacc])),
        }
    if eye_rotations_recorded(anim):
        g = np.degrees(gaze_angles(anim, "rotation"))
        out["gaze_deg"] = {"yaw": _pct(g[:, 0]), "pitch": _pct(g[:, 1])}
    return out


def _gaze_spread(anims: Sequence[Animation]) -> dict:
    """Where the eyes point over the takes (degrees; rotation columns only)."""
    with_eyes = [a for a in anims if eye_rotations_recorded(a)]
    if not with_eyes:
        return {}
    g = np.degrees(np.concatenate([gaze_angles(a, "rotation") for a in with_eyes]))
    return {"yaw": _pct(g[:, 0]), "pitch": _pct(g[:, 1])}


# ---------------------------------------------------------------- over a folder
@dataclass
class Take:
    label: str      # the sub-folder (the acted emotion in the shared captures)
    name: str
    anim: Animation


def default_folder() -> Path:

    return shared_data_dir() / "livelink"


def load_takes(folder: str | Path) -> list[Take]:
    """Every ``*.csv`` under ``folder`` (sorted), labelled by its sub-folder."""

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"no such folder: {str(folder)!r}")
    files = sorted(folder.rglob("*.csv"))
    if not files:
        raise UserError(f"no Live Link CSV files under {str(folder)!r}")
    takes = []
    for f in files:
        rel = f.relative_to(folder)
        label = rel.parent.as_posix() if rel.parent != Path(".") else "capture"
        takes.append(Take(label, f.name, read(f)))
    return takes


def summarise(folder: str | Path | None = None, *, baseline: str = "idle",
              takes: Sequence[Take] | None = None) -> dict:
    """All statistics over the captures in ``folder`` (default: the shared captures):
    per take, per label, pooled, and each label's feature levels against ``baseline``."""
    folder = default_folder() if folder is None else Path(folder)
    takes = load_takes(folder) if takes is None else list(takes)
    per_take = [{"label": t.label, "file": t.name, **describe_take(t.anim)} for t in takes]
    labels = sorted({t.label for t in takes})
    by_label = {lab: [t.anim for t in takes if t.label == lab] for lab in labels}
    anims = [t.anim for t in takes]

    def pooled(rows: list[dict]) -> dict:
        minutes = sum(r["duration_s"] for r in rows) / 60
        blinks = [b for r in rows for b in r["blink_list"]]
        out = {
            "takes": len(rows), "duration_s": minutes * 60,
            "blinks": len(blinks), "blinks_per_min": len(blinks) / minutes,
            "blinks_per_min_by_take": _dist([r["blinks_per_min"] for r in rows]),
            "blink_amplitude": _dist([b["amplitude"] for b in blinks]),
            "blink_peak_weight": _dist([b["peak_weight"] for b in blinks]),
            "blink_closing_s": _dist([b["closing"] for b in blinks]),
            "blink_opening_s": _dist([b["opening"] for b in blinks]),
            "blink_duration_s": _dist([b["duration"] for b in blinks]),
            "blink_half_width_s": _dist([b["half_width"] for b in blinks]),
            "blink_intervals_s": _dist([v for r in rows for v in np.diff(
                [b["time"] for b in r["blink_list"]])]),
            "closures": sum(len(r["closures"]) for r in rows),
            "closure_duration_s": _dist([c["duration"] for r in rows for c in r["closures"]]),
        }
        for source in ("rotation", "weights"):
            key = f"saccades_{source}"
            have = [r for r in rows if key in r]
            if not have:
                continue
            m = sum(r["duration_s"] for r in have) / 60
            n = sum(r[key]["count"] for r in have)
            out[key] = {"count": n, "per_min": n / m,
                        "per_min_by_take": _dist([r[key]["per_min"] for r in have])}
        sacc = [x for r in rows for x in r["saccade_list"]]
        out["saccades"] = {
            "amplitude_deg": _dist([x["amplitude"] for x in sacc]),
            "peak_velocity_deg_s": _dist([x["peak_velocity"] for x in sacc]),
            "duration_s": _dist([x["duration"] for x in sacc]),
            "intervals_s": _dist([v for r in rows for v in np.diff(
                [x["time"] for x in r["saccade_list"]])]),
        }
        return out

    levels = {lab: feature_levels(a) for lab, a in by_label.items()}
    summary: dict = {
        "folder": str(folder),
        "takes": per_take,
        "labels": {lab: pooled([r for r in per_take if r["label"] == lab]) for lab in labels},
        "all": pooled(per_take),
        "eye_angles": fit_eye_angles(anims),
        "gaze_deg": {lab: _gaze_spread(a) for lab, a in by_label.items()},
        "feature_levels": levels,
        "channels": {lab: channel_stats(a) for lab, a in by_label.items()},
        "asymmetry": {"all": asymmetry(anims),
                      **{lab: asymmetry(a) for lab, a in by_label.items()}},
        "jitter_30fps": {"all": dict(zip(ARKIT_NAMES, pooled_jitter(anims).tolist())),
                         **{lab: dict(zip(ARKIT_NAMES, pooled_jitter(a).tolist()))
                            for lab, a in by_label.items()}},
    }
    if baseline in levels:
        summary["baseline"] = baseline
        summary["level_change_vs_baseline"] = {
            lab: {f: {k: lv[f][k] - levels[baseline][f][k] for k in ("mean", "p50", "p95")}
                  for f in FEATURES}
            for lab, lv in levels.items() if lab != baseline}
    return summary


# ------------------------------------------------------------------- reporting
def _f(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}f}"


def _ms(d: dict, key: str = "median") -> str:
    return "-" if not d.get("n") else f"{1000 * d[key]:.0f}"


def to_markdown(summary: dict) -> str:
    """The measured tables of docs/calibration.md."""
    L: list[str] = []
    add = L.append
    add("### Per capture\n")
    add("| label | file | s | head rec. | blinks | /min | mean blink ms | closing ms | opening ms "
        "| blink peak | long closures | saccades/min | sacc. amp. deg (median) | jawOpen p95 "
        "| jaw peaks/s | jaw 2-8 Hz share | jitter@30 |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in summary["takes"]:
        s = r.get("saccades_rotation", r.get("saccades_weights", {}))
        head = "yes" if r["head_recorded"] else "no"
        add(f"| {r['label']} | {r['file']} | {r['duration_s']:.1f} | {head} "
            f"| {r['blinks']} | {r['blinks_per_min']:.1f} | {_ms(r['blink_duration_s'], 'mean')} "
            f"| {_ms(r['blink_closing_s'])} | {_ms(r['blink_opening_s'])} "
            f"| {_f(r['blink_peak_weight'].get('median'))} | {len(r['closures'])} "
            f"| {_f(s.get('per_min'), 1)} | {_f(s.get('amplitude_deg', {}).get('median'), 1)} "
            f"| {_f(r['jaw']['p95'])} | {_f(r['jaw']['peaks_per_s'])} "
            f"| {_f(r['jaw']['band_2_8hz_share'])} | {_f(r['jitter_30fps_mean'], 4)} |")
    add("\nTimes in ms are medians over the take's blinks (mean blink ms: mean full duration).\n")

    add("### Per label (pooled)\n")
    add("| label | takes | min | blinks/min (pooled) | per-take range | blink amplitude (median) "
        "| blink peak weight | closing ms | opening ms | full ms | half-width ms | long closures "
        "| saccades/min | saccade amp. deg median (p90) | inter-saccade s median (p10-p90) |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = [(lab, v) for lab, v in summary["labels"].items()] + [("**all**", summary["all"])]
    for lab, v in rows:
        rng = v["blinks_per_min_by_take"]
        sac = v.get("saccades_rotation", {})
        sd = v.get("saccades", {})
        amp, isi = sd.get("amplitude_deg", {}), sd.get("intervals_s", {})
        add(f"| {lab} | {v['takes']} | {v['duration_s'] / 60:.1f} | {v['blinks_per_min']:.1f} "
            f"| {rng['min']:.1f}-{rng['max']:.1f} | {_f(v['blink_amplitude'].get('median'))} "
            f"| {_f(v['blink_peak_weight'].get('median'))} | {_ms(v['blink_closing_s'])} "
            f"| {_ms(v['blink_opening_s'])} | {_ms(v['blink_duration_s'])} "
            f"| {_ms(v['blink_half_width_s'])} | {v['closures']} | {_f(sac.get('per_min'), 1)} "
            f"| {_f(amp.get('median'), 1)} ({_f(amp.get('p90'), 1)}) "
            f"| {_f(isi.get('median'))} ({_f(isi.get('p10'))}-{_f(isi.get('p90'))}) |")

    a = summary["all"]
    add("\nAll blinks pooled (median, p10-p90): "
        f"amplitude {a['blink_amplitude']['median']:.2f} ({a['blink_amplitude']['p10']:.2f}-"
        f"{a['blink_amplitude']['p90']:.2f}), "
        f"peak eyeBlink {a['blink_peak_weight']['median']:.2f}, "
        f"closing {_ms(a['blink_closing_s'])} ms ({_ms(a['blink_closing_s'], 'p10')}-"
        f"{_ms(a['blink_closing_s'], 'p90')}), opening {_ms(a['blink_opening_s'])} ms "
        f"({_ms(a['blink_opening_s'], 'p10')}-{_ms(a['blink_opening_s'], 'p90')}), full "
        f"{_ms(a['blink_duration_s'])} ms ({_ms(a['blink_duration_s'], 'p10')}-"
        f"{_ms(a['blink_duration_s'], 'p90')}), interval between blinks "
        f"{_f(a['blink_intervals_s'].get('median'))} s "
        f"({_f(a['blink_intervals_s'].get('p10'))}-{_f(a['blink_intervals_s'].get('p90'))}).\n")
    sd = a["saccades"]
    add(f"All saccades pooled: {sd['amplitude_deg']['n']}; amplitude median "
        f"{_f(sd['amplitude_deg'].get('median'), 1)} deg "
        f"(p10-p90 {_f(sd['amplitude_deg'].get('p10'), 1)}-"
        f"{_f(sd['amplitude_deg'].get('p90'), 1)}), peak velocity median "
        f"{_f(sd['peak_velocity_deg_s'].get('median'), 0)} deg/s, time above threshold median "
        f"{_ms(sd['duration_s'])} ms.\n")

    fit = summary.get("eye_angles") or {}
    if fit:
        add("### Eye rotation vs eyeLook weights (least squares, frames outside the dead zone)\n")
        add("| eye, axis | x | slope rad/unit | slope deg/unit | x>0 slope | x<0 slope "
            "| intercept rad "
            "| R^2 | frames | rotation p95 inside dead zone, deg |")
        add("|---|---|---|---|---|---|---|---|---|---|")
        xs = {"yaw": "eyeLookOut - eyeLookIn", "pitch": "eyeLookUp - eyeLookDown"}
        for key in ("left_yaw", "right_yaw", "left_pitch", "right_pitch"):
            v = fit[key]
            add(f"| {key.replace('_', ' ')} | {xs[key.split('_')[1]]} | {v['slope']:.3f} "
                f"| {math.degrees(v['slope']):.1f} | {_f(v.get('slope_positive'), 3)} "
                f"| {_f(v.get('slope_negative'), 3)} | {v['intercept']:.3f} | {v['r2']:.3f} "
                f"| {v['frames']} | {v['dead_zone_rotation_p95_deg']:.1f} |")
        yaw = fit["yaw_rad_per_look"]
        add(f"\nMagnitude: yaw {yaw:.3f} rad ({math.degrees(yaw):.1f} deg) "
            f"per unit, pitch {fit['pitch_rad_per_look']:.3f} rad "
            f"({math.degrees(fit['pitch_rad_per_look']):.1f} deg) per unit; left and right pitch "
            f"{'identical' if fit['pitch_same_both_eyes'] else 'differ'} in every frame.\n")

    levels = summary["feature_levels"]
    labs = list(levels)
    add("### Expression feature levels per label (left/right averaged; p50 / p95 over frames)\n")
    add("| feature | " + " | ".join(labs) + " |")
    add("|---" * (len(labs) + 1) + "|")
    for f in EXPRESSION_FEATURES:
        add(f"| {f} | " + " | ".join(f"{levels[lab][f]['p50']:.2f} / {levels[lab][f]['p95']:.2f}"
                                     for lab in labs) + " |")
    if "level_change_vs_baseline" in summary:
        change = summary["level_change_vs_baseline"]
        others = list(change)
        add(f"\n### Change of mean level vs {summary['baseline']} (|change| >= 0.05 in bold)\n")
        add("| feature | " + summary["baseline"] + " mean | " + " | ".join(others) + " |")
        add("|---" * (len(others) + 2) + "|")
        for f in EXPRESSION_FEATURES:
            cells = []
            for lab in others:
                d = change[lab][f]["mean"]
                cells.append(f"**{d:+.2f}**" if abs(d) >= 0.05 else f"{d:+.2f}")
            base = levels[summary["baseline"]][f]["mean"]
            add(f"| {f} | {base:.2f} | " + " | ".join(cells) + " |")

    asym = summary["asymmetry"]["all"]
    add("\n### Left/right asymmetry (all captures)\n")
    add("| pair | mean L | mean R | mean L-R | mean abs(L-R) / level | corr(L, R) |")
    add("|---|---|---|---|---|---|")
    for stem, v in asym.items():
        add(f"| {stem} | {v['mean_left']:.3f} | {v['mean_right']:.3f} | {v['mean_diff']:+.3f} "
            f"| {v['relative_abs_diff']:.2f} | {_f(v['corr'])} |")

    jit = summary["jitter_30fps"]
    add("\n### Smoothness: mean |second difference| at 30 fps\n")
    add("| label | all 52 channels | median channel | eyeBlink | jawOpen | browInnerUp "
        "| mouthSmile | eyeLook* |")
    add("|---|---|---|---|---|---|---|---|")
    for lab, v in jit.items():
        vals = np.array([v[n] for n in ARKIT_NAMES])
        look = np.mean([v[n] for n in ARKIT_NAMES if n.startswith("eyeLook")])
        add(f"| {lab} | {vals.mean():.4f} | {np.median(vals):.4f} "
            f"| {(v['eyeBlinkLeft'] + v['eyeBlinkRight']) / 2:.4f} | {v['jawOpen']:.4f} "
            f"| {v['browInnerUp']:.4f} | {(v['mouthSmileLeft'] + v['mouthSmileRight']) / 2:.4f} "
            f"| {look:.4f} |")
    return "\n".join(L) + "\n"


def plot_blinks(takes: Sequence[Take], path: str | Path, *, seconds: float | None = None) -> None:
    """Closure curves of ``takes`` with detected blinks and long closures marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(takes), 1, figsize=(12, 2.6 * len(takes)), squeeze=False)
    for ax, take in zip(axes[:, 0], takes):
        a = take.anim
        t = a.times
        end = a.num_frames if seconds is None else min(a.num_frames, int(seconds * a.fps))
        blinks = detect_blinks(a)
        closures = detect_closures(a, blinks)
        lids = a.weights[:, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]].mean(1)
        wide = a.weights[:, [INDEX["eyeWideLeft"], INDEX["eyeWideRight"]]].mean(1)
        ax.plot(t[:end], lids[:end], lw=0.9, label="eyeBlink (L/R mean)")
        ax.plot(t[:end], wide[:end], lw=0.7, color="tab:green", alpha=0.7,
                label="eyeWide (L/R mean)")
        for c in closures:
            ax.axvspan(c.start, c.start + c.duration, color="orange", alpha=0.25)
        shown = [b for b in blinks if b.time * a.fps < end]
        ax.plot([b.time for b in shown], [b.peak_weight for b in shown], "rv", ms=6,
                label=f"blink ({len(blinks)} in take)")
        ax.set_xlim(0, t[end - 1])
        ax.set_ylim(0, 1)
        ax.set_ylabel("weight")
        ax.set_title(f"{take.label}/{take.name}: {len(blinks)} blinks, "
                     f"{blink_rate_per_minute(a, blinks):.1f}/min; orange = long closure",
                     fontsize=9)
    axes[0, 0].legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_gaze(takes: Sequence[Take], path: str | Path, fit: dict) -> None:
    """Eye yaw/pitch against eyeLook weights, all takes, with the fitted lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    anims = [t.anim for t in takes if eye_rotations_recorded(t.anim)]
    w = np.concatenate([a.weights for a in anims]).astype(np.float64)
    e = np.concatenate([a.eyes for a in anims]).astype(np.float64)
    c = lambda n: w[:, INDEX[n]]
    panels = [("left_yaw", c("eyeLookOutLeft") - c("eyeLookInLeft"), e[:, 0]),
              ("right_yaw", c("eyeLookOutRight") - c("eyeLookInRight"), e[:, 3]),
              ("left_pitch", c("eyeLookUpLeft") - c("eyeLookDownLeft"), e[:, 1])]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (key, x, y) in zip(axes, panels):
        ax.plot(x, np.degrees(y), ".", ms=1, alpha=0.3)
        xx = np.linspace(x.min(), x.max(), 2)
        ax.plot(xx, np.degrees(fit[key]["slope"] * xx + fit[key]["intercept"]), "r-", lw=1)
        ax.set_title(f"{key}: {np.degrees(fit[key]['slope']):.1f} deg/unit, "
                     f"R^2 {fit[key]['r2']:.2f}", fontsize=9)
        ax.set_xlabel("Out - In" if "yaw" in key else "Up - Down")
        ax.set_ylabel("rotation (deg)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _rounded(obj, digits: int = 5):
    if isinstance(obj, float):
        return round(obj, digits) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v, digits) for v in obj]
    if isinstance(obj, np.generic):
        return _rounded(obj.item(), digits)
    return obj


def report(folder: str | Path | None = None, *, json_out: str | None = None,
           markdown: str | None = None, plots: str | None = None,
           baseline: str = "idle") -> dict:
    """What ``emoface dev livelink-report`` does: the tables as Markdown (to ``markdown``, or
    stdout when it is absent or '-'), every statistic as JSON (``json_out``), the blink and
    gaze figures (``plots``, a folder). Returns the summary; a bad folder is a UserError."""
    folder = Path(folder) if folder else default_folder()
    takes = load_takes(folder)
    summary = summarise(folder, baseline=baseline, takes=takes)
    text = to_markdown(summary)
    if json_out:
        Path(json_out).write_text(json.dumps(_rounded(summary), indent=1) + "\n")
    if markdown and markdown != "-":
        Path(markdown).write_text(text)
    else:
        sys.stdout.write(text)
    if plots:
        out = Path(plots)
        out.mkdir(parents=True, exist_ok=True)
        plot_blinks(_plot_choice(takes, baseline), out / "calibration_blinks.png",
                    seconds=30)
        if summary["eye_angles"]:
            plot_gaze(takes, out / "calibration_gaze.png", summary["eye_angles"])
    return summary


def _plot_choice(takes: Sequence[Take], baseline: str) -> list[Take]:
    """The hard cases beside the easy one: the baseline take, the take with the most long
    closures (not counted as blinks) and the take with the fewest blinks per minute."""
    described = [(t, detect_blinks(t.anim)) for t in takes]
    pick = [t for t, _ in described if t.label == baseline][:1]
    pick.append(max(described, key=lambda tb: len(detect_closures(tb[0].anim, tb[1])))[0])
    pick.append(min(described, key=lambda tb: blink_rate_per_minute(tb[0].anim, tb[1]))[0])
    unique: list[Take] = []
    for t in pick:
        if all(t is not u for u in unique):
            unique.append(t)
    return unique
