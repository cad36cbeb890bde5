"""ICT FaceKit as a Rig: the reference rig of the evaluation protocol.

Reads the converted ``ict_facekit.npz`` in ``../shared/data/ict-facekit`` (neutral in cm,
55 ARKit-style expression deltas with ``_L``/``_R`` suffixes, 2 pupil shapes, regions).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..paths import shared_data_dir
from .model import Rig, mapping_by_name

# Face vertices come first in ICT FaceKit; the rest are eyes, teeth, gums, throat.
FACE_VERTEX_COUNT = 9409


def default_ict_path() -> Path:
    return shared_data_dir() / "ict-facekit" / "ict_facekit.npz"


def load_ict_npz(path: str | os.PathLike | None = None) -> Rig:
    path = Path(path) if path else default_ict_path()
    if not path.exists():
        raise UserError(f"ICT FaceKit not found at {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as exc:
        raise UserError(f"{str(path)!r} is not a readable ICT FaceKit npz ({exc})") from None
    names = [str(n) for n in data["names"]]
    regions = {
        "lips": data["lip_vertices"].astype(np.int64),
        "upper_face": data["upper_face_vertices"].astype(np.int64),
        "face": np.arange(FACE_VERTEX_COUNT),
    }
    return Rig(
        name="ict",
        neutral=data["neutral"].astype(np.float32),
        deltas=data["deltas"].astype(np.float32),
        shape_names=names,
        triangles=data["triangles"].astype(np.int32),
        mapping=mapping_by_name(names, str(path)),
        regions=regions,
        units=str(data.get("units", "cm")),
        triangle_material=data.get("triangle_material"),
        meta={"source": str(path), "landmarks68": data["landmarks68"].tolist()},
    )
