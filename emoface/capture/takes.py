"""Random smooth animations with known weights and head turns: what the landmark basis is
fitted on (:mod:`.basis`) and the truth render-and-recover compares against (:mod:`.recover`).
"""
from __future__ import annotations

import numpy as np

from ..animation import Animation
from ..arkit import ARKIT_NAMES, INDEX

HEAD_LIMITS = np.radians([15.0, 10.0, 8.0])   # yaw, pitch, roll amplitude of the test
_PAIRS = (("jawLeft", "jawRight"), ("mouthLeft", "mouthRight"))
_SKIP = tuple(n for n in ARKIT_NAMES if n.startswith("eyeLook")) + ("tongueOut",)


def _smooth_noise(n: int, fps: float, timescale_s: float, rng) -> np.ndarray:
    """Zero-mean, unit-std noise varying over about ``timescale_s`` seconds."""
    sigma = max(timescale_s * fps / 2, 1.0)
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    x = np.convolve(rng.standard_normal(n + 2 * r), k, mode="valid")
    return (x - x.mean()) / (x.std() + 1e-9)


def _bursts(frames: int, fps: float, rate_hz: float, rng, low: float = 0.3,
            high: float = 0.9) -> np.ndarray:
    """Smooth raised-cosine bursts (0.25-1 s long, heights in [low, high]) at random times."""
    x = np.zeros(frames)
    t = np.arange(frames) / fps
    for _ in range(rng.poisson(rate_hz * frames / fps)):
        centre, half = rng.uniform(0, frames / fps), rng.uniform(0.12, 0.5)
        u = np.clip((t - centre) / half, -1, 1)
        x = np.maximum(x, rng.uniform(low, high) * 0.5 * (1 + np.cos(np.pi * u)))
    return x


def random_take(frames: int, fps: float = 25.0, seed: int = 0, head: bool = True) -> Animation:
    """Known random smooth animation, sparse like real faces: each shape comes in bursts
    (about one every 3 s, up to 0.9), the jaw about twice a second as in speech, opposite
    jaw/mouth shifts never together, mouthClose never above jawOpen; the head turns
    smoothly within 15/10/8 degrees of yaw/pitch/roll."""
    rng = np.random.default_rng(seed)
    w = np.zeros((frames, len(ARKIT_NAMES)))
    for k, name in enumerate(ARKIT_NAMES):
        if name not in _SKIP:
            w[:, k] = _bursts(frames, fps, 0.3, rng)
    w[:, INDEX["jawOpen"]] = _bursts(frames, fps, 2.0, rng, 0.1, 0.8)
    for left, right in _PAIRS:
        a, b = w[:, INDEX[left]], w[:, INDEX[right]]
        a[a < b], b[b <= a] = 0, 0
    w[:, INDEX["mouthClose"]] = np.minimum(w[:, INDEX["mouthClose"]], w[:, INDEX["jawOpen"]])
    rot = None
    if head:
        rot = np.stack([lim * np.clip(_smooth_noise(frames, fps, 1.0, rng) / 2, -1, 1)
                        for lim in HEAD_LIMITS], 1)
    return Animation(w.astype(np.float32), fps=fps, head=rot,
                     eyes=np.zeros((frames, 6), np.float32), meta={"engine": "random"})
