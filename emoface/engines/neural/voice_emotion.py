"""What emotion a voice carries, from the model's emotion branch.

Used by ``emoface emotion`` (per file, optionally per second) and by ``auto`` for engines
that have no emotion branch of their own (the rule engine)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...emotion import EMOTIONS, EmotionTrack
from .engine import Predictor, heard_emotion, model_inputs


@dataclass(frozen=True)
class Heard:
    emotion: str                 # the most probable emotion
    probs: dict[str, float]      # all 8
    intensity: float             # 0..1
    timeline: list[dict]         # per window: {"time", "emotion", "probs", "intensity"}


class VoiceEmotion:
    """The model's emotion branch on its own: load once, hear many."""

    def __init__(self, weights=None, predictor: Predictor | None = None):
        self.predictor = predictor or Predictor(weights)

    def _inputs(self, speech):
        return model_inputs(speech.samples, speech.prosody())

    def hear(self, speech, timeline: bool = False) -> Heard:
        """Classify a whole utterance; with ``timeline``, also every second (4-s windows)."""
        mel, prosody = self._inputs(speech)
        probs, intensity = self.predictor.emotion(mel, prosody)
        rows = []
        if timeline:
            centres, table = heard_emotion(self.predictor, mel, prosody)
            rows = [{"time": round(float(t), 2), "emotion": EMOTIONS[int(r[:8].argmax())],
                     "probs": {e: round(float(p), 4) for e, p in zip(EMOTIONS, r[:8])},
                     "intensity": round(float(r[8]), 3)} for t, r in zip(centres, table)]
        return Heard(EMOTIONS[int(probs.argmax())], {e: float(p) for e, p in zip(EMOTIONS, probs)},
                     float(intensity), rows)

    def heard_track(self, speech) -> EmotionTrack:
        """The emotion heard over time, as an emotion track (amounts = probability x
        intensity)."""
        mel, prosody = self._inputs(speech)
        centres, table = heard_emotion(self.predictor, mel, prosody)
        amounts = table[:, :8] * table[:, 8:9]
        amounts[:, 0] = 0.0  # neutral is what the others leave
        return EmotionTrack(centres.astype(np.float64), amounts.astype(np.float32))
