"""What the renderer needs from a Rig, prepared once: visible triangles, colours per material,
vertices split where materials meet, eye pivots, and fast per-frame normals.

Materials follow the default rig's table (:data:`emoface.rig.default.MATERIALS`); rigs with
their own numbering (ICT FaceKit) are translated here, so the renderer sees one palette.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rig.model import Rig

SKIN, EYE_WHITE, IRIS, MOUTH, TEETH, TONGUE, LIPS, BROWS, PUPIL = range(9)
SOCKET = 9  # renderer-only: the moist skin between lids and eyeball (ICT's eye sockets)
HIDDEN = -1

# Linear-ish RGB albedo and specular strength per material.
PALETTE = {
    SKIN: ((0.80, 0.60, 0.50), 0.10),
    EYE_WHITE: ((0.90, 0.88, 0.85), 0.55),
    IRIS: ((0.36, 0.24, 0.14), 0.90),
    MOUTH: ((0.30, 0.06, 0.07), 0.05),
    TEETH: ((0.92, 0.90, 0.82), 0.35),
    TONGUE: ((0.72, 0.32, 0.33), 0.25),
    LIPS: ((0.74, 0.40, 0.38), 0.20),
    BROWS: ((0.30, 0.20, 0.14), 0.02),
    PUPIL: ((0.03, 0.03, 0.03), 0.90),
    SOCKET: ((0.70, 0.45, 0.42), 0.40),
}

# ICT FaceKit's vertex layout (its README): the head/neck material also holds the mouth
# socket and eye sockets, told apart only by vertex range.
_ICT_MOUTH_SOCKET = (11248, 13293)
_ICT_EYE_SOCKETS = (13294, 14061)


def vertex_normals(verts: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit normals of (V, 3) or (T, V, 3) vertices; vectorised with bincount."""
    single = verts.ndim == 2
    v = verts[None] if single else verts
    a, b, c = (v[:, triangles[:, k]] for k in range(3))
    fn = np.cross(b - a, c - a)  # (T, F, 3), length = 2 * area
    n_v = v.shape[1]
    out = np.empty_like(v)
    flat = triangles.T.ravel()  # corner-major so each face normal repeats 3 times
    for t in range(len(v)):
        rep = np.tile(fn[t], (3, 1))
        for k in range(3):
            out[t, :, k] = np.bincount(flat, weights=rep[:, k], minlength=n_v)
    out /= np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12)
    return out[0] if single else out


def _is_ict(rig: Rig) -> bool:
    """ICT FaceKit, however it was loaded: its vertex count and 12 geometry groups."""
    tm = rig.triangle_material
    return tm is not None and rig.num_vertices == 26719 and int(tm.max()) == 11


def _ict_materials(rig: Rig) -> np.ndarray:
    tm = rig.triangle_material.astype(np.int64)
    tri = rig.triangles
    out = np.full(len(tm), SKIN)
    lo_v, hi_v = tri.min(1), tri.max(1)

    def within(r):
        return (lo_v >= r[0]) & (hi_v <= r[1])

    out[(tm == 1) & within(_ICT_MOUTH_SOCKET)] = MOUTH
    out[(tm == 1) & within(_ICT_EYE_SOCKETS)] = SOCKET
    out[tm == 2] = TONGUE
    out[tm == 3] = TEETH
    out[np.isin(tm, (4, 6))] = EYE_WHITE  # eyeball; the iris is painted per vertex below
    # Cornea shells, tear film, eye blend, occlusion and lash cards are see-through in ICT's
    # own renders; drawn opaque they paint dark bands round the eyes, so they are left out.
    out[np.isin(tm, (5, 7, 8, 9, 10, 11))] = HIDDEN
    return out


# Material names (rig.meta["material_names"], e.g. from a glTF) to palette entries.
_NAME_KEYS = (
    (("cornea", "lacrimal", "tear", "occlusion", "blend", "shadow", "transparent"), HIDDEN),
    (("pupil",), PUPIL), (("iris",), IRIS),
    (("sclera", "eye_white", "eyewhite", "eyeball", "eye"), EYE_WHITE),
    (("teeth", "tooth"), TEETH), (("tongue",), TONGUE),
    (("mouth", "socket", "gum", "interior", "throat", "oral"), MOUTH),
    (("lip",), LIPS), (("brow", "lash", "hair", "beard"), BROWS),
)


def palette_index(name: str) -> int:
    low = name.lower()
    for keys, index in _NAME_KEYS:
        if any(k in low for k in keys):
            return index
    return SKIN


def rig_materials(rig: Rig) -> np.ndarray:
    """(F,) palette index per triangle, HIDDEN for transparent helper geometry."""
    if rig.triangle_material is None:
        return np.full(len(rig.triangles), SKIN)
    if _is_ict(rig):
        return _ict_materials(rig)
    tm = rig.triangle_material.astype(np.int64)
    names = rig.meta.get("material_names")
    if names and rig.name != "default":
        table = np.array([palette_index(str(n)) for n in names] + [SKIN])
        return table[np.clip(tm, 0, len(names))]
    # The default head's numbering is the palette's own (see emoface.rig.default).
    return np.where((tm >= 0) & (tm < len(PALETTE)), tm, SKIN)


def fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere through ``points``: (centre, radius)."""
    a = np.c_[2 * points, np.ones(len(points))]
    b = (points ** 2).sum(1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    centre = sol[:3]
    return centre, float(np.sqrt(sol[3] + centre @ centre))


def eye_groups(rig: Rig, materials: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(vertex indices, pivot)] for the left then right eyeball, or [] if the rig has none."""
    groups = []
    for side in ("left", "right"):
        idx = rig.regions.get(f"eye_{side}")
        if idx is None and _is_ict(rig):
            mats = (4, 5) if side == "left" else (6, 7)
            idx = np.unique(rig.triangles[np.isin(rig.triangle_material, mats)])
        if idx is None or len(idx) < 8:
            return []
        idx = np.asarray(idx, np.int64)
        pivots = rig.meta.get("eye_pivots")
        pivot = (np.asarray(pivots[0 if side == "left" else 1], np.float32) if pivots
                 else fit_sphere(rig.neutral[idx].astype(np.float64))[0].astype(np.float32))
        groups.append((idx, pivot))
    return groups


def _paint_ict_iris(rig: Rig, colors: np.ndarray, src: np.ndarray, mats: np.ndarray,
                    groups) -> None:
    """ICT ships its iris as a texture; paint a disc where the eyeball faces forward."""
    for idx, pivot in groups:
        d = rig.neutral - pivot
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
        ring = d[:, 2]  # cos of the angle from +Z, the gaze at rest
        member = np.zeros(rig.num_vertices, bool)
        member[idx] = True
        sel = member[src] & (mats == EYE_WHITE)
        c = ring[src[sel]]
        iris = np.clip((c - 0.86) / 0.02, 0, 1)[:, None]
        pupil = np.clip((c - 0.955) / 0.01, 0, 1)[:, None]
        base = colors[sel, :3]
        col = base * (1 - iris) + np.array(PALETTE[IRIS][0]) * iris
        col = col * (1 - pupil) + np.array(PALETTE[PUPIL][0]) * pupil
        colors[sel, :3] = col
        colors[sel, 3] = colors[sel, 3] * (1 - iris[:, 0]) + PALETTE[IRIS][1] * iris[:, 0]


def normal_operator(triangles: np.ndarray, n_vertices: int):
    """Sparse (V, F) incidence: ``op @ face_normals`` sums each vertex's face normals."""
    from scipy.sparse import csr_matrix

    f = len(triangles)
    rows = triangles.ravel()
    cols = np.repeat(np.arange(f), 3)
    return csr_matrix((np.ones(3 * f, np.float32), (rows, cols)), shape=(n_vertices, f))


def fast_normals(pos: np.ndarray, triangles: np.ndarray, op) -> np.ndarray:
    a, b, c = pos[triangles[:, 0]], pos[triangles[:, 1]], pos[triangles[:, 2]]
    n = op @ np.cross(b - a, c - a)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    return n


@dataclass
class RenderMesh:
    """A rig flattened for drawing: vertices duplicated per material so colours stay crisp
    at material borders, while normals are still averaged over the original mesh."""

    triangles: np.ndarray    # (F', 3) int32 into the split vertices
    source: np.ndarray       # (V',) index of each split vertex in the rig
    colors: np.ndarray       # (V', 4) float32: rgb albedo, specular strength
    used: np.ndarray         # rig vertex indices that visible triangles touch
    normal_tris: np.ndarray  # rig triangles (re-indexed into `used`) for normals
    eyes: list               # [(indices into `used`, pivot)] left, right
    normal_op: object = None  # sparse (len(used), F) incidence for per-frame normals

    @classmethod
    def from_rig(cls, rig: Rig) -> RenderMesh:
        mats = rig_materials(rig)
        keep = mats != HIDDEN
        tris, mats = rig.triangles[keep].astype(np.int64), mats[keep]
        used = np.unique(tris)
        remap = np.full(rig.num_vertices, -1, np.int64)
        remap[used] = np.arange(len(used))
        # One split vertex per (vertex, material) pair.
        keys = tris * 16 + mats[:, None]
        uniq, inverse = np.unique(keys.ravel(), return_inverse=True)
        source = uniq // 16
        vert_mat = uniq % 16
        colors = np.array([(*PALETTE[m][0], PALETTE[m][1]) for m in vert_mat], np.float32)
        groups = eye_groups(rig, mats)
        if _is_ict(rig):
            _paint_ict_iris(rig, colors, source, vert_mat, groups)
        eyes = [(remap[idx][remap[idx] >= 0], pivot) for idx, pivot in groups]
        normal_tris = remap[tris].astype(np.int64)
        return cls(triangles=inverse.reshape(-1, 3).astype(np.int32),
                   source=remap[source].astype(np.int64), colors=colors, used=used,
                   normal_tris=normal_tris, eyes=eyes,
                   normal_op=normal_operator(normal_tris, len(used)))
