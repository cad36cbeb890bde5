"""Emotional speaking styles for espeak-ng: how each emotion changes rate, pitch, pitch
range and loudness.

Directions follow Murray & Arnott (1993), "Toward the simulation of emotion in synthetic
speech: a review of the literature on human vocal emotion", JASA 93(2): anger faster,
higher and much wider pitch, louder; happiness higher and wider pitch, louder; sadness
slower, lower, narrower, softer; fear much faster, much higher pitch, wider range;
disgust much slower and lower. Surprise and contempt are not in that table: surprise is
set high and very wide, contempt slow, low and flat, by design. Magnitudes are ours,
chosen to stay intelligible within espeak's parameter ranges.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..emotion import EMOTIONS


@dataclass(frozen=True)
class VoiceStyle:
    rate: float         # words per minute (espeak default 175)
    pitch: float        # 0-99 (default 50)
    pitch_range: float  # 0-99 (default 50)
    volume: float       # 0-200 (default 100)


STYLES: dict[str, VoiceStyle] = {
    "neutral": VoiceStyle(165, 50, 50, 100),
    "happy": VoiceStyle(180, 62, 75, 115),
    "sad": VoiceStyle(135, 38, 25, 75),
    "angry": VoiceStyle(190, 56, 80, 135),
    "fearful": VoiceStyle(200, 68, 65, 95),
    "disgusted": VoiceStyle(140, 40, 55, 90),
    "surprised": VoiceStyle(175, 70, 90, 115),
    "contempt": VoiceStyle(150, 42, 35, 95),
}


def style_for(amounts: np.ndarray) -> VoiceStyle:
    """Blend styles by an 8-vector of emotion amounts (neutral fills the rest)."""
    amounts = np.asarray(amounts, np.float64)
    rest = max(0.0, 1.0 - amounts[1:].sum())
    weights = np.concatenate([[rest], amounts[1:]])
    table = np.array([[s.rate, s.pitch, s.pitch_range, s.volume]
                      for s in (STYLES[e] for e in EMOTIONS)])
    return VoiceStyle(*(weights @ table / weights.sum()))
