"""Rigs stored as ``.npz``: the same keys as the ICT FaceKit conversion, so one format
serves both the reference rig and any rig saved by :func:`save_rig_npz`.

Required keys: ``neutral (V,3)``, ``deltas (S,V,3)``, ``names (S,)``, ``triangles (F,3)``.
Optional: ``units``, ``normals``, ``uvs``, ``triangle_material``, ``mapping (S,52)`` (else by
name), ``material_names``, and ``region_<name>`` vertex index arrays (ICT's ``lip_vertices``
and ``upper_face_vertices`` are read as the ``lips`` and ``upper_face`` regions).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..files import atomic_path
from .mapping import UserMapping, build_mapping, load_mapping
from .model import Rig

REQUIRED = ("neutral", "deltas", "names", "triangles")
ICT_REGIONS = {"lip_vertices": "lips", "upper_face_vertices": "upper_face"}


def load_npz_rig(path: str | os.PathLike, mapping: UserMapping | str | None = None) -> Rig:
    src = str(path)
    user = load_mapping(mapping)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise UserError(f"no such file: {src!r}") from None
    except Exception as exc:  # noqa: BLE001 -- zip and format errors: "not a rig npz"
        raise UserError(f"{src!r} is not a readable .npz rig ({exc.__class__.__name__})") from None
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise UserError(f"{src!r} lacks {', '.join(missing)}; not a rig npz "
                        f"(needs {', '.join(REQUIRED)})")
    neutral = data["neutral"].astype(np.float32)
    deltas = data["deltas"].astype(np.float32)
    names = [str(n) for n in data["names"]]
    if neutral.ndim != 2 or neutral.shape[1] != 3 or deltas.shape[1:] != neutral.shape \
            or len(deltas) != len(names):
        raise UserError(f"{src!r}: neutral {neutral.shape}, deltas {deltas.shape} and "
                        f"{len(names)} names do not fit together")
    if "mapping" in data and user is None:
        mapping_arr = data["mapping"].astype(np.float32)
        if mapping_arr.shape != (len(names), 52):
            raise UserError(f"{src!r}: mapping must be ({len(names)}, 52)")
    else:
        mapping_arr = build_mapping(names, user, src)
    regions = {v: data[k].astype(np.int64) for k, v in ICT_REGIONS.items() if k in data}
    regions.update({k[len("region_"):]: data[k].astype(np.int64)
                    for k in data if k.startswith("region_")})
    meta = {"source": src}
    if "material_names" in data:
        meta["material_names"] = [str(n) for n in data["material_names"]]
    if "landmarks68" in data:
        meta["landmarks68"] = data["landmarks68"].tolist()
    return Rig(
        name=Path(path).stem,
        neutral=neutral, deltas=deltas, shape_names=names,
        triangles=data["triangles"].astype(np.int32),
        mapping=mapping_arr,
        regions=regions,
        units=str(data.get("units", "cm")),
        normals=data["normals"].astype(np.float32) if "normals" in data else None,
        uvs=data["uvs"].astype(np.float32) if "uvs" in data else None,
        triangle_material=data.get("triangle_material"),
        meta=meta,
    )


def save_rig_npz(rig: Rig, path: str | os.PathLike) -> None:
    """Write ``rig`` so that :func:`load_npz_rig` gives it back (mapping included)."""
    arrays = {"neutral": rig.neutral, "deltas": rig.deltas, "names": np.array(rig.shape_names),
              "triangles": rig.triangles, "mapping": rig.mapping, "units": np.array(rig.units)}
    for key in ("normals", "uvs", "triangle_material"):
        if getattr(rig, key) is not None:
            arrays[key] = getattr(rig, key)
    if rig.meta.get("material_names"):
        arrays["material_names"] = np.array(rig.meta["material_names"])
    for name, idx in rig.regions.items():
        arrays[f"region_{name}"] = np.asarray(idx)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
