"""The Animation value type: per-frame ARKit weights plus head, eyes and emotion.

Everything downstream of an engine (exports, rendering, streaming, evaluation) takes an
:class:`Animation`; engines make one. Frame ``i`` is at time ``i / fps`` seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .arkit import ARKIT_NAMES, INDEX, NUM_BLENDSHAPES
from .emotion import EMOTIONS

EYE_CHANNELS = ("leftYaw", "leftPitch", "leftRoll", "rightYaw", "rightPitch", "rightRoll")
HEAD_CHANNELS = ("yaw", "pitch", "roll")
SUPPORTED_FPS = (30.0, 60.0)


def frame_count(duration_s: float, fps: float) -> int:
    """Frames covering ``duration_s`` seconds: one per ``1/fps`` step, at least one."""
    return max(1, int(round(duration_s * fps)))


@dataclass
class Animation:
    """ARKit blendshape animation.

    weights:        (T, 52) float32 in [0, 1], columns in :data:`ARKIT_NAMES` order
    fps:            frames per second (30 by default, 60 allowed)
    head:           (T, 3) yaw, pitch, roll in radians, or None
    eyes:           (T, 6) left yaw/pitch/roll, right yaw/pitch/roll in radians, or None

    Rotation signs are Live Link Face's (measured on real captures, docs/calibration.md):
    yaw positive toward the character's right, pitch positive looking down, roll positive
    tilting toward the character's right shoulder.
    emotion_probs:  (T, 8) the per-frame emotion mix the engine used, or None
    meta:           JSON-serialisable facts (engine, source audio, seed, ...)
    """

    weights: np.ndarray
    fps: float = 30.0
    head: np.ndarray | None = None
    eyes: np.ndarray | None = None
    emotion_probs: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, np.float32)
        if w.ndim != 2 or w.shape[1] != NUM_BLENDSHAPES:
            raise ValueError(f"weights must be (T, {NUM_BLENDSHAPES}), got {w.shape}")
        self.weights = w
        self.fps = float(self.fps)
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        for name, width in (("head", 3), ("eyes", 6), ("emotion_probs", len(EMOTIONS))):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value, np.float32)
            if value.shape != (len(w), width):
                raise ValueError(f"{name} must be ({len(w)}, {width}), got {value.shape}")
            setattr(self, name, value)

    # ----------------------------------------------------------------- views
    @property
    def names(self) -> tuple[str, ...]:
        return ARKIT_NAMES

    @property
    def num_frames(self) -> int:
        return len(self.weights)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.num_frames) / self.fps

    def channel(self, name: str) -> np.ndarray:
        return self.weights[:, INDEX[name]]

    # ------------------------------------------------------------- transforms
    def resample(self, fps: float) -> Animation:
        """The same motion at another frame rate (linear interpolation in time)."""
        fps = float(fps)
        if fps == self.fps:
            return self
        n = frame_count(self.duration, fps)
        src, dst = self.times, np.arange(n) / fps

        def interp(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            return np.stack([np.interp(dst, src, a[:, j]) for j in range(a.shape[1])], 1)

        probs = interp(self.emotion_probs)
        if probs is not None:
            probs = probs / np.maximum(probs.sum(1, keepdims=True), 1e-8)
        return replace(self, weights=np.clip(interp(self.weights), 0, 1), fps=fps,
                       head=interp(self.head), eyes=interp(self.eyes), emotion_probs=probs,
                       meta=dict(self.meta))

    def slice(self, start: int, stop: int) -> Animation:
        cut = lambda a: None if a is None else a[start:stop]  # noqa: E731
        return replace(self, weights=self.weights[start:stop], head=cut(self.head),
                       eyes=cut(self.eyes), emotion_probs=cut(self.emotion_probs),
                       meta=dict(self.meta))


def frames_inside(start: float, end: float, fps: float, num_frames: int) -> np.ndarray:
    """Frames sampled inside [start, end]; if none is (an interval shorter than a frame
    step), the frame nearest its centre. This is how "a frame inside a phone" is counted."""
    inside = np.arange(int(np.ceil(start * fps - 1e-9)), int(np.floor(end * fps + 1e-9)) + 1)
    inside = inside[(inside >= 0) & (inside < num_frames)]
    if len(inside):
        return inside
    centre = int(round(0.5 * (start + end) * fps))
    return np.array([min(max(centre, 0), num_frames - 1)])


def frames_overlapping(start: float, end: float, fps: float, num_frames: int) -> np.ndarray:
    """Frames whose sampling interval [t - 0.5/fps, t + 0.5/fps] overlaps [start, end]."""
    first = max(int(np.floor(start * fps + 0.5)), 0)
    last = min(int(np.ceil(end * fps - 0.5)), num_frames - 1)
    return np.arange(first, last + 1) if last >= first else np.zeros(0, np.int64)
