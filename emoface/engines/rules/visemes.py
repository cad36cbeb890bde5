"""Phones to visemes, and visemes to mouth poses in ARKit terms.

A viseme is what the face does for a class of phones. Each viseme has a target pose over
the speech channels (jaw, lips, rounding, tongue) and a *dominance* per channel group:
how strongly it holds its own target against its neighbours (Cohen & Massaro 1993).
Bilabials and labiodentals dominate the lips; rounded vowels dominate rounding, which
is why rounding spreads through neighbouring consonants ("stew" rounds the /s/ and /t/),
while spread vowels (/i/, /e/, /a/) actively un-round, so it does not leak everywhere;
/h/ and velars barely constrain the lips and borrow their neighbours' shapes.

Targets are symmetric (Left = Right) and sized for a moderately loud adult voice; the
engine scales the jaw by loudness and emotion.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...arkit import INDEX, NUM_BLENDSHAPES

# Channel groups that coarticulate separately.
GROUPS: dict[str, tuple[str, ...]] = {
    "jaw": ("jawOpen", "jawForward"),
    "lips": ("mouthClose", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
             "mouthUpperUpRight", "mouthRollLower", "mouthRollUpper", "mouthPressLeft",
             "mouthPressRight", "mouthStretchLeft", "mouthStretchRight", "mouthSmileLeft",
             "mouthSmileRight", "mouthShrugUpper"),
    "round": ("mouthFunnel", "mouthPucker"),
    "tongue": ("tongueOut",),
}
GROUP_NAMES = tuple(GROUPS)
SPEECH_CHANNELS = tuple(n for names in GROUPS.values() for n in names)
GROUP_OF_CHANNEL = np.full(NUM_BLENDSHAPES, -1, np.int64)
for _g, _names in enumerate(GROUPS.values()):
    for _n in _names:
        GROUP_OF_CHANNEL[INDEX[_n]] = _g


@dataclass(frozen=True)
class Viseme:
    name: str
    pose: dict[str, float]                 # ARKit channel -> target (symmetric pairs given once)
    dominance: tuple[float, float, float, float]  # jaw, lips, round, tongue
    spread: float = 0.0                    # extra coarticulation reach in seconds

    def vector(self) -> np.ndarray:
        v = np.zeros(NUM_BLENDSHAPES, np.float32)
        for name, value in self.pose.items():
            for full in _sides(name):
                v[INDEX[full]] = value
        return v


def _sides(name: str) -> tuple[str, ...]:
    """'mouthSmile' -> both sides; a full ARKit name -> itself."""
    if name in INDEX:
        return (name,)
    return (name + "Left", name + "Right")


V = Viseme
# Dominance columns: jaw, lips, round, tongue.
VISEMES: dict[str, Viseme] = {v.name: v for v in (
    V("rest", {"jawOpen": 0.02}, (1.0, 1.0, 1.0, 1.0)),
    V("PP", {"jawOpen": 0.06, "mouthClose": 0.06, "mouthPress": 0.25, "mouthRollLower": 0.08,
             "mouthRollUpper": 0.05}, (2.0, 12.0, 0.6, 1.0)),
    V("FF", {"jawOpen": 0.08, "mouthRollLower": 0.55, "mouthUpperUp": 0.18, "mouthClose": 0.02,
             "mouthShrugUpper": 0.1}, (2.0, 9.0, 0.6, 1.0)),
    V("TH", {"jawOpen": 0.12, "tongueOut": 0.25, "mouthLowerDown": 0.12, "mouthUpperUp": 0.06},
      (1.5, 1.5, 0.5, 6.0)),
    V("DD", {"jawOpen": 0.12, "mouthLowerDown": 0.1, "mouthUpperUp": 0.05}, (1.2, 0.6, 0.3, 1.0)),
    V("KK", {"jawOpen": 0.16, "mouthLowerDown": 0.1, "mouthUpperUp": 0.05}, (1.0, 0.4, 0.2, 1.0)),
    V("CH", {"jawOpen": 0.1, "mouthFunnel": 0.4, "mouthPucker": 0.25, "mouthUpperUp": 0.15,
             "mouthLowerDown": 0.18}, (2.0, 3.0, 4.0, 1.0), spread=0.04),
    V("SS", {"jawOpen": 0.05, "mouthStretch": 0.2, "mouthUpperUp": 0.1, "mouthLowerDown": 0.12},
      (2.5, 1.5, 0.8, 1.0)),
    V("RR", {"jawOpen": 0.12, "mouthFunnel": 0.18, "mouthPucker": 0.12, "mouthUpperUp": 0.08},
      (1.2, 1.5, 1.5, 1.0)),
    V("WW", {"jawOpen": 0.06, "mouthPucker": 0.65, "mouthFunnel": 0.25}, (1.5, 2.0, 6.0, 1.0),
      spread=0.06),
    V("NN", {"jawOpen": 0.1, "mouthLowerDown": 0.06, "mouthUpperUp": 0.04}, (1.2, 0.6, 0.3, 1.0)),
    V("HH", {"jawOpen": 0.2, "mouthLowerDown": 0.12}, (0.25, 0.15, 0.1, 0.5)),
    # Vowels: the jaw carries them; rounding is strong only for rounded vowels.
    V("AA", {"jawOpen": 0.55, "mouthLowerDown": 0.32, "mouthUpperUp": 0.12}, (3.0, 2.0, 3.0, 1.0)),
    V("AE", {"jawOpen": 0.45, "mouthLowerDown": 0.3, "mouthUpperUp": 0.12, "mouthStretch": 0.22},
      (3.0, 2.0, 3.0, 1.0)),
    V("AH", {"jawOpen": 0.36, "mouthLowerDown": 0.22, "mouthUpperUp": 0.08}, (2.5, 1.5, 2.0, 1.0)),
    V("AO", {"jawOpen": 0.45, "mouthFunnel": 0.35, "mouthPucker": 0.12, "mouthLowerDown": 0.2},
      (3.0, 2.0, 4.0, 1.0)),
    V("EH", {"jawOpen": 0.3, "mouthLowerDown": 0.22, "mouthUpperUp": 0.1, "mouthStretch": 0.2},
      (2.5, 2.0, 3.0, 1.0)),
    V("ER", {"jawOpen": 0.2, "mouthFunnel": 0.22, "mouthPucker": 0.12, "mouthUpperUp": 0.08},
      (2.0, 1.5, 2.0, 1.0)),
    V("IH", {"jawOpen": 0.18, "mouthStretch": 0.3, "mouthSmile": 0.08, "mouthLowerDown": 0.14,
             "mouthUpperUp": 0.08}, (2.0, 2.0, 3.5, 1.0)),
    V("IY", {"jawOpen": 0.12, "mouthStretch": 0.38, "mouthSmile": 0.12, "mouthLowerDown": 0.12,
             "mouthUpperUp": 0.1}, (2.0, 2.5, 4.5, 1.0)),
    V("UH", {"jawOpen": 0.16, "mouthPucker": 0.4, "mouthFunnel": 0.3}, (2.0, 2.0, 4.0, 1.0)),
    V("UW", {"jawOpen": 0.1, "mouthPucker": 0.75, "mouthFunnel": 0.38}, (2.0, 2.0, 6.0, 1.0),
      spread=0.05),
    V("OW", {"jawOpen": 0.3, "mouthFunnel": 0.5, "mouthPucker": 0.38, "mouthLowerDown": 0.1},
      (2.5, 2.0, 5.0, 1.0), spread=0.04),
)}

# Canonical phone -> viseme, or a pair of visemes for diphthongs (onset, offset).
PHONE_TO_VISEME: dict[str, str | tuple[str, str]] = {
    "SIL": "rest",
    "P": "PP", "B": "PP", "M": "PP",
    "F": "FF", "V": "FF",
    "TH": "TH", "DH": "TH",
    "T": "DD", "D": "DD", "L": "DD",
    "N": "NN", "NG": "KK",
    "K": "KK", "G": "KK",
    "CH": "CH", "JH": "CH", "SH": "CH", "ZH": "CH",
    "S": "SS", "Z": "SS",
    "R": "RR", "ER": "ER",
    "W": "WW", "Y": "IY", "HH": "HH",
    "AA": "AA", "AE": "AE", "AH": "AH", "AO": "AO", "EH": "EH", "IH": "IH", "IY": "IY",
    "UH": "UH", "UW": "UW",
    "AW": ("AA", "UH"), "AY": ("AA", "IH"), "EY": ("EH", "IY"), "OW": ("AO", "UW"),
    "OY": ("AO", "IY"),
}

VISEME_NAMES = tuple(VISEMES)
VISEME_INDEX = {name: i for i, name in enumerate(VISEME_NAMES)}
# Matrices the engine blends with: targets (n_visemes, 52), dominance (n_visemes, 4).
TARGETS = np.stack([VISEMES[n].vector() for n in VISEME_NAMES])
DOMINANCE = np.array([VISEMES[n].dominance for n in VISEME_NAMES], np.float32)
SPREAD = np.array([VISEMES[n].spread for n in VISEME_NAMES], np.float32)


def viseme_of(phone: str) -> str | tuple[str, str]:
    """Viseme (or diphthong pair) for a canonical phone; unknown phones act like /h/."""
    return PHONE_TO_VISEME.get(phone, "HH")
