"""What emotion a voice carries, from the model's emotion branch.

Used by ``emoface emotion`` (per file, optionally per second) and by ``auto`` for engines
that have no emotion branch of their own (the rule engine)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..emotion import EMOTIONS, EmotionTrack


@dataclass(frozen=True)
class Heard:
    emotion: str                 # the most probable emotion
    probs: dict[str, float]      # all 8
    intensity: float             # 0..1
    timeline: list[dict]         # per window: {"time", "emotion", "probs", "intensity"}


def _inputs(speech):
    from .engine import model_inputs

    return model_inputs(speech.samples, speech.prosody())


def hear(speech, timeline: bool = False, weights=None) -> Heard:
    """Classify a whole utterance; with ``timeline``, also every second (4-s windows)."""
    from .engine import heard_emotion, predictor

    pred = predictor(weights)
    mel, prosody = _inputs(speech)
    probs, intensity = pred.emotion(mel, prosody)
    rows = []
    if timeline:
        centres, table = heard_emotion(pred, mel, prosody)
        rows = [{"time": round(float(t), 2), "emotion": EMOTIONS[int(r[:8].argmax())],
                 "probs": {e: round(float(p), 4) for e, p in zip(EMOTIONS, r[:8])},
                 "intensity": round(float(r[8]), 3)} for t, r in zip(centres, table)]
    return Heard(EMOTIONS[int(probs.argmax())], {e: float(p) for e, p in zip(EMOTIONS, probs)},
                 float(intensity), rows)


def heard_track(speech, weights=None) -> EmotionTrack:
    """The emotion heard over time, as an emotion track (amounts = probability x intensity)."""
    from .engine import heard_emotion, predictor

    mel, prosody = _inputs(speech)
    centres, table = heard_emotion(predictor(weights), mel, prosody)
    amounts = table[:, :8] * table[:, 8:9]
    amounts[:, 0] = 0.0  # neutral is what the others leave
    return EmotionTrack(centres.astype(np.float64), amounts.astype(np.float32))
