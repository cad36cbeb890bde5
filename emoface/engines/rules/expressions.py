"""Emotional expressions built from FACS action units, expressed in ARKit channels.

Each emotion is a set of action units (Ekman & Friesen's prototypes, as listed in the
issue: happy = AU6+AU12, sad = AU1+AU4+AU15, angry = AU4+AU5+AU7+AU23, fearful =
AU1+AU2+AU4+AU5+AU20, disgusted = AU9+AU15+AU16, surprised = AU1+AU2+AU5+AU26, contempt =
unilateral AU12+AU14), each AU a small set of ARKit channels. A pose scales linearly with
intensity, so intensity is monotonic by construction; levels at intensity 1 are set near
what the acted Live Link captures reach (see docs/calibration.md).
"""
from __future__ import annotations

import numpy as np

from ...arkit import INDEX, NUM_BLENDSHAPES
from ...emotion import EMOTION_INDEX, EMOTIONS, NUM_EMOTIONS

# AU -> ARKit channels at AU intensity 1. Pairs written without a side apply to both.
ACTION_UNITS: dict[str, dict[str, float]] = {
    "AU1": {"browInnerUp": 0.8},                                     # inner brow raiser
    "AU2": {"browOuterUp": 0.75},                                    # outer brow raiser
    "AU4": {"browDown": 0.7},                                        # brow lowerer
    "AU5": {"eyeWide": 0.6},                                         # upper lid raiser
    "AU6": {"cheekSquint": 0.6, "eyeSquint": 0.3},                   # cheek raiser
    "AU7": {"eyeSquint": 0.6},                                       # lid tightener
    "AU9": {"noseSneer": 0.7, "cheekSquint": 0.25, "mouthUpperUp": 0.15},  # nose wrinkler
    "AU10": {"mouthUpperUp": 0.5},                                   # upper lip raiser
    "AU12": {"mouthSmile": 0.8},                                     # lip corner puller
    "AU14": {"mouthDimple": 0.6},                                    # dimpler
    "AU15": {"mouthFrown": 0.7},                                     # lip corner depressor
    "AU16": {"mouthLowerDown": 0.45},                                # lower lip depressor
    "AU17": {"mouthShrugLower": 0.6},                                # chin raiser
    "AU20": {"mouthStretch": 0.6},                                   # lip stretcher
    "AU23": {"mouthPress": 0.5, "mouthRollUpper": 0.1},              # lip tightener
    "AU25": {"jawOpen": 0.04, "mouthLowerDown": 0.08},               # lips part
    "AU26": {"jawOpen": 0.3},                                        # jaw drop
}

# Emotion -> AU intensities at emotion intensity 1. "L:" marks a unilateral AU (left side).
PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"AU6": 0.8, "AU12": 0.85, "AU25": 0.3},
    "sad": {"AU1": 0.75, "AU4": 0.55, "AU15": 0.6, "AU17": 0.35, "AU7": 0.35},
    "angry": {"AU4": 0.9, "AU5": 0.45, "AU7": 0.7, "AU23": 0.6, "AU10": 0.15},
    "fearful": {"AU1": 0.8, "AU2": 0.6, "AU4": 0.35, "AU5": 0.75, "AU20": 0.65, "AU25": 0.4},
    "disgusted": {"AU9": 0.85, "AU15": 0.5, "AU16": 0.4, "AU4": 0.4, "AU10": 0.3},
    "surprised": {"AU1": 0.9, "AU2": 0.9, "AU5": 0.7, "AU26": 0.55},
    "contempt": {"L:AU12": 0.6, "L:AU14": 0.7, "AU4": 0.1},
}

# How much each emotion scales articulation (jaw excursion): high arousal speaks bigger,
# sadness smaller (hyper- vs hypo-articulation).
ARTICULATION_GAIN: dict[str, float] = {
    "neutral": 1.0, "happy": 1.15, "sad": 0.8, "angry": 1.25, "fearful": 1.05,
    "disgusted": 0.95, "surprised": 1.2, "contempt": 0.9,
}
# Blink rate multipliers. Wide-eyed stares blink less (the fearful captures blink at 8/min
# against 20-26 for the others); we apply a milder version of that to fear and surprise.
BLINK_GAIN: dict[str, float] = {
    "neutral": 1.0, "happy": 1.0, "sad": 1.0, "angry": 1.0, "fearful": 0.8,
    "disgusted": 1.0, "surprised": 0.8, "contempt": 1.0,
}


def _au_vector(au: str, left_only: bool) -> np.ndarray:
    v = np.zeros(NUM_BLENDSHAPES, np.float32)
    for name, value in ACTION_UNITS[au].items():
        if name in INDEX:
            v[INDEX[name]] = value
        else:
            v[INDEX[name + "Left"]] = value
            if not left_only:
                v[INDEX[name + "Right"]] = value
    return v


def prototype_pose(emotion: str) -> np.ndarray:
    """ARKit pose (52,) of ``emotion`` at intensity 1."""
    pose = np.zeros(NUM_BLENDSHAPES, np.float32)
    for au, level in PROTOTYPES[emotion].items():
        left_only = au.startswith("L:")
        pose += level * _au_vector(au.removeprefix("L:"), left_only)
    return np.clip(pose, 0.0, 1.0)


# (8, 52): row e is emotion e's pose at intensity 1 (row 0, neutral, is zeros).
POSES = np.stack([prototype_pose(e) for e in EMOTIONS])
GAINS = np.array([ARTICULATION_GAIN[e] for e in EMOTIONS], np.float32)
BLINK_GAINS = np.array([BLINK_GAIN[e] for e in EMOTIONS], np.float32)


def expression(amounts: np.ndarray) -> np.ndarray:
    """Per-frame emotion amounts (T, 8) -> expression weights (T, 52). Mixes add."""
    assert amounts.shape[1] == NUM_EMOTIONS
    return np.clip(amounts[:, 1:] @ POSES[1:], 0.0, 1.0)


def articulation_gain(amounts: np.ndarray) -> np.ndarray:
    """(T, 8) amounts -> (T,) jaw excursion multiplier (1 for neutral)."""
    return 1.0 + amounts[:, 1:] @ (GAINS[1:] - 1.0)


def blink_gain(amounts: np.ndarray) -> np.ndarray:
    return 1.0 + amounts[:, 1:] @ (BLINK_GAINS[1:] - 1.0)

# Head posture (yaw, pitch, roll radians, conventions in nonverbal.py) and head motion gain
# per emotion: sadness droops and moves little, surprise lifts the chin, disgust and
# contempt turn and tilt away.
HEAD_POSTURE: dict[str, tuple[float, float, float]] = {
    "neutral": (0.0, 0.0, 0.0), "happy": (0.0, -0.02, 0.02), "sad": (0.0, 0.08, 0.02),
    "angry": (0.0, 0.045, 0.0), "fearful": (0.0, 0.02, 0.0), "disgusted": (0.035, -0.02, -0.04),
    "surprised": (0.0, -0.05, 0.0), "contempt": (0.03, -0.03, 0.05),
}
HEAD_MOTION_GAIN: dict[str, float] = {
    "neutral": 1.0, "happy": 1.2, "sad": 0.6, "angry": 1.2, "fearful": 0.9, "disgusted": 1.0,
    "surprised": 1.1, "contempt": 0.9,
}
POSTURES = np.array([HEAD_POSTURE[e] for e in EMOTIONS], np.float32)
MOTION_GAINS = np.array([HEAD_MOTION_GAIN[e] for e in EMOTIONS], np.float32)


def head_posture(amounts: np.ndarray) -> np.ndarray:
    """(T, 8) -> (T, 3) posture offset in radians."""
    return amounts[:, 1:] @ POSTURES[1:]


def head_motion_gain(amounts: np.ndarray) -> np.ndarray:
    return 1.0 + amounts[:, 1:] @ (MOTION_GAINS[1:] - 1.0)


_BROW_UP = [INDEX["browInnerUp"], INDEX["browOuterUpLeft"], INDEX["browOuterUpRight"]]
_BROW_DOWN = [INDEX["browDownLeft"], INDEX["browDownRight"]]
_LOWERING = [EMOTION_INDEX["angry"], EMOTION_INDEX["disgusted"]]


def brow_accent(brow: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """(T, 52) float64: a brow accent of height ``brow`` (T,) as weights, raising the
    brows (inner first), or under anger and disgust lowering them: angry emphasis frowns."""
    lowering = np.clip(amounts[:, _LOWERING].sum(1), 0, 1)
    out = np.zeros((len(brow), NUM_BLENDSHAPES))
    out[:, _BROW_UP] = (brow * (1 - lowering))[:, None] * np.array([1.0, 0.8, 0.8])
    out[:, _BROW_DOWN] = (brow * lowering)[:, None]
    return out
