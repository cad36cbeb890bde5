"""JSON animation: ``{"fps", "names", "frames": [[52 weights], ...]}`` plus optional
``head``, ``eyes``, ``emotion_probs``/``emotions`` and ``meta``. Easy to read from JavaScript."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..arkit import ARKIT_NAMES
from ..emotion import EMOTIONS
from ..errors import UserError
from ..files import atomic_path
from .names import weights_by_name


def _rows(a: np.ndarray) -> list[list[float]]:
    # float32 -> shortest repr that round-trips (via float64 repr of the float32 value)
    return [[float(v) for v in row] for row in np.asarray(a, np.float32)]


def write(anim: Animation, path: str | Path, **_options) -> None:
    doc: dict = {"fps": anim.fps, "names": list(ARKIT_NAMES), "frames": _rows(anim.weights)}
    if anim.head is not None:
        doc["head"] = _rows(anim.head)
    if anim.eyes is not None:
        doc["eyes"] = _rows(anim.eyes)
    if anim.emotion_probs is not None:
        doc["emotions"] = list(EMOTIONS)
        doc["emotion_probs"] = _rows(anim.emotion_probs)
    doc["meta"] = anim.meta
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def read(path: str | Path) -> Animation:
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise UserError(f"no such file: {str(path)!r}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{str(path)!r} is not readable JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or not {"fps", "names", "frames"} <= doc.keys():
        raise UserError(f"{str(path)!r} is not an emoface JSON animation (needs fps, names, frames)")
    try:
        frames = np.array(doc["frames"], np.float32).reshape(len(doc["frames"]), -1)
        weights = weights_by_name(frames, list(doc["names"]), str(path))
        get = lambda k: np.array(doc[k], np.float32) if k in doc else None  # noqa: E731
        return Animation(weights, float(doc["fps"]), head=get("head"), eyes=get("eyes"),
                         emotion_probs=get("emotion_probs"), meta=doc.get("meta") or {})
    except (ValueError, TypeError) as exc:
        raise UserError(f"{str(path)!r}: malformed animation JSON ({exc})") from None
