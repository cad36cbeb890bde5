"""Emotion taxonomy and the emotion argument grammar.

An emotion argument is one of::

    auto                              inferred from the voice
    happy                             one emotion at the default intensity
    happy:0.7                         one emotion at an intensity in [0, 1]
    happy:0.6+surprised:0.3           a mix (amounts add; their sum is at most 1)
    0:neutral,1.5:happy:0.8,4:sad:0.5 keyframes (seconds); each value may be a mix

Parsed, it becomes an :class:`EmotionTrack`: keyframes of 8-vectors of *amounts*, one per
emotion. ``neutral`` carries no amount of its own: a frame's neutral share is whatever the
others leave (``1 - sum``). Between keyframes the amounts ease smoothly (smoothstep), so
``0:neutral,2:happy`` grows a smile over the first two seconds and holds it after.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import UserError

EMOTIONS: tuple[str, ...] = (
    "neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised", "contempt",
)
NUM_EMOTIONS = len(EMOTIONS)
EMOTION_INDEX = {name: i for i, name in enumerate(EMOTIONS)}

ALIASES: dict[str, str] = {
    "calm": "neutral", "none": "neutral", "normal": "neutral", "boredom": "neutral",
    "bored": "neutral",
    "joy": "happy", "happiness": "happy", "joyful": "happy", "glad": "happy",
    "sadness": "sad", "sorrow": "sad", "unhappy": "sad",
    "anger": "angry", "mad": "angry", "furious": "angry", "rage": "angry",
    "fear": "fearful", "afraid": "fearful", "scared": "fearful", "anxious": "fearful",
    "disgust": "disgusted",
    "surprise": "surprised", "amazed": "surprised", "astonished": "surprised",
    "contemptuous": "contempt", "scorn": "contempt",
}

DEFAULT_INTENSITY = 0.7


def canonical_emotion(word: str) -> str:
    """An emotion name or alias -> its canonical name; UserError when unknown."""
    w = word.strip().lower()
    if w in EMOTION_INDEX:
        return w
    if w in ALIASES:
        return ALIASES[w]
    raise UserError(
        f"unknown emotion {word.strip()!r}; choose one of {', '.join(EMOTIONS)} (or auto)")


@dataclass(frozen=True)
class EmotionTrack:
    """Emotion amounts over time. ``times`` ascending (seconds), ``amounts`` (K, 8)."""

    times: np.ndarray
    amounts: np.ndarray

    @classmethod
    def constant(cls, emotion: str = "neutral", intensity: float = DEFAULT_INTENSITY):
        vec = np.zeros(NUM_EMOTIONS, np.float32)
        name = canonical_emotion(emotion)
        if name != "neutral":
            vec[EMOTION_INDEX[name]] = intensity
        return cls(np.zeros(1, np.float64), vec[None])

    @property
    def is_constant(self) -> bool:
        return len(self.times) == 1 or bool(np.all(self.amounts == self.amounts[0]))

    def at(self, t: np.ndarray) -> np.ndarray:
        """Amounts at times ``t`` (seconds) -> (len(t), 8) float32, neutral column filled."""
        t = np.asarray(t, np.float64)
        k = np.searchsorted(self.times, t, side="right") - 1
        k0 = np.clip(k, 0, len(self.times) - 1)
        k1 = np.clip(k + 1, 0, len(self.times) - 1)
        t0, t1 = self.times[k0], self.times[k1]
        span = np.where(t1 > t0, t1 - t0, 1.0)
        u = np.clip((t - t0) / span, 0.0, 1.0)
        u = np.where(k < 0, 1.0, u)  # before the first keyframe: hold it
        u = u * u * (3 - 2 * u)
        out = self.amounts[k0] * (1 - u[:, None]) + self.amounts[k1] * u[:, None]
        out = out.astype(np.float32)
        out[:, 0] = np.clip(1.0 - out[:, 1:].sum(1), 0.0, 1.0)
        return out

    def dominant(self) -> str:
        """The emotion with the largest mean amount (neutral when nothing is asked)."""
        mean = self.amounts[:, 1:].mean(0)
        return "neutral" if mean.max() <= 0 else EMOTIONS[1 + int(mean.argmax())]


@dataclass(frozen=True)
class EmotionSpec:
    """A parsed emotion argument: either ``auto`` or an explicit track."""

    auto: bool
    track: EmotionTrack | None = None


_NUM = r"[0-9]*\.?[0-9]+"


def _parse_intensity(text: str, whole: str) -> float:
    if not re.fullmatch(_NUM, text.strip()):
        raise UserError(f"bad intensity {text!r} in emotion {whole!r}; use a number in [0, 1]")
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise UserError(f"intensity {value:g} in emotion {whole!r} is outside [0, 1]")
    return value


def _parse_mix(text: str, whole: str, default_intensity: float) -> np.ndarray:
    vec = np.zeros(NUM_EMOTIONS, np.float32)
    parts = [p for p in text.split("+")]
    if any(not p.strip() for p in parts):
        raise UserError(f"empty term in emotion {whole!r}")
    for part in parts:
        name, colon, level = part.partition(":")
        emotion = canonical_emotion(name)
        value = _parse_intensity(level, whole) if colon else default_intensity
        if emotion != "neutral":
            vec[EMOTION_INDEX[emotion]] += value
    if vec.sum() > 1.0 + 1e-6:
        raise UserError(f"emotion mix {text!r} adds up to {vec.sum():.2f}; keep the sum at most 1")
    return vec


def parse_emotion(arg: str | None, intensity: float | None = None) -> EmotionSpec:
    """Parse an emotion argument (see module doc). ``intensity`` is the default level for
    terms written without one. Raises UserError with a one-line reason when malformed."""
    if intensity is not None and not 0.0 <= intensity <= 1.0:
        raise UserError(f"--intensity {intensity:g} is outside [0, 1]")
    default = DEFAULT_INTENSITY if intensity is None else float(intensity)
    text = "neutral" if arg is None else arg.strip()
    if not text:
        raise UserError("empty emotion argument")
    if text.lower() == "auto":
        return EmotionSpec(auto=True)
    items = [s.strip() for s in text.split(",")]
    keyed = [re.match(rf"^({_NUM})\s*:(.*)$", s) for s in items]
    if len(items) == 1 and not keyed[0]:
        vec = _parse_mix(items[0], text, default)
        return EmotionSpec(False, EmotionTrack(np.zeros(1), vec[None]))
    if not all(keyed):
        bad = next(s for s, m in zip(items, keyed) if not m)
        raise UserError(f"malformed emotion keyframe {bad!r}; write TIME:EMOTION[:INTENSITY],...")
    times = np.array([float(m.group(1)) for m in keyed])
    if np.any(np.diff(times) <= 0):
        raise UserError(f"emotion keyframe times must increase: {text!r}")
    amounts = np.stack([_parse_mix(m.group(2), text, default) for m in keyed])
    return EmotionSpec(False, EmotionTrack(times, amounts))
