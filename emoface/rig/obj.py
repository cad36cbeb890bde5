"""Wavefront OBJ meshes and folders of OBJ blendshapes as Rigs.

A blendshape folder holds one neutral mesh (``neutral.obj``, ICT FaceKit's
``generic_neutral_mesh.obj``, ``base.obj`` ...) and one OBJ per shape with the same vertex
list, named after the shape (``jawOpen.obj``, ``mouthSmile_L.obj``). Deltas are shape minus
neutral. Shapes no ARKit channel drives (ICT's ``identity000.obj`` ...) are not even read.

OBJ carries no units; we guess them from the head's size (see :func:`guess_units`) and
assume the face looks along +Z with +Y up, as ICT FaceKit and glTF do.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from .mapping import UserMapping, build_mapping, load_mapping
from .model import Rig

NEUTRAL_NAMES = ("neutral", "generic_neutral_mesh", "base", "basis", "default", "rest")


@dataclass
class ObjMesh:
    positions: np.ndarray          # (V, 3) float32
    triangles: np.ndarray          # (F, 3) int32, polygons fan-triangulated
    uvs: np.ndarray | None         # (V, 2) per position: the first texture coordinate used
    normals: np.ndarray | None     # (V, 3) per position: the first normal used
    triangle_material: np.ndarray | None  # (F,) index into material_names, by `usemtl`
    material_names: list[str]


def _resolve(index: str, count: int, src: str) -> int:
    i = int(index)
    i = i - 1 if i > 0 else count + i  # OBJ is 1-based; negative counts back from the end
    if not 0 <= i < count:
        raise UserError(f"{src}: face refers to element {index}, but only {count} exist")
    return i


def read_obj(path: str | os.PathLike) -> ObjMesh:
    """Read positions, faces (any polygon), and the uv/normal each vertex first uses."""
    src = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise UserError(f"no such file: {src!r}") from None
    except OSError as exc:
        raise UserError(f"cannot read {src!r} ({exc.strerror or exc})") from None
    v: list[list[float]] = []
    vt: list[list[float]] = []
    vn: list[list[float]] = []
    faces: list[tuple[list[int], list[int | None], list[int | None], int]] = []
    materials: list[str] = []
    current = -1
    try:
        for line in text.splitlines():
            parts = line.split()
            if not parts:
                continue
            tag = parts[0]
            if tag == "v":
                v.append([float(x) for x in parts[1:4]])
            elif tag == "vt":
                vt.append([float(x) for x in parts[1:3]])
            elif tag == "vn":
                vn.append([float(x) for x in parts[1:4]])
            elif tag == "f":
                pi, ti, ni = [], [], []
                for corner in parts[1:]:
                    fields = corner.split("/")
                    pi.append(_resolve(fields[0], len(v), src))
                    ti.append(_resolve(fields[1], len(vt), src)
                              if len(fields) > 1 and fields[1] else None)
                    ni.append(_resolve(fields[2], len(vn), src)
                              if len(fields) > 2 and fields[2] else None)
                if len(pi) >= 3:
                    faces.append((pi, ti, ni, current))
            elif tag == "usemtl":
                name = " ".join(parts[1:])
                if name not in materials:
                    materials.append(name)
                current = materials.index(name)
    except (ValueError, IndexError):
        raise UserError(f"{src!r} is not a readable OBJ (malformed line {line.strip()[:40]!r})"
                        ) from None
    if not v or any(len(p) != 3 for p in v):
        raise UserError(f"{src!r} has no usable vertices; not an OBJ mesh")
    positions = np.array(v, np.float32)
    tris, tri_mat = [], []
    uvs = np.full((len(v), 2), np.nan, np.float32) if vt else None
    normals = np.full((len(v), 3), np.nan, np.float32) if vn else None
    for pi, ti, ni, mat in faces:
        for k in range(1, len(pi) - 1):
            tris.append((pi[0], pi[k], pi[k + 1]))
            tri_mat.append(mat)
        for p, t, n in zip(pi, ti, ni):
            if uvs is not None and t is not None and np.isnan(uvs[p, 0]):
                uvs[p] = vt[t]
            if normals is not None and n is not None and np.isnan(normals[p, 0]):
                normals[p] = vn[n]
    if uvs is not None:
        uvs = None if np.isnan(uvs).all() else np.nan_to_num(uvs)
    if normals is not None:
        normals = None if np.isnan(normals).any() else normals
    return ObjMesh(
        positions=positions,
        triangles=np.array(tris, np.int32).reshape(-1, 3),
        uvs=uvs, normals=normals,
        triangle_material=np.array([max(m, 0) for m in tri_mat], np.int16) if materials else None,
        material_names=materials,
    )


def read_obj_positions(path: Path) -> np.ndarray:
    """Only the ``v`` lines: blendshape files repeat the neutral's faces, no need to parse them."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
        rows = [line.split()[1:4] for line in lines if line.startswith("v ")]
        return np.array(rows, np.float32).reshape(-1, 3)
    except OSError as exc:
        raise UserError(f"cannot read {str(path)!r} ({exc.strerror or exc})") from None
    except ValueError:
        raise UserError(f"{str(path)!r} is not a readable OBJ (bad vertex line)") from None


def guess_units(positions: np.ndarray) -> str:
    """A head is about 0.25 m across: pick the unit that makes the mesh's size plausible."""
    extent = float(np.ptp(positions, axis=0).max()) if len(positions) else 0.0
    if extent < 3.0:
        return "m"
    if extent < 150.0:
        return "cm"
    return "mm"


def find_neutral(folder: Path) -> Path:
    objs = {p.stem.lower(): p for p in folder.glob("*.obj")}
    for name in NEUTRAL_NAMES:
        if name in objs:
            return objs[name]
    raise UserError(f"{str(folder)!r}: no neutral mesh; name it neutral.obj "
                    f"(also accepted: {', '.join(n + '.obj' for n in NEUTRAL_NAMES[1:])})")


def load_obj_folder(folder: str | os.PathLike, mapping: UserMapping | str | None = None,
                    units: str | None = None) -> Rig:
    """A Rig from a folder of OBJ blendshapes (ICT FaceKit layout or ``neutral.obj`` + shapes)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"no such rig folder: {str(folder)!r}")
    user = load_mapping(mapping)
    neutral_path = find_neutral(folder)
    base = read_obj(neutral_path)
    candidates = sorted(p for p in folder.glob("*.obj") if p != neutral_path)
    if not candidates:
        raise UserError(f"{str(folder)!r}: only a neutral mesh, no blendshape OBJs beside it")
    names = [p.stem for p in candidates]
    full = build_mapping(names, user, f"rig folder {str(folder)!r}")
    used = np.flatnonzero(full.any(1))
    deltas = np.empty((len(used), len(base.positions), 3), np.float32)
    for row, s in enumerate(used):
        pos = read_obj_positions(candidates[s])
        if pos.shape != base.positions.shape:
            raise UserError(f"{str(candidates[s])!r} has {len(pos)} vertices but the neutral "
                            f"{neutral_path.name} has {len(base.positions)}; shapes must share "
                            "the neutral's topology")
        deltas[row] = pos - base.positions
    return Rig(
        name=folder.name,
        neutral=base.positions,
        deltas=deltas,
        shape_names=[names[s] for s in used],
        triangles=base.triangles,
        mapping=full[used],
        units=units or guess_units(base.positions),
        normals=base.normals,
        uvs=base.uvs,
        triangle_material=base.triangle_material,
        meta={"source": str(folder), "neutral": neutral_path.name,
              "material_names": base.material_names,
              "unused_shapes": [n for n, row in zip(names, full) if not row.any()],
              "units_guessed": units is None},
    )
