"""Teacher targets: the rule-based animator renders every clip's curves.

For each clip the teacher renders its own label (emotion and intensity from the manifest;
neutral when the emotion is unknown) and the *exchange set*: the same phones and prosody
animated with every emotion at :data:`EXCHANGE_INTENSITIES` (neutral once), 22 variants.
Those are the cross-reconstruction / content-emotion-exchange targets: what this very
utterance would look like spoken with another emotion.

All variants of a clip share one seed derived from the clip id, so blinks, gaze and head
motion differ between variants only where the emotion changes them, and a rebuild gives
the same curves.

The curves are only as current as the rules that drew them: :func:`code_hash` fingerprints
the teacher's source (``emoface/rules/*.py``, ``emoface/emotion.py``), each clip records
it, and a build re-renders the targets of clips drawn by other code (from the stored
phones and cached prosody, without touching audio or alignment). :func:`prepare` imports
the engine in the building process before workers fork, so one build never mixes two
versions of the rules even while someone edits them.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import emotion as emotion_source
from ..animation import Animation, frame_count
from ..emotion import EMOTIONS, EmotionTrack
from ..engines import nonverbal, rules
from ..engines.rules.engine import animate_phones

FPS = 30.0
EXCHANGE_INTENSITIES = (0.35, 0.7, 1.0)
TEACHER_VERSION = "rules-v1"


@lru_cache(maxsize=1)
def code_hash() -> str:
    """Fingerprint of the code that renders targets (TEACHER_VERSION + its sources)."""

    h = hashlib.sha256(TEACHER_VERSION.encode())
    files = sorted(Path(rules.__file__).parent.glob("*.py")) + [Path(nonverbal.__file__),
                                                                Path(emotion_source.__file__)]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def prepare() -> str:
    """Load the rules engine now (workers forked later share this code) and return the
    fingerprint of what was loaded."""

    return code_hash()


def exchange_variants() -> list[tuple[str, float]]:
    """(emotion, intensity) of the exchange set: neutral once, then 7 x 3."""
    out: list[tuple[str, float]] = [("neutral", 0.0)]
    for emotion in EMOTIONS[1:]:
        out.extend((emotion, level) for level in EXCHANGE_INTENSITIES)
    return out


def variant_key(emotion: str, intensity: float) -> str:
    """``happy:0.70``; neutral has no intensity of its own, so just ``neutral``."""
    return "neutral" if emotion == "neutral" else f"{emotion}:{intensity:.2f}"


def clip_seed(clip_id: str) -> int:
    """A stable 31-bit seed from the clip id (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(clip_id.encode()).digest()[:4], "big") & 0x7FFFFFFF


def render(phones, prosody, duration: float, clip_id: str,
           label: tuple[str, float] | None, fps: float = FPS,
           num_frames: int | None = None) -> dict[str, np.ndarray]:
    """Arrays for a clip's target file: ``weights`` (V, T, 52) float16, ``head`` (V, T, 3),
    ``eyes`` (V, T, 6), ``emotions`` (V,), ``intensities`` (V,), ``label`` (index of the
    clip's own variant, -1 when ``label`` is None: captured targets stand in for it).

    ``num_frames`` forces T (to match captured curves); otherwise ``round(duration * fps)``.
    """
    variants = ([label] if label is not None else []) + exchange_variants()
    seed = clip_seed(clip_id)
    n = num_frames if num_frames is not None else frame_count(duration, fps)
    span = n / fps if num_frames is not None else duration
    weights = np.zeros((len(variants), n, 52), np.float16)
    head = np.zeros((len(variants), n, 3), np.float16)
    eyes = np.zeros((len(variants), n, 6), np.float16)
    for v, (emotion, intensity) in enumerate(variants):
        anim = animate(phones, prosody, span, emotion, intensity, fps, seed)
        k = min(n, anim.num_frames)
        weights[v, :k] = anim.weights[:k]
        head[v, :k] = anim.head[:k]
        eyes[v, :k] = anim.eyes[:k]
        if k < n:  # rounding of span * fps: hold the last frame
            weights[v, k:], head[v, k:], eyes[v, k:] = weights[v, k - 1], head[v, k - 1], eyes[v, k - 1]
    return {
        "weights": weights, "head": head, "eyes": eyes,
        "emotions": np.array([e for e, _ in variants]),
        "intensities": np.array([i for _, i in variants], np.float32),
        "label": np.array(0 if label is not None else -1, np.int32),
        "teacher_fps": np.array(fps, np.float32),
        "teacher_seed": np.array(seed, np.int64),
    }


def animate(phones, prosody, duration: float, emotion: str, intensity: float, fps: float,
            seed: int) -> Animation:

    track = EmotionTrack.constant(emotion, float(intensity))
    return animate_phones(phones, prosody, duration, track, fps, seed)
