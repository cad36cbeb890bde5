"""What the engine exports (GLB, USD) share: head rotation as quaternions and its pivot,
units, the rig's shapes baked into the 52 ARKit targets, normals and material colours.

Head axis convention: Live Link Face's, which is what an Animation holds (its CSV columns
pass through unchanged; the captures' eye curves show the signs). Both exports are +Y up
with the face looking along +Z, so +X is the character's left:

* yaw   > 0 turns the face towards the character's right (-X), a rotation about -Y;
* pitch > 0 tips the face down (chin towards the chest), about +X;
* roll  > 0 tilts the top of the head towards the character's right (-X), about +Z.

They compose as yaw, then pitch about the yawed X, then roll (Unreal's rotator order), i.e.
``R = Ry(-yaw) @ Rx(pitch) @ Rz(roll)`` acting on column vectors.
"""
from __future__ import annotations

import numpy as np

from ..rig.model import Rig


def head_quaternions(head: np.ndarray) -> np.ndarray:
    """(T, 3) yaw, pitch, roll in radians -> (T, 4) unit quaternions as x, y, z, w."""
    h = np.asarray(head, np.float64) * [-1.0, 1.0, 1.0]  # Live Link yaw turns about -Y
    half = h / 2.0
    cy, sy = np.cos(half[:, 0]), np.sin(half[:, 0])
    cp, sp = np.cos(half[:, 1]), np.sin(half[:, 1])
    cr, sr = np.cos(half[:, 2]), np.sin(half[:, 2])
    # Hamilton product qy * qx * qz written out (qy for the negated yaw)
    x = cy * sp * cr + sy * cp * sr
    y = sy * cp * cr - cy * sp * sr
    z = cy * cp * sr - sy * sp * cr
    w = cy * cp * cr + sy * sp * sr
    q = np.stack([x, y, z, w], 1)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def quaternions_to_head(q: np.ndarray) -> np.ndarray:
    """(T, 4) x, y, z, w quaternions -> (T, 3) yaw, pitch, roll (inverse of the above)."""
    q = np.asarray(q, np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    x, y, z, w = q.T
    r02 = 2 * (x * z + y * w)
    r12 = 2 * (y * z - x * w)
    r22 = 1 - 2 * (x * x + y * y)
    r10 = 2 * (x * y + z * w)
    r11 = 1 - 2 * (x * x + z * z)
    pitch = np.arcsin(np.clip(-r12, -1.0, 1.0))
    return np.stack([-np.arctan2(r02, r22), pitch, np.arctan2(r10, r11)], 1)


def head_pivot(rig: Rig) -> np.ndarray:
    """Point the head turns about, in rig units: ``rig.meta["head_pivot"]`` when the rig
    knows it, else a guess at the top of the neck from the mesh's bounding box (a third of
    the way up from the lowest vertex, a little behind the middle)."""
    if rig.meta.get("head_pivot") is not None:
        return np.asarray(rig.meta["head_pivot"], np.float64).reshape(3)
    lo, hi = rig.neutral.min(0).astype(np.float64), rig.neutral.max(0).astype(np.float64)
    size = hi - lo
    return np.array([(lo[0] + hi[0]) / 2, lo[1] + 0.35 * size[1], (lo[2] + hi[2]) / 2 - 0.15 * size[2]])


UNIT_METRES = {"mm": 0.001, "cm": 0.01, "m": 1.0}


def metres_per_unit(rig: Rig) -> float:
    try:
        return UNIT_METRES[rig.units]
    except KeyError:
        raise ValueError(f"rig {rig.name!r} has unknown units {rig.units!r}") from None


def arkit_deltas(rig: Rig) -> np.ndarray:
    """(52, V, 3) displacement of each ARKit channel at weight 1: the rig's shapes combined
    through its mapping. Linear, so ``neutral + w @ arkit_deltas`` equals ``rig.evaluate(w)``."""
    return np.einsum("sk,svc->kvc", rig.mapping.astype(np.float32), rig.deltas,
                     optimize=True).astype(np.float32)


def vertex_normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals; vertices on no triangle get +Y so every normal is unit."""
    p = np.asarray(positions, np.float64)
    t = np.asarray(triangles, np.int64)
    face = np.cross(p[t[:, 1]] - p[t[:, 0]], p[t[:, 2]] - p[t[:, 0]])
    n = np.zeros_like(p)
    for k in range(3):
        np.add.at(n, t[:, k], face)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    out = np.where(length > 1e-20, n / np.maximum(length, 1e-30), [0.0, 1.0, 0.0])
    return out.astype(np.float32)


# (keywords in a material name, sRGB colour, alpha): first match wins, skin otherwise.
PALETTE = (
    (("lacrimal", "cornea"), (0.95, 0.95, 0.95), 0.1),
    (("occlusion", "blend"), (0.20, 0.12, 0.10), 0.25),
    (("lash", "brow", "hair"), (0.10, 0.07, 0.05), 1.0),
    (("teeth", "tooth"), (0.93, 0.91, 0.82), 1.0),
    (("pupil",), (0.03, 0.03, 0.03), 1.0),
    (("iris",), (0.25, 0.16, 0.10), 1.0),
    (("tongue",), (0.72, 0.36, 0.36), 1.0),
    (("gum", "mouth"), (0.45, 0.15, 0.16), 1.0),
    (("lip",), (0.74, 0.42, 0.40), 1.0),
    (("eye", "sclera"), (0.92, 0.92, 0.90), 1.0),
)
SKIN = (0.80, 0.60, 0.50)


def _linear(srgb: tuple[float, ...]) -> list[float]:
    # glTF colour factors are linear; the palette above is written as one sees it (sRGB)
    c = np.asarray(srgb, np.float64)
    return [round(float(v), 4) for v in np.where(c <= 0.04045, c / 12.92,
                                                 ((c + 0.055) / 1.055) ** 2.4)]


def material_look(name: str, srgb=None) -> tuple[list[float], float, float]:
    """(linear RGB, alpha, roughness) for a material called ``name``: the rig's own colour
    ``srgb`` (0-255) when it has one, else by keywords in the name (skin if none match)."""
    key = name.lower()
    colour, alpha = SKIN, 1.0
    for words, rgb, a in PALETTE:
        if any(w in key for w in words):
            colour, alpha = rgb, a
            break
    if srgb is not None:
        colour = tuple(float(c) / 255.0 for c in srgb)
    shiny = any(w in key for w in ("eye", "cornea", "lacrimal", "teeth", "iris", "pupil"))
    return _linear(colour), alpha, 0.25 if shiny else 0.6


def material_groups(rig: Rig) -> list[tuple[str, np.ndarray, tuple | None]]:
    """(material name, triangle indices, sRGB 0-255 colour or None) per ``triangle_material``
    group; one "skin" group when the rig has none. Names come from ``meta["material_names"]``
    (a list by id) or ``meta["materials"]`` ({name: id}); colours from
    ``meta["material_colors"]`` ({id: (r, g, b)})."""
    everything = np.arange(len(rig.triangles))
    if rig.triangle_material is None or len(rig.triangle_material) != len(rig.triangles):
        return [("skin", everything, None)]
    names = dict(enumerate(rig.meta.get("material_names") or []))
    if not names and isinstance(rig.meta.get("materials"), dict):
        names = {int(i): str(n) for n, i in rig.meta["materials"].items()}
    colours = {int(k): v for k, v in (rig.meta.get("material_colors") or {}).items()}
    ids = np.asarray(rig.triangle_material).astype(np.int64)
    out = []
    for g in np.unique(ids):
        label = names.get(int(g), "skin" if g == 0 else f"material{g}")
        out.append((str(label), np.flatnonzero(ids == g), colours.get(int(g))))
    return out
