"""The 52 ARKit blendshape names, their canonical order, and name normalisation.

Canonical order is plain alphabetical (the order EmoTalk and 3D-ETF use). Live Link Face
CSV files use Apple's own order, which differs (e.g. ``JawRight`` before ``JawLeft``).
"""
from __future__ import annotations

import re

ARKIT_NAMES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)
NUM_BLENDSHAPES = len(ARKIT_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_NAMES)}

# Apple's order as written by the Live Link Face app (PascalCase in the CSV header).
LIVE_LINK_ORDER: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawRight", "jawLeft", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthRight", "mouthLeft",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)
assert sorted(LIVE_LINK_ORDER) == list(ARKIT_NAMES)

# Head and eye rotation columns that follow the 52 weights in a Live Link CSV.
LIVE_LINK_HEAD = ("HeadYaw", "HeadPitch", "HeadRoll")
LIVE_LINK_EYES = ("LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                  "RightEyeYaw", "RightEyePitch", "RightEyeRoll")


def pascal(name: str) -> str:
    """``jawOpen`` -> ``JawOpen`` (Live Link's spelling)."""
    return name[:1].upper() + name[1:]


def _key(name: str) -> str:
    """Spelling-insensitive key: case, separators and side suffix styles folded."""
    s = name.strip()
    # Side markers: _L/_R, .L/.R, -L/-R, ' L', and trailing _left/_right styles.
    m = re.match(r"^(.*?)[\s_.\-]*(l|r|left|right)$", s, flags=re.IGNORECASE)
    side = ""
    if m and re.search(r"[\s_.\-]", s[len(m.group(1)):]):
        stem, tag = m.group(1), m.group(2).lower()
        side = "left" if tag in ("l", "left") else "right"
        s = stem
    return re.sub(r"[^a-z0-9]", "", s.lower()) + side


_BY_KEY: dict[str, str] = {_key(n): n for n in ARKIT_NAMES}
# Shapes some rigs split per side although ARKit has one (ICT FaceKit splits these two).
_UNSIDED = {"browInnerUp", "cheekPuff"}


def normalize_name(name: str) -> str | None:
    """Map a blendshape name in any common spelling to its ARKit name, or None.

    Accepts ARKit camelCase, Live Link PascalCase (``JawOpen``), ICT-style ``_L``/``_R``
    suffixes (``mouthSmile_L``), MediaPipe names (``_neutral`` maps to None) and
    per-side splits of unsided ARKit shapes (``browInnerUp_L`` -> ``browInnerUp``).
    """
    key = _key(name)
    if key in _BY_KEY:
        return _BY_KEY[key]
    for side in ("left", "right"):
        if key.endswith(side):
            stem = _BY_KEY.get(key[: -len(side)])
            if stem in _UNSIDED:
                return stem
    return None


_J, _C = INDEX["jawOpen"], INDEX["mouthClose"]
_OPENERS = [INDEX[n] for n in ("mouthLowerDownLeft", "mouthLowerDownRight",
                               "mouthUpperUpLeft", "mouthUpperUpRight")]
_FUNNEL = INDEX["mouthFunnel"]


def lip_aperture(weights):
    """Rig-independent lip opening from ARKit weights (docs/design.md):
    ``max(0, jawOpen - mouthClose) + 0.5 * mean(lowerDown L/R, upperUp L/R) + 0.5 * funnel``.
    Works on (..., 52) arrays; lips "meet" where it is below :data:`LIPS_MEET`."""
    import numpy as np

    w = np.asarray(weights)
    return (np.maximum(0.0, w[..., _J] - w[..., _C]) + 0.5 * w[..., _OPENERS].mean(-1)
            + 0.5 * w[..., _FUNNEL])


LIPS_MEET = 0.05
