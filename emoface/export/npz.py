"""The native format: ``.npz`` with keys ``weights names fps`` (+ ``head eyes
emotion_probs emotions meta``), columns matched by name on reading."""
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


def write(anim: Animation, path: str | Path, **_options) -> None:
    """Write ``.npz`` with keys weights names fps (+ head eyes emotion_probs emotions meta)."""
    arrays: dict[str, np.ndarray] = {
        "weights": anim.weights, "names": np.array(ARKIT_NAMES),
        "fps": np.array(anim.fps, np.float32),
        "meta": np.array(json.dumps(anim.meta, sort_keys=True)),
    }
    for key in ("head", "eyes"):
        if getattr(anim, key) is not None:
            arrays[key] = getattr(anim, key)
    if anim.emotion_probs is not None:
        arrays["emotion_probs"] = anim.emotion_probs
        arrays["emotions"] = np.array(EMOTIONS)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def read(path: str | Path) -> Animation:
    """Read an ``.npz`` written by :func:`write` (or any npz with weights, names, fps).
    Columns are matched by name, so a file in another channel order loads correctly."""
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise UserError(f"no such file: {str(path)!r}") from None
    except Exception as exc:  # zip/pickle/format errors all mean "not our npz"
        raise UserError(f"{str(path)!r} is not a readable .npz animation ({exc})") from None
    missing = [k for k in ("weights", "names", "fps") if k not in data]
    if missing:
        raise UserError(f"{str(path)!r} lacks {', '.join(missing)}; not an emoface animation")
    weights = weights_by_name(data["weights"], [str(n) for n in data["names"]], str(path))
    meta = json.loads(str(data["meta"])) if "meta" in data else {}
    return Animation(weights, float(data["fps"]), head=data.get("head"), eyes=data.get("eyes"),
                     emotion_probs=data.get("emotion_probs"), meta=meta)
