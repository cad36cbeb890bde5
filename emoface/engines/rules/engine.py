"""The rule-based animator: timed phones + prosody + emotion -> Animation.

Layers, composed in this order:
  1. speech: viseme targets blended by dominance (coarticulation.py), jaw scaled by
     loudness and by the emotion's articulation gain;
  2. expression: FACS-built emotion poses following the emotion track (expressions.py),
     with smiles and stretches yielding to lip rounding;
  3. brow accents on pitch peaks, and what the transcript's words add (text_cues.py);
  4. nonverbal: blinks, gaze, head motion with nods and emotional posture (nonverbal.py);
  5. constraints: lips sealed on /p b m/, lower lip tucked on /f v/ (constraints.py).
Same inputs and seed give the identical animation.
"""
from __future__ import annotations

import numpy as np

from ...animation import Animation, frame_count
from ...arkit import INDEX
from ...audio.phones import Phone
from ...emotion import EmotionTrack
from ...errors import note
from ...text.words import TimedWord, timed_words
from .. import nonverbal
from ..base import Capabilities, Engine
from ..neural.checkpoint import weights_available
from ..neural.voice_emotion import VoiceEmotion
from . import constraints, expressions
from . import params as P
from .coarticulation import blend, segments_from_phones
from .text_cues import text_cues

ENGINE_NAME = "rules"
_JAW = INDEX["jawOpen"]
_OPENERS = [INDEX[n] for n in ("mouthLowerDownLeft", "mouthLowerDownRight",
                               "mouthUpperUpLeft", "mouthUpperUpRight")]
_ROUND = [INDEX["mouthFunnel"], INDEX["mouthPucker"]]
_SPREADERS = [INDEX[n] for n in ("mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft",
                                 "mouthStretchRight", "mouthDimpleLeft", "mouthDimpleRight")]


def animate_phones(phones: list[Phone], prosody, duration: float, emotion: EmotionTrack,
                   fps: float = 30.0, seed: int = 0,
                   words: list[TimedWord] | None = None) -> Animation:
    """Animate ``duration`` seconds of speech described by ``phones`` and ``prosody``
    (an object with ``times``, ``loudness`` 0..1, ``f0`` Hz with 0 when unvoiced).
    ``words`` (the transcript's words in time) add the text-aware cues of
    :mod:`.text_cues`; without them the animation is what the audio alone gives."""
    rng = np.random.default_rng(seed)
    n = frame_count(duration, fps)
    t = np.arange(n) / fps
    amounts = emotion.at(t)
    loud = _loudness_at(prosody, t, fps)
    speaking = nonverbal.speaking_mask(phones, t)

    # 1. speech
    w = blend(segments_from_phones(phones), t)
    scale = (P.JAW_LOUDNESS_FLOOR + (1 - P.JAW_LOUDNESS_FLOOR) * loud / P.TYPICAL_LOUDNESS)
    scale = np.clip(scale, P.JAW_LOUDNESS_FLOOR, 1.4) * expressions.articulation_gain(amounts)
    w[:, _JAW] *= scale
    w[:, _OPENERS] *= (0.6 + 0.4 * scale)[:, None]

    # 2. expression, breathing slightly so held emotions are not frozen masks
    expr = expressions.expression(amounts)
    expr *= (1.0 + P.EXPRESSION_WOBBLE * nonverbal.smooth_noise(n, fps, 1.2, rng))[:, None]
    rounding = w[:, _ROUND].max(1)
    expr[:, _SPREADERS] *= (1.0 - 0.6 * rounding)[:, None]
    expr[:, _JAW] *= 1.0 - 0.5 * speaking  # an expressive jaw drop gives way to articulation
    w += expr

    # 3. brows rise (or, in anger, lower) on pitch accents
    accent_t, prominence = nonverbal.pitch_accents(np.asarray(prosody.times),
                                                   np.asarray(prosody.f0),
                                                   np.asarray(prosody.loudness))
    heights = P.BROW_ACCENT_AMPLITUDE * np.clip(prominence / 3.0, 0.3, 1.5)
    brow = nonverbal.pulses(t, accent_t, heights, rise=0.12, decay=0.3)
    # 3b. what the words add: emphasis, questions, negation, valence, phrase-end blinks
    cues = text_cues(words or [], t, fps, amounts, accent_t, prominence)
    w += expressions.brow_accent(brow + cues.brow, amounts)
    w += cues.upper

    # 4. blinks, gaze and head, with nods on the same accents
    posture = nonverbal.nods(t, accent_t, prominence) + expressions.head_posture(amounts)
    posture = posture + cues.head
    head, eyes = nonverbal.eyes_and_head(w, t, fps, phones, amounts, posture, rng,
                                         phrase_blinks=cues.blinks)

    # 5. constraints, then the contract's range
    np.clip(w, 0.0, 1.0, out=w)
    constraints.enforce(w, phones, fps)
    np.clip(w, 0.0, 1.0, out=w)
    return Animation(w.astype(np.float32), fps, head=head, eyes=eyes, emotion_probs=amounts,
                     meta={"engine": ENGINE_NAME, "seed": int(seed),
                           "phones": [[round(p.start, 4), round(p.end, 4), p.phone]
                                      for p in phones]})


def _loudness_at(prosody, t: np.ndarray, fps: float) -> np.ndarray:
    """Loudness (0..1) at frame times, lightly smoothed (the jaw is slower than the voice)."""
    times = np.asarray(prosody.times)
    if len(times) == 0:
        return np.zeros(len(t), np.float32)
    loud = np.interp(t, times, np.asarray(prosody.loudness, np.float64))
    width = max(1, round(0.05 * fps))
    return nonverbal._moving_average(loud, width).astype(np.float32)


def animate(speech, emotion: EmotionTrack, fps: float = 30.0, seed: int = 0,
            use_words: bool = True) -> Animation:
    """Animate a :class:`emoface.audio.Speech` (phones and prosody computed as needed);
    without ``use_words`` a transcript places the phones only."""
    phones = speech.phones()
    anim = animate_phones(phones, speech.prosody(), speech.duration, emotion, fps, seed,
                          words=timed_words(phones, speech.text) if use_words else None)
    anim.meta["phone_method"] = speech.phone_method
    return anim


class RulesEngine(Engine):
    """The rule-based animator. ``auto`` asks the bundled voice emotion model (loaded on
    first use, then kept), or animates neutral when it is not installed."""

    name = ENGINE_NAME
    description = ("the rule-based animator: visemes with coarticulation, FACS expressions, "
                   "blinks, gaze, head; best with a transcript")
    capabilities = Capabilities(reads_transcript=True, reads_words=True, teacher=True)

    def __init__(self):
        self._voice = None

    def _heard_track(self, speech) -> EmotionTrack:
        if self._voice is None:
            if not weights_available():
                note("emotion 'auto' needs the bundled voice emotion model, which is not "
                     "installed; animating neutral (give --emotion NAME to choose one)")
                return EmotionTrack.constant("neutral")
            self._voice = VoiceEmotion()
        return self._voice.heard_track(speech)

    def _animate(self, speech, track, fps, seed):
        return animate(speech, track if track is not None else self._heard_track(speech),
                       fps=fps, seed=seed, use_words=self.use_words)
