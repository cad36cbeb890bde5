"""What the words add to the upper face and head (docs/text.md has the sources).

Speakers' brows and heads move with what they say, not only with how it sounds:
  - brows rise and the head nods on emphasised words, and an accent that lands on a
    content word is stronger than one on a function word;
  - brows rise toward the end of a yes/no question;
  - the head shakes with a negation;
  - a blink falls at the end of a phrase or sentence;
  - a strongly valenced word tints the upper face toward happy (cheeks, lids) or sad
    (inner brows) for the length of the word.
Every cue is deterministic (no random draws, so the seeded blinks, gaze and head drift
stay where they were), touches no mouth channel, and is scaled down as the requested or
heard emotion grows, so it colours that emotion instead of overriding it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...arkit import ARKIT_NAMES, NUM_BLENDSHAPES
from ...emotion import EMOTION_INDEX, NUM_EMOTIONS
from ...text.lexicon import FUNCTION_WORDS
from ...text.words import TimedWord
from .. import nonverbal
from . import expressions
from . import params as P

EMPHASIS_BROW = 0.25                 # brow raise on a written-emphasis word (by design)
EMPHASIS_NOD_RAD = math.radians(2.5)
CONTENT_ACCENT_BOOST = 0.4           # extra brow/nod on an accent inside a content word
QUESTION_BROW = 0.3                  # brow raise over the last word of a yes/no question
SHAKE_YAW_RAD = math.radians(5.0)    # head shake peak amplitude on a negation
SHAKE_HZ = 2.5                       # about 2.5 sweeps a second, 1.5 cycles per shake
SHAKE_CYCLES = 1.5
BOUNDARY_BLINK_DELAY = 0.1           # s after the phrase's last word ends
VALENCE_SHIFT = 0.35                 # upper-face share of the emotion pose at |valence| 1
EMOTION_DAMPING = 0.5                # cues shrink by this share at full requested emotion

# The upper-face channels an expression shift may touch (no mouth, no lids, no gaze).
UPPER_FACE = np.array([n.startswith(("brow", "cheekSquint", "eyeSquint", "eyeWide"))
                       for n in ARKIT_NAMES])
# The channels the words move at all (the brows' accents fall inside these too).
TEXT_CHANNELS = tuple(n for n, upper in zip(ARKIT_NAMES, UPPER_FACE) if upper)


@dataclass(frozen=True)
class TextCues:
    brow: np.ndarray        # (T,) brow raise (the engine turns it into a frown in anger)
    upper: np.ndarray       # (T, 52) expression shift on upper-face channels only
    head: np.ndarray        # (T, 3) yaw, pitch, roll radians to add to the posture
    blinks: np.ndarray      # (k,) times of blinks at phrase ends


def none(n: int) -> TextCues:
    return TextCues(np.zeros(n, np.float32), np.zeros((n, NUM_BLENDSHAPES), np.float32),
                    np.zeros((n, 3), np.float32), np.zeros(0))


def delta(cues: TextCues, amounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the words add to the rules engine's face, as the engine adds it: (weights
    (T, 52), head (T, 3) radians); the weights are non-zero on :data:`TEXT_CHANNELS` only.
    Also the target the neural engine's text branch learns."""
    weights = expressions.brow_accent(cues.brow, amounts) + cues.upper
    return weights.astype(np.float32), cues.head


def emotion_gain(amounts: np.ndarray) -> np.ndarray:
    """(T,) how much room the requested emotion leaves the text's cues."""
    strength = np.clip(1.0 - amounts[:, EMOTION_INDEX["neutral"]], 0.0, 1.0)
    return (1.0 - EMOTION_DAMPING * strength).astype(np.float32)


def text_cues(words: list[TimedWord], times: np.ndarray, fps: float, amounts: np.ndarray,
              accent_t: np.ndarray, prominence: np.ndarray) -> TextCues:
    """The cues of ``words`` on the frame ``times``; ``amounts`` (T, 8) is the emotion
    track, ``accent_t``/``prominence`` the pitch accents the engine already found."""
    n = len(times)
    if not words:
        return none(n)
    gain = emotion_gain(amounts)
    brow = _emphasis_brow(words, times, accent_t, prominence) + _question_brow(words, times)
    head = np.zeros((n, 3), np.float32)
    head[:, 1] = _emphasis_nods(words, times, accent_t, prominence)
    head[:, 0] = _negation_shakes(words, times)
    upper = _valence_shift(words, times)
    blinks = phrase_blinks(words, n / fps)
    return TextCues((brow * gain).astype(np.float32), (upper * gain[:, None]).astype(np.float32),
                    (head * gain[:, None]).astype(np.float32), blinks)


def phrase_blinks(words: list[TimedWord], duration: float) -> np.ndarray:
    """Times of the blinks that close phrases: just after each phrase's last word."""
    return np.array(sorted({round(w.end + BOUNDARY_BLINK_DELAY, 3) for w in words
                            if w.phrase_end and w.end + BOUNDARY_BLINK_DELAY < duration}))


def _content_accents(words, accent_t, prominence) -> tuple[np.ndarray, np.ndarray]:
    """The pitch accents that fall inside a content word."""
    keep = np.zeros(len(accent_t), bool)
    for w in words:
        if w.word not in FUNCTION_WORDS:
            keep |= (accent_t >= w.start) & (accent_t <= w.end)
    return accent_t[keep], prominence[keep]


def _accent_pulses(words, times, accent_t, prominence, *, accent_height: float,
                   accent_decay: float, marked_height: float, marked_rise: float,
                   marked_decay: float) -> np.ndarray:
    """Pulses on the pitch accents inside content words (scaled by their prominence) plus
    pulses on the words the transcript marks as emphasised."""
    at, strength = _content_accents(words, np.asarray(accent_t), np.asarray(prominence))
    heights = CONTENT_ACCENT_BOOST * accent_height * np.clip(strength / 3.0, 0.3, 1.5)
    out = nonverbal.pulses(times, at, heights, rise=0.12, decay=accent_decay)
    marked = [w.stressed_at for w in words if w.emphasis]
    out += nonverbal.pulses(times, np.asarray(marked), np.full(len(marked), marked_height),
                            rise=marked_rise, decay=marked_decay)
    return out


def _emphasis_brow(words, times, accent_t, prominence) -> np.ndarray:
    return _accent_pulses(words, times, accent_t, prominence,
                          accent_height=P.BROW_ACCENT_AMPLITUDE, accent_decay=0.3,
                          marked_height=EMPHASIS_BROW, marked_rise=0.15, marked_decay=0.4)


def _emphasis_nods(words, times, accent_t, prominence) -> np.ndarray:
    return _accent_pulses(words, times, accent_t, prominence,
                          accent_height=P.HEAD_NOD_RAD, accent_decay=0.25,
                          marked_height=EMPHASIS_NOD_RAD, marked_rise=0.12, marked_decay=0.25)


def _question_brow(words, times) -> np.ndarray:
    """A raise that builds over the last word of each yes/no question, held briefly."""
    out = np.zeros(len(times), np.float32)
    for w in words:
        if w.question == "yes_no" and w.sentence_end:
            rise = np.clip((times - w.start) / max(0.1, w.end - w.start), 0, 1)
            fall = np.exp(-np.clip(times - (w.end + 0.15), 0, None) / 0.4)
            shape = np.where(times < w.start, 0.0, np.sin(0.5 * np.pi * rise) ** 2 * fall)
            out = np.maximum(out, QUESTION_BROW * shape)
    return out


def _negation_shakes(words, times) -> np.ndarray:
    """Yaw sweeps side to side from the negation's onset, under a smooth envelope."""
    out = np.zeros(len(times), np.float32)
    length = SHAKE_CYCLES / SHAKE_HZ
    for w in words:
        if not w.negation:
            continue
        u = (times - w.start) / length
        inside = (u >= 0) & (u <= 1)
        envelope = np.sin(np.pi * np.clip(u, 0, 1)) ** 2
        out += np.where(inside, SHAKE_YAW_RAD * envelope
                        * np.sin(2 * np.pi * SHAKE_HZ * (times - w.start)), 0.0)
    return out


def _valence_shift(words, times) -> np.ndarray:
    """Upper-face part of the happy (pleasant) or sad (unpleasant) pose over the word."""
    out = np.zeros((len(times), NUM_BLENDSHAPES), np.float32)
    for w in words:
        if abs(w.valence) < 0.5:
            continue
        target = np.zeros(NUM_EMOTIONS, np.float32)
        target[EMOTION_INDEX["happy" if w.valence > 0 else "sad"]] = 1.0
        pose = expressions.expression(target[None])[0] * UPPER_FACE
        rise = np.clip((times - (w.start - 0.1)) / 0.2, 0, 1)
        fall = np.exp(-np.clip(times - w.end, 0, None) / 0.5)
        shape = np.where(times < w.start - 0.1, 0.0, np.sin(0.5 * np.pi * rise) ** 2 * fall)
        out += (VALENCE_SHIFT * abs(w.valence) * shape)[:, None] * pose
    return out
