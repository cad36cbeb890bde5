"""What emotion a voice carries, calibrated (:mod:`.calibration`): from the classifier on
Whisper encoder features (:mod:`.whisper_emotion`) when the speech front-end and its tiny.en
weights are installed, else from the network's own emotion branch. ``branch`` picks one
("whisper", "network"); ``$EMOFACE_VOICE_EMOTION`` sets the default.

Used by ``emoface emotion`` (per file, optionally per second) and by ``auto`` for engines
that have no emotion branch of their own (the rule engine)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...emotion import EMOTIONS, EmotionTrack
from .calibration import Calibration, bundled_calibration
from .engine import Predictor, calibrated_rows, heard_emotion, model_inputs, voiced_shares
from .whisper_emotion import choose_whisper, heard_table


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
    """A voice emotion classifier on its own: load once, hear many. Given network
    ``weights`` or a ``predictor``, the network's branch; else ``branch`` (see
    :func:`choose_whisper`). ``calibration`` defaults to the chosen classifier's own
    (the Whisper asset's, or ``assets/voice_calibration.json`` for the network)."""

    def __init__(self, weights=None, predictor: Predictor | None = None,
                 calibration: Calibration | None = None, branch: str | None = None):
        explicit = weights is not None or predictor is not None
        self.whisper = None if explicit else choose_whisper(branch)
        self._weights, self._predictor = weights, predictor
        if calibration is None:
            calibration = self.whisper.calibration if self.whisper else bundled_calibration()
        self.calibration = calibration
        if self.whisper is None:
            self._predictor = self.predictor   # load now: a missing model shows here

    @property
    def branch(self) -> str:
        return "whisper" if self.whisper else "network"

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            self._predictor = Predictor(self._weights)
        return self._predictor

    def _inputs(self, speech):
        return model_inputs(speech.samples, speech.prosody())

    def _windows(self, speech, mel, prosody):
        """(centres, (K, 9) table, voiced shares) over time from the chosen classifier."""
        if self.whisper:
            return heard_table(self.whisper, speech.samples, prosody)
        return heard_emotion(self.predictor, mel, prosody, with_voiced=True)

    def _whole(self, speech, mel, prosody) -> tuple[np.ndarray, float]:
        if self.whisper:
            _, table, _ = heard_table(self.whisper, speech.samples, prosody)
            probs = table[:, :len(EMOTIONS)].mean(0)
            return probs, float(1.0 - probs[EMOTIONS.index("neutral")])
        return self.predictor.emotion(mel, prosody)

    def raw(self, speech) -> tuple[np.ndarray, float]:
        """The classifier's own 8 probabilities and intensity head for the whole utterance
        (the Whisper classifier: the mean over its 2-s windows, head 1 - p(neutral))."""
        mel, prosody = self._inputs(speech)
        return self._whole(speech, mel, prosody)

    def hear(self, speech, timeline: bool = False) -> Heard:
        """Classify a whole utterance; with ``timeline``, also every second (4-s windows;
        2-s windows for the Whisper classifier)."""
        cal = self.calibration
        mel, prosody = self._inputs(speech)
        raw, head = self._whole(speech, mel, prosody)
        voiced = float(voiced_shares(prosody, [(0, len(prosody))])[0]) if len(prosody) else 0.0
        probs, intensity = calibrated_rows(np.concatenate([raw, [head]])[None], [voiced], cal)
        verdict, top, p = _row(cal, probs[0], float(intensity[0]))
        reason = "" if verdict == top else (
            "no voiced speech" if voiced < cal.min_voiced else "unsure")
        rows = []
        if timeline:
            centres, table, shares = self._windows(speech, mel, prosody)
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
        centres, table, shares = self._windows(speech, mel, prosody)
        probs, intensity = calibrated_rows(table, shares, self.calibration)
        amounts = probs * intensity[:, None]
        amounts[:, 0] = 0.0  # neutral is what the others leave
        return EmotionTrack(centres.astype(np.float64), amounts.astype(np.float32))
