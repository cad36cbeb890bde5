"""JSON animation: ``{"fps", "names", "frames": [[52 weights], ...]}`` plus optional
``head``, ``eyes``, ``emotion_probs``/``emotions`` and ``meta``. Easy to read from JavaScript."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..arkit import ARKIT_NAMES
from ..emotion import EMOTIONS
from ..errors import UserError
from ..files import atomic_path
from .names import weights_by_name

_BIG = ("frames", "head", "eyes", "emotion_probs")   # per-frame arrays, written row by row


def _rows(a: np.ndarray) -> list[list[float]]:
    # float32 -> shortest repr that round-trips (via float64 repr of the float32 value)
    return [[float(v) for v in row] for row in np.asarray(a, np.float32)]


def write(anim: Animation, path: str | Path, **_options) -> None:
    """The document ``json.dump`` would write, byte for byte, with the per-frame arrays
    written a row at a time (a whole take as Python lists costs ~30 x its array size)."""
    doc: dict = {"fps": anim.fps, "names": list(ARKIT_NAMES), "frames": anim.weights}
    if anim.head is not None:
        doc["head"] = anim.head
    if anim.eyes is not None:
        doc["eyes"] = anim.eyes
    if anim.emotion_probs is not None:
        doc["emotions"] = list(EMOTIONS)
        doc["emotion_probs"] = anim.emotion_probs
    doc["meta"] = anim.meta
    dumps = functools.partial(json.dumps, separators=(",", ":"))
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write("{")
        for i, (key, value) in enumerate(doc.items()):
            f.write(("," if i else "") + dumps(key) + ":")
            if key not in _BIG:
                f.write(dumps(value))
                continue
            f.write("[")
            for j in range(0, len(value), 1024):
                rows = _rows(value[j:j + 1024])
                f.write(("," if j else "") + ",".join(dumps(r) for r in rows))
            f.write("]")
        f.write("}")


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
