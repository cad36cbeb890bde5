"""What a face does besides articulating: blinks, gaze, brow accents, head motion.

All of it is random but seeded, and shaped by the speech: blinks gather at pauses, brows
rise and the head nods on pitch accents, the head moves more while speaking than while
listening. Rates and amplitudes come from :mod:`emoface.engines.rules.calibration` (measured on
the Live Link captures where they could be, literature where they could not).

Rotation conventions (radians) are those of Live Link Face captures (measured on the
shared takes, see docs/calibration.md): yaw positive toward the character's right, pitch
positive looking down; roll positive tilts toward the character's right shoulder. Head and
eyes use the same signs.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..arkit import INDEX, NUM_BLENDSHAPES
from ..audio.phones import Phone
from .rules import params as P
from .rules.expressions import blink_gain, head_motion_gain


@dataclass(frozen=True)
class Layers:
    weights: np.ndarray  # (T, 52) additive upper-face and eye weights
    blink: np.ndarray    # (T,) lid closure from blinks, 0..1
    eyes: np.ndarray     # (T, 6) radians
    head: np.ndarray     # (T, 3) radians


# --------------------------------------------------------------------------- timing
def pause_onsets(phones: list[Phone], min_pause: float = 0.25) -> np.ndarray:
    """Times where speech stops for at least ``min_pause`` s (phrase ends)."""
    out, spoken = [], False
    for p in phones:
        if p.is_silence:
            if spoken and p.duration >= min_pause:
                out.append(p.start)
        else:
            spoken = True
    return np.asarray(out)


def speaking_mask(phones: list[Phone], times: np.ndarray, hangover: float = 0.15) -> np.ndarray:
    """1 where a non-silent phone is (with a short hangover), else 0."""
    mask = np.zeros(len(times), np.float32)
    for p in phones:
        if not p.is_silence:
            mask[(times >= p.start - hangover) & (times <= p.end + hangover)] = 1.0
    return mask


def pitch_accents(times: np.ndarray, f0: np.ndarray, loudness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch accents: peaks of f0 (semitones) that stand out from the local level.

    Returns (accent times, prominence in semitones). Frames are on the prosody grid."""
    voiced = (f0 > 0) & (loudness > P.ACCENT_MIN_LOUDNESS)
    if voiced.sum() < 5:
        return np.zeros(0), np.zeros(0)
    semis = np.zeros_like(f0, dtype=np.float64)
    semis[voiced] = 12 * np.log2(f0[voiced] / np.median(f0[voiced]))
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.01
    # Local reference: median of voiced semitones over a ~1.5 s window.
    half = max(1, int(0.75 / step))
    filled = np.interp(np.arange(len(semis)), np.flatnonzero(voiced), semis[voiced])
    smooth = _moving_average(filled, max(1, int(0.05 / step)))
    from scipy.ndimage import median_filter

    local = median_filter(smooth, size=2 * half + 1, mode="nearest")
    prominence = np.where(voiced, smooth - local, 0.0)
    from scipy.signal import find_peaks

    peaks, props = find_peaks(prominence, height=P.ACCENT_MIN_SEMITONES,
                              distance=max(1, int(P.ACCENT_MIN_GAP / step)))
    return times[peaks], props["peak_heights"]


def _moving_average(x: np.ndarray, n: int) -> np.ndarray:
    if n <= 1:
        return x
    kernel = np.ones(n) / n
    return np.convolve(np.pad(x, (n // 2, n - 1 - n // 2), mode="edge"), kernel, mode="valid")


# --------------------------------------------------------------------------- blinks
def blink_times(duration: float, pauses: np.ndarray, speaking_share: float, rate_gain: float,
                rng: np.random.Generator) -> np.ndarray:
    """A renewal process at the calibrated rate (higher while speaking); a blink shortly
    before a pause moves to it, so blinks gather at phrase ends at an unchanged rate."""
    rate = (P.BLINK_RATE_REST_PER_MIN
            + speaking_share * (P.BLINK_RATE_SPEAKING_PER_MIN - P.BLINK_RATE_REST_PER_MIN))
    mean_gap = 60.0 / (rate * max(rate_gain, 1e-3))
    shape = P.BLINK_INTERVAL_GAMMA_SHAPE
    times, t = [], rng.uniform(0.3, mean_gap)
    while t < duration:
        times.append(t)
        t += max(P.BLINK_MIN_GAP, rng.gamma(shape, mean_gap / shape))
    times = np.asarray(times)
    if len(pauses) and len(times):
        for i, bt in enumerate(times):
            j = np.searchsorted(pauses, bt)
            if j < len(pauses) and pauses[j] - bt < P.BLINK_SNAP_TO_PAUSE:
                times[i] = pauses[j] + 0.05
        times = np.unique(np.round(times, 3))
        keep = np.concatenate([[True], np.diff(times) >= P.BLINK_MIN_GAP])
        times = times[keep]
    return times


def blink_curve(times: np.ndarray, blinks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lid closure over ``times`` for blinks peaking at ``blinks``: fast close, slower open."""
    out = np.zeros(len(times), np.float32)
    for b in blinks:
        close = P.BLINK_CLOSE_S * rng.uniform(0.85, 1.15)
        hold = P.BLINK_HOLD_S
        opening = P.BLINK_OPEN_S * rng.uniform(0.85, 1.2)
        amp = np.clip(rng.normal(P.BLINK_AMPLITUDE, 0.05), 0.6, 1.0)
        lo, hi = np.searchsorted(times, [b - close, b + hold + opening])
        t = times[lo:hi] - b
        up = np.clip(1 + t / close, 0, 1)
        down = np.clip(1 - (t - hold) / opening, 0, 1)
        shape = np.where(t < 0, np.sin(0.5 * np.pi * up) ** 2,
                         np.where(t < hold, 1.0, np.sin(0.5 * np.pi * down) ** 2))
        out[lo:hi] = np.maximum(out[lo:hi], amp * shape)
    return out


# ----------------------------------------------------------------------------- gaze
def gaze(times: np.ndarray, speaking: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(T, 2) gaze yaw/pitch in radians: fixations joined by quick saccades. Most
    fixations return near the listener (straight ahead); some look away."""
    duration = times[-1] if len(times) else 0.0
    fix_t, fix = [0.0], [np.zeros(2)]
    t = 0.0
    while t < duration:
        t += max(0.15, rng.gamma(2.0, P.SACCADE_INTERVAL_S / 2.0))
        if rng.random() < P.GAZE_AWAY_PROB:
            target = rng.normal(0, [P.GAZE_AWAY_YAW, P.GAZE_AWAY_PITCH])
        else:
            target = rng.normal(0, [P.GAZE_NEAR, P.GAZE_NEAR * 0.6])
        fix_t.append(t), fix.append(target)
    fix_t, fix = np.asarray(fix_t), np.asarray(fix)
    k = np.searchsorted(fix_t, times, side="right") - 1
    prev = fix[np.maximum(k - 1, 0)]
    u = np.clip((times - fix_t[k]) / P.SACCADE_DURATION_S, 0, 1)
    u = u * u * (3 - 2 * u)
    return (prev * (1 - u[:, None]) + fix[k] * u[:, None]).astype(np.float32)


def gaze_channels(g: np.ndarray) -> np.ndarray:
    """Gaze (T, 2) yaw/pitch -> eyeLook* weights (T, 52). Looking toward the character's
    right is the right eye looking out and the left eye looking in."""
    w = np.zeros((len(g), NUM_BLENDSHAPES), np.float32)
    yaw = g[:, 0] / P.EYE_YAW_PER_WEIGHT
    right, left = np.clip(yaw, 0, 1), np.clip(-yaw, 0, 1)
    w[:, INDEX["eyeLookOutRight"]] = right
    w[:, INDEX["eyeLookInLeft"]] = right
    w[:, INDEX["eyeLookInRight"]] = left
    w[:, INDEX["eyeLookOutLeft"]] = left
    down = np.clip(g[:, 1] / P.EYE_PITCH_DOWN_PER_WEIGHT, 0, 1)
    up = np.clip(-g[:, 1] / P.EYE_PITCH_UP_PER_WEIGHT, 0, 1)
    for side in ("Left", "Right"):
        w[:, INDEX["eyeLookDown" + side]] = down
        w[:, INDEX["eyeLookUp" + side]] = up
    return w


# ---------------------------------------------------------------- brows and head
def pulses(times: np.ndarray, at: np.ndarray, heights: np.ndarray, rise: float,
           decay: float) -> np.ndarray:
    """Sum of smooth bumps (rise then exponential-ish decay) at ``at`` with ``heights``."""
    out = np.zeros(len(times), np.float32)
    for c, h in zip(at, heights):
        lo, hi = np.searchsorted(times, [c - rise, c + 4 * decay])
        t = times[lo:hi] - c
        bump = np.where(t < 0, np.sin(0.5 * np.pi * (1 + t / rise)) ** 2, np.exp(-t / decay))
        out[lo:hi] += h * bump
    return out


def smooth_noise(n: int, fps: float, timescale: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth unit-variance noise whose wiggles last about ``timescale`` s (white noise
    through a Gaussian filter: differentiable, so heads drift instead of trembling)."""
    from scipy.ndimage import gaussian_filter1d

    sigma = max(0.5, 0.5 * timescale * fps)
    pad = int(4 * sigma)
    y = gaussian_filter1d(rng.normal(size=n + 2 * pad), sigma, mode="wrap")[pad:pad + n]
    # Unit variance in expectation (a property of the filter, not of this draw), so short
    # clips are not rescaled by their own sample statistics.
    x = np.arange(-pad, pad + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    return (y / np.sqrt((kernel ** 2).sum())).astype(np.float32)


def nods(times: np.ndarray, accents: np.ndarray, prominence: np.ndarray) -> np.ndarray:
    """(T, 3) head pitch nods (nose down) on pitch accents, bigger for stronger accents."""
    out = np.zeros((len(times), 3), np.float32)
    height = P.HEAD_NOD_RAD * np.clip(prominence / 3.0, 0.3, 1.5)
    out[:, 1] = pulses(times, accents, height, rise=0.12, decay=0.25)
    return out


def head_drift(times: np.ndarray, fps: float, speaking: np.ndarray, motion_gain: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """(T, 3) yaw, pitch, roll wandering: a slow drift plus quicker, smaller movements,
    larger while speaking than while listening."""
    n = len(times)
    activity = 0.6 + 0.6 * _moving_average(speaking, max(1, int(0.5 * fps)))
    std = np.array([P.HEAD_YAW_STD, P.HEAD_PITCH_STD, P.HEAD_ROLL_STD])
    slow, quick = np.sqrt(1 - P.HEAD_QUICK_SHARE), np.sqrt(P.HEAD_QUICK_SHARE)
    drift = np.stack([
        slow * smooth_noise(n, fps, P.HEAD_TIMESCALE_S, rng)
        + quick * smooth_noise(n, fps, P.HEAD_QUICK_TIMESCALE_S, rng) for _ in range(3)
    ], 1) * std * (activity * motion_gain)[:, None]
    return drift.astype(np.float32)


def _with_phrase_blinks(blinks: np.ndarray, phrase: np.ndarray) -> np.ndarray:
    """``phrase`` blinks added to ``blinks``, dropping drawn ones too close to them (a
    blink moves to the boundary rather than doubling)."""
    near = np.abs(blinks[:, None] - phrase[None, :]).min(1) < P.BLINK_SNAP_TO_PAUSE
    return np.sort(np.concatenate([blinks[~near], phrase]))


_BLINK = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]
_WIDE = [INDEX["eyeWideLeft"], INDEX["eyeWideRight"]]
_LOOK_DOWN = [INDEX["eyeLookDownLeft"], INDEX["eyeLookDownRight"]]


def eyes_and_head(w: np.ndarray, times: np.ndarray, fps: float, phones: list[Phone],
                  amounts: np.ndarray, posture: np.ndarray, rng: np.random.Generator,
                  phrase_blinks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Add blinks and gaze to the weights ``w`` (in place) and return (head, eyes).

    ``phones`` only need to tell speech from silence (pauses draw blinks, speech moves the
    head more); ``posture`` (T, 3) is the head's expressive part (emotional posture and
    accent nods), to which the seeded drift is added. Both engines finish with this.
    ``phrase_blinks`` (times of phrase ends the words tell) add blinks there; the seeded
    draws stay the same, so gaze and head drift do not move when they are given."""

    duration = len(times) / fps
    speaking = speaking_mask(phones, times)
    blinks = blink_times(duration, pause_onsets(phones), float(speaking.mean()),
                         float(blink_gain(amounts).mean()), rng)
    if phrase_blinks is not None and len(phrase_blinks):
        shapes = copy.deepcopy(rng)   # the same draws give the kept blinks the same shapes
        blink_curve(times, blinks, rng)
        blink = blink_curve(times, _with_phrase_blinks(blinks, phrase_blinks), shapes)
    else:
        blink = blink_curve(times, blinks, rng)
    g = gaze(times, speaking, rng)
    w += gaze_channels(g)
    w[:, _BLINK] += P.LID_FOLLOWS_GAZE_DOWN * w[:, _LOOK_DOWN]
    w[:, _BLINK] = np.maximum(w[:, _BLINK], blink[:, None] * np.array([1.0, 0.985]))
    w[:, _WIDE] *= (1.0 - blink)[:, None]
    head = head_drift(times, fps, speaking, head_motion_gain(amounts), rng) + posture
    eyes = np.zeros((len(times), 6), np.float32)
    eyes[:, [0, 3]] = g[:, :1]
    eyes[:, [1, 4]] = g[:, 1:]
    return head.astype(np.float32), eyes
