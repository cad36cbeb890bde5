"""Small rigs and rig files built on the fly for the rig and export tests.

The GLB fixtures are written with pygltflib, not with emoface's own glTF code, so the
loader is checked against an independent writer.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emoface.paths import PROJECT_DIR
from emoface.rig.mapping import build_mapping
from emoface.rig.model import Rig

SHAPES = ("jawOpen", "mouthSmile_L", "mouthSmile_R", "browInnerUp_L", "browInnerUp_R",
          "identity000")


def grid(n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A bumpy n x n grid 16 x 20 cm "face" looking along +Z, and its triangles."""
    xs, ys = np.meshgrid(np.linspace(-8, 8, n), np.linspace(-10, 10, n))
    z = 5 - 0.05 * (xs ** 2 + ys ** 2)
    verts = np.stack([xs.ravel(), ys.ravel(), z.ravel()], 1).astype(np.float32)
    tris = []
    for r in range(n - 1):
        for c in range(n - 1):
            a = r * n + c
            tris += [(a, a + 1, a + n + 1), (a, a + n + 1, a + n)]
    return verts, np.array(tris, np.int32)


def synthetic_rig(n: int = 6, seed: int = 0) -> Rig:
    """Grid rig in cm with split shapes (``_L``/``_R``), one unmapped shape, two materials."""
    neutral, tris = grid(n)
    rng = np.random.default_rng(seed)
    deltas = np.zeros((len(SHAPES), len(neutral), 3), np.float32)
    for s in range(len(SHAPES)):
        moving = rng.choice(len(neutral), len(neutral) // 3, replace=False)
        deltas[s, moving] = rng.normal(0, 0.5, (len(moving), 3))
    material = (np.arange(len(tris)) >= len(tris) // 2).astype(np.int8)
    return Rig("synthetic", neutral, deltas, list(SHAPES), tris, build_mapping(list(SHAPES)),
               units="cm", triangle_material=material,
               meta={"material_names": ["face", "mouth_interior"]})


def write_obj(path: Path, verts: np.ndarray, tris: np.ndarray | None = None) -> None:
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in verts]
    if tris is not None:
        lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in tris]
    path.write_text("\n".join(lines) + "\n")


def morph_glb(path: Path, target_names: list[str], *, two_primitives: bool = True,
              names_on: str = "mesh", node: dict | None = None, extra: dict | None = None,
              seed: int = 1) -> dict:
    """A GLB with one morphing mesh written by pygltflib; returns the arrays it holds."""
    import pygltflib as g

    verts, tris = grid(4)
    verts = verts / 100.0  # glTF is in metres
    rng = np.random.default_rng(seed)
    deltas = rng.normal(0, 0.005, (len(target_names), len(verts), 3)).astype(np.float32)
    parts = [tris[: len(tris) // 2], tris[len(tris) // 2:]] if two_primitives else [tris]
    blob = bytearray()
    views, accessors = [], []

    def add(array: np.ndarray, ctype: int, kind: str, minmax: bool = False) -> int:
        data = np.ascontiguousarray(array).tobytes()
        blob.extend(b"\0" * (-len(blob) % 4))
        views.append(g.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(data)))
        blob.extend(data)
        acc = g.Accessor(bufferView=len(views) - 1, componentType=ctype, count=len(array),
                         type=kind)
        if minmax:
            acc.min = array.min(0).tolist()
            acc.max = array.max(0).tolist()
        accessors.append(acc)
        return len(accessors) - 1

    prims, layout = [], []
    for k, part in enumerate(parts):
        used, local = np.unique(part, return_inverse=True)
        layout.append(used)
        pos = add(verts[used], g.FLOAT, g.VEC3, minmax=True)
        idx = add(local.astype(np.uint16).reshape(-1), g.UNSIGNED_SHORT, g.SCALAR)
        targets = [{"POSITION": add(deltas[t][used], g.FLOAT, g.VEC3, minmax=True)}
                   for t in range(len(target_names))]
        prim = g.Primitive(attributes=g.Attributes(POSITION=pos), indices=idx, targets=targets,
                           material=k)
        if names_on == "primitive":
            prim.extras = {"targetNames": list(target_names)}
        prims.append(prim)
    mesh = g.Mesh(name="Head", primitives=prims)
    if names_on == "mesh":
        mesh.extras = {"targetNames": list(target_names)}
    gltf = g.GLTF2(
        scene=0, scenes=[g.Scene(nodes=[0])],
        nodes=[g.Node(name="HeadNode", mesh=0, **(node or {}))],
        meshes=[mesh],
        materials=[g.Material(name="skin"), g.Material(name="mouth")][: len(parts)],
        accessors=accessors, bufferViews=views,
        buffers=[g.Buffer(byteLength=len(blob))],
        **(extra or {}),
    )
    gltf.set_binary_blob(bytes(blob))
    gltf.save_binary(str(path))
    return {"verts": verts, "tris": tris, "deltas": deltas, "layout": layout}


# ------------------------------------------------------------------ Khronos validator
VALIDATOR_DIR = PROJECT_DIR / "tools" / "gltf-validator"


def validate_gltf(path: Path) -> dict:
    """The Khronos glTF-Validator report for ``path``; skips when node or it is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the glTF validator needs it (apt install nodejs)")
    if not (VALIDATOR_DIR / "node_modules" / "gltf-validator").is_dir():
        pytest.skip("gltf-validator is not installed: cd tools/gltf-validator && npm ci")
    proc = subprocess.run([node, str(VALIDATOR_DIR / "validate.js"), str(path)], check=False,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode == 2 or not proc.stdout.strip():
        raise AssertionError(f"validator failed on {path}: {proc.stderr.strip()}")
    return json.loads(proc.stdout.splitlines()[0])


def issues(report: dict, severity: int = 0) -> list[str]:
    """Messages at ``severity`` (0 error, 1 warning, 2 info, 3 hint) as readable lines."""
    return [f"{m['code']} at {m.get('pointer', '?')}: {m['message']}"
            for m in report["issues"]["messages"] if m["severity"] == severity]
