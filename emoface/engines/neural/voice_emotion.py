"""What emotion a voice carries, from the model's emotion branch, calibrated
(:mod:`.calibration`).

Used by ``emoface emotion`` (per file, optionally per second) and by ``auto`` for engines
that have no emotion branch of their own (the rule engine)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...emotion import EMOTIONS, EmotionTrack
from .calibration import Calibration, bundled_calibration
from .engine import Predictor, calibrated_rows, heard_emotion, model_inputs, voiced_shares


@dataclass(frozen=True)
class Heard:
    emotion: str                 # the verdict: the top emotion, or neutral when unsure
    probs: dict[str, float]      # all 8, calibrated
    intensity: float             # 0..1, calibrated: the intensity head x the certainty
    timeline: list[dict]         # per window: {"time", "emotion", "top", "probability", ...}
    top: str = "neutral"         # the most probable emotion (calibrated)
    probability: float = 0.0     # its calibrated probability
    raw_probs: dict[str, float] | None = None   # the branch's own softmax
    raw_intensity: float = 0.0   # the branch's own intensity head
    voiced: float = 0.0          # share of voiced frames
    reason: str = ""             # why the verdict is neutral: "unsure", "no voiced speech"


def _row(cal: Calibration, probs: np.ndarray, intensity: float) -> tuple[str, str, float]:
    """(verdict, top emotion, its probability) of one calibrated row."""
    top = int(probs.argmax())
    verdict = EMOTIONS[top] if intensity >= cal.min_intensity else "neutral"
    return verdict, EMOTIONS[top], float(probs[top])


class VoiceEmotion:
    """The model's emotion branch on its own: load once, hear many. ``calibration``
    defaults to the bundled one (``assets/voice_calibration.json``)."""

    def __init__(self, weights=None, predictor: Predictor | None = None,
                 calibration: Calibration | None = None):
        self.predictor = predictor or Predictor(weights)
        self.calibration = calibration if calibration is not None else bundled_calibration()

    def _inputs(self, speech):
        return model_inputs(speech.samples, speech.prosody())

    def raw(self, speech) -> tuple[np.ndarray, float]:
        """The branch's own 8 probabilities and intensity head for the whole utterance."""
        mel, prosody = self._inputs(speech)
        return self.predictor.emotion(mel, prosody)

    def hear(self, speech, timeline: bool = False) -> Heard:
        """Classify a whole utterance; with ``timeline``, also every second (4-s windows)."""
        cal = self.calibration
        mel, prosody = self._inputs(speech)
        raw, head = self.predictor.emotion(mel, prosody)
        voiced = float(voiced_shares(prosody, [(0, len(prosody))])[0]) if len(prosody) else 0.0
        probs, intensity = calibrated_rows(np.concatenate([raw, [head]])[None], [voiced], cal)
        verdict, top, p = _row(cal, probs[0], float(intensity[0]))
        reason = "" if verdict == top else (
            "no voiced speech" if voiced < cal.min_voiced else "unsure")
        rows = []
        if timeline:
            centres, table, shares = heard_emotion(self.predictor, mel, prosody, with_voiced=True)
            cp, ci = calibrated_rows(table, shares, cal)
            for t, r, i in zip(centres, cp, ci):
                v, tp, pp = _row(cal, r, float(i))
                rows.append({"time": round(float(t), 2), "emotion": v, "top": tp,
                             "probability": round(pp, 4),
                             "probs": {e: round(float(x), 4) for e, x in zip(EMOTIONS, r)},
                             "intensity": round(float(i), 3)})
        return Heard(verdict, {e: float(x) for e, x in zip(EMOTIONS, probs[0])},
                     float(intensity[0]), rows, top=top, probability=p,
                     raw_probs={e: float(x) for e, x in zip(EMOTIONS, raw)},
                     raw_intensity=float(head), voiced=voiced, reason=reason)

    def heard_track(self, speech) -> EmotionTrack:
        """The emotion heard over time, as an emotion track (amounts = calibrated
        probability x calibrated intensity; nothing where the voice is unsure)."""
        mel, prosody = self._inputs(speech)
        centres, table, shares = heard_emotion(self.predictor, mel, prosody, with_voiced=True)
        probs, intensity = calibrated_rows(table, shares, self.calibration)
        amounts = probs * intensity[:, None]
        amounts[:, 0] = 0.0  # neutral is what the others leave
        return EmotionTrack(centres.astype(np.float64), amounts.astype(np.float32))
