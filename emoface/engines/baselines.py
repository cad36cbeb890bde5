"""Baseline engines: what any real engine must beat (docs/design.md, Evaluation protocol).

``neutral``       the face at rest: every weight 0, no head or eye motion.
``loudness-jaw``  the jaw follows the voice's loudness and nothing else moves: the oldest
                  trick in lip sync, and a fair bar for "the mouth moves with the sound".

Both ignore the emotion and the seed.
"""
from __future__ import annotations

import numpy as np

from ..animation import Animation, frame_count
from ..arkit import INDEX, NUM_BLENDSHAPES
from .base import Capabilities, Engine

# jawOpen at the utterance's loud vowels (normalised loudness 1); the rules engine's open
# vowels sit around 0.35-0.55 at a typical level, so the two open the mouth alike.
LOUDNESS_JAW_GAIN = 0.5
# The jaw is slower than the voice envelope: a 50 ms moving average.
LOUDNESS_SMOOTHING_S = 0.05


def neutral(speech, emotion, fps: float = 30.0, seed: int = 0) -> Animation:
    n = frame_count(speech.duration, fps)
    return Animation(np.zeros((n, NUM_BLENDSHAPES), np.float32), fps,
                     meta={"engine": "neutral"})


def loudness_jaw(speech, emotion, fps: float = 30.0, seed: int = 0) -> Animation:
    n = frame_count(speech.duration, fps)
    pros = speech.prosody()
    t = np.arange(n) / fps
    times = np.asarray(pros.times)
    loud = np.interp(t, times, np.asarray(pros.loudness, np.float64)) if len(times) else np.zeros(n)
    width = max(1, round(LOUDNESS_SMOOTHING_S * fps))
    if width > 1:
        loud = np.convolve(np.pad(loud, (width // 2, width - 1 - width // 2), mode="edge"),
                           np.ones(width) / width, mode="valid")
    w = np.zeros((n, NUM_BLENDSHAPES), np.float32)
    w[:, INDEX["jawOpen"]] = np.clip(LOUDNESS_JAW_GAIN * loud, 0.0, 1.0)
    return Animation(w, fps, meta={"engine": "loudness-jaw"})


class NeutralEngine(Engine):
    name = "neutral"
    description = "baseline: the face at rest"
    capabilities = Capabilities(follows_emotion=False, baseline=True)

    def _animate(self, speech, track, fps, seed):
        return neutral(speech, track, fps, seed)


class LoudnessJawEngine(Engine):
    name = "loudness-jaw"
    description = "baseline: the jaw follows the voice's loudness"
    capabilities = Capabilities(follows_emotion=False, baseline=True)

    def _animate(self, speech, track, fps, seed):
        return loudness_jaw(speech, track, fps, seed)
