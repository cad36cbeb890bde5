"""Any glTF/GLB whose meshes carry morph targets as a Rig.

Target names come from ``mesh.extras.targetNames`` (the de-facto convention of Blender,
three.js and most exporters) or a primitive's ``extras.targetNames``. Every mesh instance
(node) with at least one driven target is merged into one vertex array, in world space, at
the file's rest pose: node transforms are applied, and skinned meshes are posed by their
skin's bind matrices. Faces keep their glTF material as ``triangle_material`` and the
material names go to ``meta["material_names"]``. Units are metres, axes glTF's (+Y up,
the face looking along +Z). Texture coordinates are returned with v pointing up, as in
OBJ and USD (glTF's v points down).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from .gltf_io import GltfDocument, read_gltf
from .mapping import UserMapping, build_mapping, load_mapping
from .model import Rig

TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN = 4, 5, 6
COMPRESSION = {"KHR_draco_mesh_compression", "EXT_meshopt_compression",
               "KHR_meshopt_compression"}


def target_names(doc: GltfDocument, mesh_index: int) -> list[str]:
    """Morph target names of a mesh; ``target0``, ``target1`` ... when the file names none."""
    mesh = doc.json["meshes"][mesh_index]
    prims = mesh.get("primitives", [])
    count = max((len(p.get("targets", [])) for p in prims), default=0)
    candidates = [mesh.get("extras", {})] + [p.get("extras", {}) for p in prims]
    for extras in candidates:
        names = extras.get("targetNames") if isinstance(extras, dict) else None
        if isinstance(names, list) and len(names) == count:
            return [str(n) for n in names]
    return [f"target{i}" for i in range(count)]


def _triangles(doc: GltfDocument, prim: dict, vertex_count: int) -> np.ndarray:
    mode = prim.get("mode", TRIANGLES)
    if "indices" in prim:
        idx = doc.accessor(prim["indices"])[:, 0].astype(np.int64)
    else:
        idx = np.arange(vertex_count)
    if mode == TRIANGLES:
        tris = idx[: len(idx) // 3 * 3].reshape(-1, 3)
    elif mode == TRIANGLE_STRIP:
        k = np.arange(len(idx) - 2)
        # every other triangle of a strip is flipped back to keep a consistent winding
        tris = np.stack([idx[k], idx[k + 1 + (k % 2)], idx[k + 2 - (k % 2)]], 1)
    elif mode == TRIANGLE_FAN:
        k = np.arange(1, len(idx) - 1)
        tris = np.stack([np.full(len(k), idx[0]), idx[k], idx[k + 1]], 1)
    else:  # points and lines carry no surface
        return np.zeros((0, 3), np.int64)
    if len(tris) and tris.max() >= vertex_count:
        raise UserError(f"{doc.source}: a primitive's indices point past its vertices")
    return tris


def _skin_matrices(doc: GltfDocument, prim: dict, skin_index: int,
                   world: list[np.ndarray]) -> np.ndarray:
    """(V, 4, 4) rest-pose skinning matrix of each vertex of a skinned primitive."""
    skin = doc.json["skins"][skin_index]
    joints = skin["joints"]
    if "inverseBindMatrices" in skin:
        ibm = doc.accessor(skin["inverseBindMatrices"]).reshape(-1, 4, 4).transpose(0, 2, 1)
    else:
        ibm = np.broadcast_to(np.eye(4), (len(joints), 4, 4))
    joint_mats = np.stack([world[j] for j in joints]) @ ibm
    attrs = prim["attributes"]
    mats = np.zeros((doc.json["accessors"][attrs["POSITION"]]["count"], 4, 4))
    for set_ in range(4):
        if f"JOINTS_{set_}" not in attrs:
            break
        j = doc.accessor(attrs[f"JOINTS_{set_}"]).astype(np.int64)
        w = doc.accessor(attrs[f"WEIGHTS_{set_}"]).astype(np.float64)
        if j.max(initial=0) >= len(joints):
            raise UserError(f"{doc.source}: skin joint index out of range")
        mats += np.einsum("vk,vkab->vab", w, joint_mats[j])
    total = mats[:, 3, 3:4, None]
    return np.where(total > 0, mats / np.maximum(total, 1e-12), np.eye(4))


def load_gltf_rig(path: str | os.PathLike, mapping: UserMapping | str | None = None) -> Rig:
    """A Rig from a .glb/.gltf; UserError for a broken file or one nothing ARKit can drive."""
    user = load_mapping(mapping)
    doc = read_gltf(path)
    src = f"{str(path)!r}"
    packed = COMPRESSION & set(doc.json.get("extensionsUsed", []))
    if packed:  # their accessors have no plain data; we would read zeros
        raise UserError(f"{src} uses {', '.join(sorted(packed))}; export it without mesh "
                        "compression to use it as a rig")
    meshes = doc.json.get("meshes", [])
    nodes = doc.json.get("nodes", [])
    instances = [(i, n["mesh"]) for i, n in enumerate(nodes) if "mesh" in n]
    morphed = [(ni, mi) for ni, mi in instances
               if 0 <= mi < len(meshes) and target_names(doc, mi)]
    if not morphed:
        raise UserError(f"{src} has no mesh with morph targets (blendshapes)")

    # A mesh instance counts when at least one of its targets is driven by name or mapping.
    all_names: list[str] = []
    for _, mi in morphed:
        for name in target_names(doc, mi):
            if name not in all_names:
                all_names.append(name)
    full = build_mapping(all_names, user, src)
    driven = {n for n, row in zip(all_names, full) if row.any()}
    chosen = [(ni, mi) for ni, mi in morphed if driven & set(target_names(doc, mi))]
    shape_names = [n for n in all_names if n in driven]
    shape_row = {n: s for s, n in enumerate(shape_names)}

    world = doc.node_world_matrices()
    positions, normals, uvs, deltas, tris, tri_mat = [], [], [], [], [], []
    have_normals = have_uvs = True
    offset = 0
    materials = doc.json.get("materials", [])
    for ni, mi in chosen:
        names = target_names(doc, mi)
        for prim in meshes[mi].get("primitives", []):
            attrs = prim.get("attributes", {})
            if "POSITION" not in attrs:
                continue
            pos = doc.accessor(attrs["POSITION"]).astype(np.float64)
            v = len(pos)
            if "skin" in nodes[ni]:
                mats = _skin_matrices(doc, prim, nodes[ni]["skin"], world)
            else:
                mats = np.broadcast_to(world[ni], (v, 4, 4))
            lin = mats[:, :3, :3]
            positions.append(np.einsum("vab,vb->va", lin, pos) + mats[:, :3, 3])
            d = np.zeros((len(shape_names), v, 3))
            for t, target in enumerate(prim.get("targets", [])):
                if t < len(names) and names[t] in shape_row and "POSITION" in target:
                    raw = doc.accessor(target["POSITION"]).astype(np.float64)
                    if raw.shape != pos.shape:
                        raise UserError(f"{src}: morph target {names[t]!r} has {len(raw)} "
                                        f"vertices, its primitive {v}")
                    d[shape_row[names[t]]] = np.einsum("vab,vb->va", lin, raw)
            deltas.append(d)
            if "NORMAL" in attrs:
                # normals transform by the inverse transpose of the linear part
                n = np.einsum("vab,vb->va", np.linalg.inv(lin).transpose(0, 2, 1),
                              doc.accessor(attrs["NORMAL"]).astype(np.float64))
                normals.append(n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12))
            else:
                have_normals = False
            if "TEXCOORD_0" in attrs:
                uv = doc.accessor(attrs["TEXCOORD_0"]).astype(np.float64)
                uvs.append(np.c_[uv[:, 0], 1.0 - uv[:, 1]])  # glTF's v runs down; OBJ/USD's up
            else:
                have_uvs = False
            t = _triangles(doc, prim, v)
            if np.linalg.det(lin[0]) < 0:  # a mirroring transform flips the winding
                t = t[:, [0, 2, 1]]
            tris.append(t + offset)
            tri_mat.append(np.full(len(t), prim.get("material", len(materials)), np.int16))
            offset += v
    if not positions:
        raise UserError(f"{src}: its morphing meshes have no vertex positions")
    material_names = [m.get("name", f"material{i}") for i, m in enumerate(materials)]
    if any(len(m) and m.max() == len(materials) for m in tri_mat):
        material_names.append("default")
    return Rig(
        name=Path(path).stem,
        neutral=np.concatenate(positions).astype(np.float32),
        deltas=np.concatenate(deltas, axis=1).astype(np.float32),
        shape_names=shape_names,
        triangles=np.concatenate(tris).astype(np.int32),
        mapping=full[[all_names.index(n) for n in shape_names]],
        units="m",
        normals=np.concatenate(normals).astype(np.float32) if have_normals else None,
        uvs=np.concatenate(uvs).astype(np.float32) if have_uvs else None,
        triangle_material=np.concatenate(tri_mat),
        meta={"source": str(path), "material_names": material_names,
              "meshes": [meshes[mi].get("name", f"mesh{mi}") for _, mi in chosen]},
    )
