"""glTF 2.0 / GLB export: a rig with 52 ARKit morph targets plus the animation.

Layout of a written file (names are what engines show)::

    scene
    └─ "emoface"            root, no transform
       └─ "head"            at the head pivot; its rotation is animated (yaw/pitch/roll)
          └─ "face"         mesh, offset back by the pivot; its morph weights are animated

* The mesh's morph targets are exactly the 52 ARKit names, in canonical order, listed in
  ``mesh.extras.targetNames``. A rig whose own shapes differ (split ``_L``/``_R`` shapes, a
  user mapping) is baked: each ARKit target is its mapping-weighted sum of the rig's shapes,
  so any engine that drives ARKit names reproduces ``rig.evaluate`` exactly.
* Deltas are stored as sparse accessors (only the vertices a target moves) when that is
  smaller; a target that moves nothing (ICT has no ``tongueOut``) costs no bytes.
* One animation, ``emoface``: one keyframe per frame at ``i / fps`` s, LINEAR, float32
  weights; ``extras.fps`` keeps the frame rate for exact read-back.
* Units are metres, +Y up, the face looking along +Z (glTF's convention). Head rotation
  axes are documented in :mod:`emoface.export.head`. Eye rotations are not written: the
  ``eyeLook*`` targets already move the eyes of rigs that have them.

:func:`export_onto_glb` instead keeps a user's own GLB as it is and adds an animation that
drives its morph targets by name (or by a mapping file).
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..arkit import ARKIT_NAMES, NUM_BLENDSHAPES, normalize_name
from ..errors import UserError
from ..files import atomic_path
from ..rig import load_rig
from ..rig.gltf import target_names
from ..rig.gltf_io import (
    ARRAY_BUFFER,
    ELEMENT_ARRAY_BUFFER,
    BinaryBuilder,
    GltfDocument,
    glb_bytes,
    read_gltf,
)
from ..rig.mapping import UserMapping, build_mapping, load_mapping
from ..rig.model import Rig
from ..version import __version__
from .names import weights_by_name
from .scene import (
    arkit_deltas,
    head_pivot,
    head_quaternions,
    material_groups,
    material_look,
    metres_per_unit,
    quaternions_to_head,
    vertex_normals,
)

ANIMATION_NAME = "emoface"


# ------------------------------------------------------------------------- rig + animation
def build_glb(anim: Animation, rig: Rig, morph_normals: bool = False) -> tuple[dict, bytes]:
    """glTF JSON and binary buffer for ``rig`` animated by ``anim`` (see module docstring)."""
    scale = metres_per_unit(rig)
    doc: dict = {
        "asset": {"version": "2.0", "generator": f"emoface {__version__}"},
        "scene": 0, "scenes": [{"name": "emoface", "nodes": [0]}],
        "buffers": [{"byteLength": 0}],
    }
    bin_ = BinaryBuilder(doc)
    neutral = rig.neutral.astype(np.float64)
    normals = rig.normals if rig.normals is not None else vertex_normals(neutral, rig.triangles)
    normals = _unit(normals)
    deltas = arkit_deltas(rig) * np.float32(scale)
    if morph_normals:
        moved = [vertex_normals(neutral + deltas[k] / scale, rig.triangles) - normals
                 for k in range(NUM_BLENDSHAPES)]
    # Below a millionth of the head's size a displacement is float noise, not motion.
    tolerance = 1e-6 * float(np.ptp(neutral, axis=0).max() * scale or 1.0)
    uvs = rig.uvs if rig.uvs is not None and len(rig.uvs) == len(neutral) else None

    # One primitive per material, each with only its own vertices: engines that build one
    # morph buffer per primitive (three.js) would otherwise hold every vertex once per material.
    primitives, materials = [], []
    for name, tri_index, srgb in material_groups(rig):
        tris = rig.triangles[tri_index]
        used, local = np.unique(tris, return_inverse=True)
        index_type = np.uint16 if len(used) < 65535 else np.uint32  # 65535 = restart
        attrs = {
            "POSITION": bin_.accessor((neutral[used] * scale).astype(np.float32), "VEC3",
                                      target=ARRAY_BUFFER, minmax=True),
            "NORMAL": bin_.accessor(normals[used], "VEC3", target=ARRAY_BUFFER),
        }
        if uvs is not None:
            flipped = np.c_[uvs[used, 0], 1.0 - uvs[used, 1]]  # glTF's v runs down
            attrs["TEXCOORD_0"] = bin_.accessor(flipped.astype(np.float32), "VEC2",
                                                target=ARRAY_BUFFER)
        targets = []
        for k in range(NUM_BLENDSHAPES):
            target = {"POSITION": bin_.sparse_vec3(deltas[k][used], tolerance)}
            if morph_normals:
                target["NORMAL"] = bin_.sparse_vec3(moved[k][used], 1e-4)
            targets.append(target)
        materials.append(material_for(name, srgb))
        primitives.append({
            "attributes": attrs, "targets": targets,
            "indices": bin_.accessor(local.astype(index_type).reshape(-1), "SCALAR",
                                     target=ELEMENT_ARRAY_BUFFER),
            "material": len(materials) - 1, "mode": 4,
        })
    doc["materials"] = materials
    doc["meshes"] = [{"name": rig.name, "primitives": primitives,
                      "weights": [0.0] * NUM_BLENDSHAPES,
                      "extras": {"targetNames": list(ARKIT_NAMES)}}]
    pivot = (head_pivot(rig) * scale).astype(np.float32)
    doc["nodes"] = [
        {"name": "emoface", "children": [1]},
        {"name": "head", "translation": [float(v) for v in pivot], "children": [2]},
        {"name": "face", "mesh": 0, "translation": [float(-v) for v in pivot]},
    ]
    doc["animations"] = [_animation(bin_, anim, weights=anim.weights, weights_node=2,
                                    head_node=1)]
    return doc, bin_.data()


def material_for(name: str, srgb=None) -> dict:
    colour, alpha, roughness = material_look(name, srgb)
    mat = {"name": name, "pbrMetallicRoughness": {
        "baseColorFactor": colour + [alpha], "metallicFactor": 0.0,
        "roughnessFactor": roughness}}
    if alpha < 1.0:
        mat["alphaMode"] = "BLEND"
    if "lash" in name.lower():
        mat["doubleSided"] = True  # eyelashes are single-sided cards
    return mat


def _unit(normals: np.ndarray) -> np.ndarray:
    n = np.asarray(normals, np.float64)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return np.where(length > 1e-12, n / np.maximum(length, 1e-30), [0.0, 1.0, 0.0]
                    ).astype(np.float32)


def _animation(bin_: BinaryBuilder, anim: Animation, *, weights: np.ndarray | None = None,
               weights_node: int | None = None, head_node: int | None = None,
               extra_weights: list[tuple[int, np.ndarray]] = ()) -> dict:
    """An animation with one LINEAR key per frame: morph weights (and head rotation)."""
    times = (np.arange(anim.num_frames, dtype=np.float64) / anim.fps).astype(np.float32)
    t_acc = bin_.accessor(times, "SCALAR", minmax=True)
    samplers, channels = [], []

    def add(output: int, node: int, path: str) -> None:
        samplers.append({"input": t_acc, "output": output, "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": node, "path": path}})

    pairs = list(extra_weights)
    if weights is not None and weights_node is not None:
        pairs.insert(0, (weights_node, weights))
    outputs: dict[int, int] = {}
    for node, w in pairs:
        key = id(w)
        if key not in outputs:  # nodes sharing a mesh share its weight data
            outputs[key] = bin_.accessor(np.ascontiguousarray(w, np.float32).reshape(-1),
                                         "SCALAR")
        add(outputs[key], node, "weights")
    if head_node is not None and anim.head is not None:
        quats = head_quaternions(anim.head).astype(np.float32)
        add(bin_.accessor(quats, "VEC4"), head_node, "rotation")
    return {"name": ANIMATION_NAME, "samplers": samplers, "channels": channels,
            "extras": {"fps": anim.fps, "frames": anim.num_frames}}


def write_glb(anim: Animation, path: str | Path, rig: Rig | str | os.PathLike = "default",
              mapping: UserMapping | str | os.PathLike | None = None,
              onto: str | os.PathLike | None = None, morph_normals: bool = False,
              **_options) -> None:
    """Writer for ``.glb`` (and ``.gltf``, buffer embedded): ``rig`` is a Rig or a
    :func:`~emoface.rig.load_rig` spec; ``onto`` a user GLB to animate instead."""
    if onto is not None:
        export_onto_glb(anim, onto, path, mapping=mapping)
        return
    if anim.num_frames == 0:
        raise UserError(f"nothing to write to {str(path)!r}: the animation has no frames")
    rig = load_rig("default" if rig is None else rig, mapping)
    doc, binary = build_glb(anim, rig, morph_normals=morph_normals)
    _save(doc, binary, path)


def _save(doc: dict, binary: bytes, path: str | Path) -> None:
    as_json = Path(path).suffix.lower() == ".gltf"
    if as_json:
        doc["buffers"][0] = {"byteLength": len(binary), "uri": "data:application/octet-stream;"
                             "base64," + base64.b64encode(binary).decode("ascii")}
        data = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    else:
        data = glb_bytes(doc, binary)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


# ------------------------------------------------------------------------- onto a user GLB
def export_onto_glb(anim: Animation, user_glb: str | os.PathLike, out_path: str | os.PathLike,
                    mapping: UserMapping | str | os.PathLike | None = None,
                    replace_animations: bool = False) -> None:
    """Copy ``user_glb`` to ``out_path`` (GLB) with one more animation, ``emoface``, driving
    every mesh whose morph targets are ARKit-named (or named in ``mapping``).

    Meshes, materials, skins, their own animations and extensions are kept byte for byte;
    buffers are merged into the GLB's one binary chunk. Head rotation is not added (a
    user's head bone has its own axes and rest pose). UserError if nothing can be driven."""
    if anim.num_frames == 0:
        raise UserError(f"nothing to write to {str(out_path)!r}: the animation has no frames")
    if Path(out_path).suffix.lower() != ".glb":
        raise UserError(f"animating a user's file writes a .glb; got {str(out_path)!r}")
    user = load_mapping(mapping)
    doc = read_gltf(user_glb)
    src = repr(str(user_glb))
    meshes = doc.json.get("meshes", [])
    instances = [(i, n["mesh"]) for i, n in enumerate(doc.json.get("nodes", []))
                 if "mesh" in n and 0 <= n["mesh"] < len(meshes)]
    all_names = sorted({n for _, mi in instances for n in target_names(doc, mi)})
    if not all_names:
        raise UserError(f"{src} has no mesh with morph targets (blendshapes) to animate")
    build_mapping(all_names, user, src)  # unknown mapping names / nothing driven -> UserError
    per_mesh: dict[int, np.ndarray | None] = {}
    drives: list[tuple[int, np.ndarray]] = []
    for node, mi in instances:
        if mi not in per_mesh:
            names = target_names(doc, mi)
            rows = build_mapping(names, user, src, strict=False) if names else None
            per_mesh[mi] = anim.weights @ rows.T if rows is not None and rows.any() else None
        if per_mesh[mi] is not None:
            drives.append((node, per_mesh[mi]))
    binary = _merge_buffers(doc, Path(user_glb))
    bin_ = BinaryBuilder(doc.json, prefix=binary)
    animations = doc.json.setdefault("animations", [])
    if replace_animations:
        animations.clear()
    animations.append(_animation(bin_, anim, extra_weights=drives))
    _save(doc.json, bin_.data(), out_path)


def _merge_buffers(doc: GltfDocument, base: Path) -> bytes:
    """Fold every buffer (and external image file) into buffer 0, the GLB binary chunk."""
    js = doc.json
    blob = bytearray()
    starts = []
    for data in doc.buffers:
        blob += b"\0" * (-len(blob) % 8)
        starts.append(len(blob))
        blob += data
    for view in js.get("bufferViews", []):
        view["byteOffset"] = view.get("byteOffset", 0) + starts[view["buffer"]]
        view["buffer"] = 0
    for image in js.get("images", []):
        uri = image.get("uri")
        if uri and not uri.startswith("data:"):
            from urllib.parse import unquote

            try:
                data = (base.parent / unquote(uri)).read_bytes()
            except OSError:
                raise UserError(f"{str(base)!r}: its image {uri!r} is missing") from None
            blob += b"\0" * (-len(blob) % 8)
            js.setdefault("bufferViews", []).append(
                {"buffer": 0, "byteOffset": len(blob), "byteLength": len(data)})
            blob += data
            del image["uri"]
            image["bufferView"] = len(js["bufferViews"]) - 1
            image.setdefault("mimeType", "image/png" if uri.lower().endswith(".png")
                             else "image/jpeg")
    js["buffers"] = [{"byteLength": len(blob)}]
    return bytes(blob)


# ---------------------------------------------------------------------------------- read
def read_glb_animation(path: str | Path) -> Animation:
    """The ARKit animation in a .glb/.gltf: morph weights by target name, head rotation
    from our ``head`` node, frame rate from ``extras.fps`` (else from the key times)."""
    doc = read_gltf(path)
    src = repr(str(path))
    nodes = doc.json.get("nodes", [])
    animations = sorted(doc.json.get("animations", []),
                        key=lambda a: a.get("name") != ANIMATION_NAME)
    for animation in animations:
        for ch in animation.get("channels", []):
            target = ch.get("target", {})
            node = target.get("node")
            if target.get("path") != "weights" or node is None or node >= len(nodes) \
                    or "mesh" not in nodes[node]:
                continue
            names = target_names(doc, nodes[node]["mesh"])
            if not any(normalize_name(n) for n in names):
                continue
            sampler = animation["samplers"][ch["sampler"]]
            times, values = _sampled(doc, sampler, len(names), src)
            weights = weights_by_name(values, names, src)
            head = None
            for other in animation.get("channels", []):
                t = other.get("target", {})
                if t.get("path") == "rotation" and t.get("node") is not None \
                        and nodes[t["node"]].get("name") == "head":
                    h_times, quats = _sampled(doc, animation["samplers"][other["sampler"]], 4,
                                              src)
                    if len(h_times) == len(times):
                        head = quaternions_to_head(quats.reshape(-1, 4))
            anim = _uniform(times, weights, head, animation.get("extras", {}), src)
            anim.meta["source"] = str(path)
            return anim
    raise UserError(f"{src} has no animation of ARKit-named morph targets")


def _sampled(doc: GltfDocument, sampler: dict, width: int, src: str
             ) -> tuple[np.ndarray, np.ndarray]:
    times = doc.accessor(sampler["input"])[:, 0].astype(np.float64)
    flat = doc.accessor(sampler["output"]).reshape(-1)
    cubic = sampler.get("interpolation") == "CUBICSPLINE"
    per_key = width * (3 if cubic else 1)
    if len(flat) != len(times) * per_key:
        raise UserError(f"{src}: animation frame counts disagree ({len(times)} key times but "
                        f"{len(flat)} values for {width} channels)")
    values = flat.reshape(len(times), -1)
    if cubic:  # in-tangent, value, out-tangent per key: keep the value
        values = values[:, width:2 * width]
    return times, values


def _uniform(times: np.ndarray, weights: np.ndarray, head: np.ndarray | None, extras: dict,
             src: str) -> Animation:
    """Keys at i/fps are taken as frames; any other timing is resampled onto that grid."""
    if len(times) == 0:
        raise UserError(f"{src}: the animation has no keyframes")
    fps = extras.get("fps") if isinstance(extras, dict) else None
    if not isinstance(fps, (int, float)) or fps <= 0:
        steps = np.diff(times)
        fps = 30.0 if len(steps) == 0 or np.median(steps) <= 0 else 1.0 / float(np.median(steps))
        if abs(fps - round(fps)) < 1e-3 * fps:
            fps = float(round(fps))
    grid = times[0] + np.arange(len(times)) / fps
    if not np.allclose(grid, times, atol=1e-3 / fps):
        n = round((times[-1] - times[0]) * fps) + 1
        grid = times[0] + np.arange(n) / fps
        weights = np.stack([np.interp(grid, times, weights[:, j])
                            for j in range(weights.shape[1])], 1)
        if head is not None:
            head = np.stack([np.interp(grid, times, head[:, j]) for j in range(3)], 1)
    return Animation(np.clip(weights, 0.0, 1.0), float(fps), head=head)
