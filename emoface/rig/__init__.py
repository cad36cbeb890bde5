"""Face rigs: meshes with blendshapes that ARKit weights can drive.

:func:`load_rig` is the one entry point: ``"default"`` (the bundled rig), ``"ict"`` (ICT
FaceKit from the shared data), a ``.glb``/``.gltf`` with morph targets, a folder of OBJ
blendshapes, or an ``.npz`` rig; plus an optional mapping file for rigs whose shapes are not
named after ARKit's.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ..errors import UserError
from . import default
from .gltf import load_gltf_rig
from .ict import load_ict_npz
from .mapping import UserMapping, build_mapping, load_mapping
from .model import Rig, mapping_by_name
from .npz import load_npz_rig
from .obj import load_obj_folder

# ICT FaceKit's geometry groups, in the order of its triangle_material ids (from the
# vertex ranges documented with the model: face, head+sockets, gums/tongue, teeth, ...).
ICT_MATERIAL_NAMES = (
    "face", "head_neck", "gums_tongue", "teeth", "eyeball_left", "cornea_left",
    "eyeball_right", "cornea_right", "lacrimal_fluid", "eye_blend", "eye_occlusion",
    "eyelashes",
)
_ICT_VERTEX_COUNT = 26719


def load_rig(spec: Rig | str | os.PathLike = "default",
             mapping: UserMapping | str | os.PathLike | None = None) -> Rig:
    """A Rig from ``spec``; ``mapping`` (JSON path or dict) retargets its shapes.

    UserError for a missing or unreadable source and for a rig that nothing drives."""
    if isinstance(spec, Rig):
        return with_mapping(spec, mapping) if mapping is not None else spec
    text = str(spec)
    if text == "default":
        rig = _load_default()
        return with_mapping(rig, mapping) if mapping is not None else rig
    if text == "ict":
        rig = _load_ict()
        return with_mapping(rig, mapping) if mapping is not None else rig
    path = Path(text)
    if path.is_dir():
        return load_obj_folder(path, mapping)
    if not path.exists():
        raise UserError(f"no such rig: {text!r} (give default, ict, a .glb/.gltf, an .npz "
                        "or a folder of OBJ shapes)")
    ext = path.suffix.lower()
    if ext in (".glb", ".gltf"):
        return load_gltf_rig(path, mapping)
    if ext == ".npz":
        rig = load_npz_rig(path, mapping)
        if rig.triangle_material is not None and "material_names" not in rig.meta \
                and rig.num_vertices == _ICT_VERTEX_COUNT:
            rig.meta["material_names"] = list(ICT_MATERIAL_NAMES)
        return rig
    if ext == ".obj":
        raise UserError(f"{text!r} is a single mesh; a rig needs its blendshapes: give the "
                        "folder holding neutral.obj and one OBJ per shape")
    raise UserError(f"cannot load a rig from {text!r}: unknown extension {ext or '(none)'!r} "
                    "(use .glb, .gltf, .npz or a folder of OBJ files)")


def with_mapping(rig: Rig, mapping: UserMapping | str | os.PathLike | None) -> Rig:
    """``rig`` with its shapes retargeted by name plus ``mapping`` (a copy; arrays shared)."""
    user = load_mapping(mapping)
    return replace(rig, mapping=build_mapping(rig.shape_names, user, f"rig {rig.name!r}"),
                   meta=dict(rig.meta))


def _load_ict() -> Rig:
    rig = load_ict_npz()
    rig.meta.setdefault("material_names", list(ICT_MATERIAL_NAMES))
    return rig


def _load_default() -> Rig:
    rig = default.load_default_rig()
    if "material_colors" not in rig.meta:
        table = getattr(default, "MATERIAL_COLORS", None)  # {id: sRGB 0-255}
        if isinstance(table, dict):
            rig.meta["material_colors"] = {int(k): tuple(v) for k, v in table.items()}
    return rig


__all__ = [
    "ICT_MATERIAL_NAMES",
    "Rig",
    "build_mapping",
    "load_mapping",
    "load_rig",
    "mapping_by_name",
    "with_mapping",
]
