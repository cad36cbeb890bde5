"""Render-and-recover: animate a rig with known random smooth curves and head turns,
render it to a video, capture that video, and compare what comes back with the truth.

Used by tools/capture_recover.py (the report) and tests/test_capture.py (a short clip).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..render.scene import FaceRenderer
from ..render.video import encode, resolve_rig
from . import capture
from .takes import random_take

# Shapes the report lists (the targets); L/R pairs are reported separately.
REPORTED = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft",
            "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "mouthStretchLeft",
            "mouthStretchRight", "mouthLowerDownLeft", "mouthLowerDownRight",
            "mouthUpperUpLeft", "mouthUpperUpRight", "eyeBlinkLeft", "eyeBlinkRight",
            "eyeWideLeft", "eyeWideRight", "eyeSquintLeft", "eyeSquintRight", "browInnerUp",
            "browDownLeft", "browDownRight", "browOuterUpLeft", "browOuterUpRight",
            "cheekSquintLeft", "cheekSquintRight")
def render_clip(anim: Animation, rig, path: str | os.PathLike,
                size: tuple[int, int] = (360, 360)) -> Path:
    """Render ``anim`` on ``rig`` (front view, MSAA) into a silent H.264 video at ``path``."""

    renderer = FaceRenderer(resolve_rig(rig), size, "front", samples=4)
    try:
        encode(renderer.frames(anim), anim.num_frames, size[0], size[1], anim.fps, path)
    finally:
        renderer.release()
    return Path(path)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 0 else float("nan")


def compare(truth: Animation, got: Animation) -> dict:
    """Pearson r per reported shape and head error (degrees: mean abs, max abs)."""
    n = min(truth.num_frames, got.num_frames)
    r = {name: pearson(truth.channel(name)[:n], got.channel(name)[:n]) for name in REPORTED}
    err = np.degrees(np.abs(truth.head[:n] - got.head[:n]))
    return {"r": r, "head_mean_deg": err.mean(0).tolist(), "head_max_deg": err.max(0).tolist()}


def render_and_recover(rig="default", frames: int = 250, fps: float = 25.0, seed: int = 0,
                       neutral: str = "rig", cache_dir=None, size=(360, 360),
                       progress: bool = False, head: bool = True
                       ) -> tuple[dict, Animation, Animation]:
    """Render a random take on ``rig``, capture it back: (comparison, truth, captured).
    ``head=False`` keeps the head still (the expression solve alone)."""

    truth = random_take(frames, fps, seed, head=head)
    if truth.head is None:
        truth.head = np.zeros((frames, 3), np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        clip = render_clip(truth, rig, Path(tmp) / "clip.mp4", size)
        got = capture(clip, rig=rig, cache_dir=cache_dir, neutral=neutral, progress=progress)
    return compare(truth, got), truth, got
