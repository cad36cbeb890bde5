"""Generator of emoface's default head: a stylised, readable face built by our own code.

Run ``python tools/default_head.py`` to rebuild ``emoface/assets/default_head.npz``
(deterministic: same code, same file). :func:`emoface.rig.default.load_default_rig` reads it.

How the skin is made. The shape is a signed distance field (SDF): ellipsoids, capsules
and spheres for cranium, jaw, chin, cheeks, brow ridge, nose, lips, ears and neck, joined
with smooth unions, eye sockets carved and lid shells wrapped around the eyeballs. The
*topology* does not come from the SDF: a mesher would fuse the lips and lids, but the face
needs a mouth slit whose two edges can part and meet again, and eye openings whose lid
margins slide over the eyeballs. So the skin is laid out in a 2D parameter plane (a
stereographic view of directions from a point inside the head): rings of points that hug
each eye opening and the mouth slit, a lattice elsewhere (fine on the face, coarse at the
back), Delaunay triangles between them; each point is then cast along its direction onto
the SDF's outermost surface and relaxed along it. Eyeballs, lid margins, the mouth bag,
teeth and tongue are separate explicit meshes.

Conventions: centimetres, +Y up, +Z forward (the face looks at +Z), and the character's
left is +X. Blendshapes are authored in ``tools/default_shapes.py``. Not part of the
runtime package: the runtime only reads the asset.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial import Delaunay

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# --------------------------------------------------------------------------- anatomy (cm)
EYE_RADIUS = 1.3
LID_RADIUS = EYE_RADIUS + 0.1          # lid skin shell around the eyeball
TUCK_RADIUS = EYE_RADIUS + 0.05        # inner edge of the lid margin, nearly on the eye
EYE_CENTRE = np.array([3.15, 3.1, 7.15])   # left eye (+X); the right one is mirrored
MOUTH_Y = -4.0                          # mouth line at the centre
MOUTH_HALF_WIDTH = 2.35
NECK_CUT_Y = -15.0
PROJ_CENTRE = np.array([0.0, 0.5, 1.0])  # rays to the skin start here
# Eye opening, eye-local angles (radians): phi toward the outer corner, e up.
PHI_INNER, PHI_OUTER = -0.80, 0.86
E_INNER, E_OUTER = -0.03, 0.05
LID_UP, LID_DOWN = 0.47, 0.34

MATERIALS = {"skin": 0, "eye_white": 1, "iris": 2, "mouth": 3, "teeth": 4, "tongue": 5,
             "lips": 6, "brows": 7, "pupil": 8}
IRIS_ANGLE, PUPIL_ANGLE = np.radians(36), np.radians(15)


# --------------------------------------------------------------------------- SDF primitives
def _ellipsoid(p, c, r):
    q = (p - c) / r
    k0 = np.linalg.norm(q, axis=-1)
    k1 = np.linalg.norm(q / r, axis=-1)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)


def _sphere(p, c, r):
    return np.linalg.norm(p - c, axis=-1) - r


def _capsule(p, a, b, ra, rb):
    a, b = np.asarray(a, float), np.asarray(b, float)
    ab = b - a
    t = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[..., None] * ab), axis=-1) - (ra + (rb - ra) * t)


def _smin(a, b, k):
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1 - h) + a * h - k * h * (1 - h)


def _smax(a, b, k):
    return -_smin(-a, -b, k)


def _mirror(p):
    """Paired features are modelled on the +X side and evaluated at |x|."""
    q = p.copy()
    q[..., 0] = np.abs(q[..., 0])
    return q


MUZZLE = ((0.0, -3.4, 7.7), (3.0, 2.4, 2.4))


def mouth_line(x):
    """(y, z) of the lip parting line at lateral position x (cm): it follows the muzzle's
    curve, standing proud of it in the middle and sinking into it at the corners."""
    x = np.asarray(x, float)
    u = np.clip(np.abs(x) / MOUTH_HALF_WIDTH, 0, 1)
    y = MOUTH_Y + 0.10 * u ** 2
    (_, cy, cz), (rx, ry, rz) = MUZZLE
    front = cz + rz * np.sqrt(np.clip(1 - ((y - cy) / ry) ** 2 - (x / rx) ** 2, 0, None))
    return y, front + 0.2 * (1 - u ** 2) - 0.05


def _lip(p, upper: bool):
    """One lip: a tube swept along the mouth line, full in the middle, thin at the corners."""
    xs = np.linspace(-MOUTH_HALF_WIDTH + 0.05, MOUTH_HALF_WIDTH - 0.05, 13)
    y, z = mouth_line(xs)
    taper = np.clip(1 - (xs / MOUTH_HALF_WIDTH) ** 2, 0, 1) ** 0.5
    if upper:
        centre = np.stack([xs, y + 0.27 * taper, z - 0.22], 1)
        radius = 0.08 + 0.27 * taper
    else:
        centre = np.stack([xs, y - 0.34 * taper, z - 0.24], 1)
        radius = 0.08 + 0.32 * taper
    d = np.full(p.shape[:-1], np.inf)
    for i in range(len(xs) - 1):
        d = np.minimum(d, _capsule(p, centre[i], centre[i + 1], radius[i], radius[i + 1]))
    return d


def head_sdf(p: np.ndarray) -> np.ndarray:
    """Signed distance (approximately) to the skin; negative inside. p: (..., 3)."""
    m = _mirror(p)
    d = _ellipsoid(p, (0, 3.3, -0.9), (7.2, 8.6, 9.3))                       # cranium
    d = _smin(d, _ellipsoid(p, (0, 5.2, 2.4), (6.4, 5.4, 6.5)), 1.5)          # forehead
    d = _smin(d, _ellipsoid(p, (0, 1.6, 6.2), (6.2, 6.6, 2.7)), 3.0)          # face plate
    d = _smin(d, _ellipsoid(p, (0, -0.8, 2.4), (6.2, 7.4, 6.5)), 1.6)         # mid face
    d = _smin(d, _ellipsoid(p, (0, -4.3, 2.4), (5.9, 4.5, 6.5)), 1.8)         # jaw
    d = _smin(d, _ellipsoid(p, (0, -6.9, 7.4), (2.7, 1.9, 1.8)), 1.6)         # chin
    d = _smin(d, _ellipsoid(m, (4.3, 1.1, 6.0), (2.3, 1.4, 2.5)), 2.0)        # cheekbones
    d = _smin(d, _ellipsoid(m, (3.4, -1.6, 6.6), (2.6, 2.6, 2.3)), 1.8)       # cheeks
    d = _smin(d, _ellipsoid(p, *MUZZLE), 1.2)                                  # muzzle
    d = _smin(d, _capsule(m, (0.7, 5.45, 8.45), (4.5, 5.55, 7.35), 0.7, 0.55), 1.2)  # brow
    # Eye sockets: carve a hollow, then wrap the lid shell round the eyeball.
    d = _smax(d, -_ellipsoid(m, EYE_CENTRE + (0.0, 0.1, 1.2), (2.1, 1.45, 1.1)), 1.0)
    d = _smin(d, _sphere(m, EYE_CENTRE, LID_RADIUS), 0.55)
    # Nose: root, bridge, tip, wings.
    nose = _ellipsoid(p, (0, 0.2, 8.9), (0.95, 2.6, 1.1))
    nose = _smin(nose, _capsule(p, (0, 3.3, 8.85), (0, -0.5, 10.95), 0.45, 0.72), 0.6)
    nose = _smin(nose, _sphere(p, (0, -0.95, 10.95), 0.85), 0.5)
    nose = _smin(nose, _ellipsoid(m, (1.15, -1.45, 9.85), (0.75, 0.62, 0.8)), 0.45)
    d = _smin(d, nose, 0.9)
    # Lips: two rolls meeting on the mouth line.
    d = _smin(d, _lip(p, True), 0.4)
    d = _smin(d, _lip(p, False), 0.4)
    d = _smin(d, _ellipsoid(m, (7.0, 1.0, -0.7), (1.05, 2.7, 1.6)), 0.6)      # ears
    d = _smin(d, _capsule(p, (0, -22, -0.9), (0, -5, -0.6), 5.4, 5.4), 1.8)   # neck
    return _smax(d, NECK_CUT_Y - p[..., 1], 0.4)


def sdf_gradient(p: np.ndarray, h: float = 1e-3) -> np.ndarray:
    g = np.empty_like(p)
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        g[:, k] = (head_sdf(p + e) - head_sdf(p - e)) / (2 * h)
    return g


def project_to_surface(p: np.ndarray, steps: int = 4) -> np.ndarray:
    for _ in range(steps):
        g = sdf_gradient(p)
        p = p - (head_sdf(p) / np.maximum((g * g).sum(1), 1e-9))[:, None] * g
    return p


# --------------------------------------------------------------------------- parameter plane
def directions_to_q(d: np.ndarray) -> np.ndarray:
    """Stereographic projection of unit directions from the back pole (-Z): conformal, so
    a regular lattice in q stays regular on the head; q ~ (x, y) angles near the front."""
    return 2.0 * d[:, :2] / (1.0 + d[:, 2:3])


def q_to_directions(q: np.ndarray) -> np.ndarray:
    s = (q * q).sum(1, keepdims=True) / 4.0
    return np.concatenate([q / (1 + s), (1 - s) / (1 + s)], 1)


def points_to_q(p: np.ndarray) -> np.ndarray:
    d = p - PROJ_CENTRE
    return directions_to_q(d / np.linalg.norm(d, axis=1, keepdims=True))


def _outermost_along(origin, direction, t_max: float = 21.0, step: float = 0.02):
    """The last skin crossing along one ray (the back pole, which q cannot reach)."""
    ts = np.arange(step, t_max, step)
    inside = head_sdf(origin + direction * ts[:, None]) < 0
    t = ts[len(ts) - 1 - np.argmax(inside[::-1])]
    return origin + direction * (t + step / 2)


def raycast(q: np.ndarray, t_max: float = 21.0, step: float = 0.08) -> np.ndarray:
    """The outermost skin point along each parameter point's ray."""
    out = np.empty((len(q), 3))
    ts = np.arange(step, t_max, step)
    for s in range(0, len(q), 512):
        d = q_to_directions(q[s:s + 512])
        pts = PROJ_CENTRE + d[:, None, :] * ts[None, :, None]
        inside = head_sdf(pts) < 0
        last = len(ts) - 1 - np.argmax(inside[:, ::-1], axis=1)  # last inside sample
        lo, hi = ts[last], ts[last] + step
        for _ in range(20):
            mid = (lo + hi) / 2
            f = head_sdf(PROJ_CENTRE + d * mid[:, None])
            lo, hi = np.where(f < 0, mid, lo), np.where(f < 0, hi, mid)
        out[s:s + 512] = PROJ_CENTRE + d * ((lo + hi) / 2)[:, None]
    return out


def _point_in_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    x, y = pts[:, 0:1], pts[:, 1:2]
    x0, y0 = poly[:, 0][None], poly[:, 1][None]
    x1, y1 = np.roll(poly[:, 0], -1)[None], np.roll(poly[:, 1], -1)[None]
    crosses = ((y0 > y) != (y1 > y)) & (x < x0 + (y - y0) * (x1 - x0) / (y1 - y0 + 1e-300))
    return crosses.sum(1) % 2 == 1


# --------------------------------------------------------------------------- the eye zones
def eye_dir(phi, e):
    """Left-eye-local angles -> unit direction (phi toward +X, e up)."""
    return np.stack([np.sin(phi) * np.cos(e), np.sin(e), np.cos(phi) * np.cos(e)], -1)


def eye_opening_angles(t):
    """Lid margin at loop parameter t (0 outer corner, pi/2 top, pi inner corner)."""
    c, s = np.cos(t), np.sin(t)
    phi = 0.5 * (PHI_OUTER + PHI_INNER) + 0.5 * (PHI_OUTER - PHI_INNER) * c
    corner = E_INNER + (E_OUTER - E_INNER) * (1 + c) / 2
    up = LID_UP * np.clip(s, 0, None) ** 0.85 * (1 - 0.16 * c)
    down = LID_DOWN * np.clip(-s, 0, None) ** 0.9 * (1 + 0.12 * c)
    return phi, corner + up - down


@dataclass
class Zone:
    """Rings of parameter points around a feature: ``q`` (K+1, N, 2), ring 0 innermost."""
    q: np.ndarray
    name: str
    fractions: np.ndarray       # (K+1,) how far each ring is from the feature to the edge
    ids: np.ndarray = field(default=None)  # (K+1, N) vertex ids once placed


def _geometric(k_rings, first):
    """Ring fractions 0..1 whose steps grow geometrically, the first step ~ ``first``."""
    lo, hi = 1.0, 2.0
    for _ in range(60):
        g = (lo + hi) / 2
        if (g - 1) / (g ** k_rings - 1) > first:
            lo = g
        else:
            hi = g
    return (g ** np.arange(k_rings + 1) - 1) / (g ** k_rings - 1)


def _cm_to_q(point):
    """Parameter-plane units per centimetre on the skin near ``point`` (conformal map)."""
    d = point - PROJ_CENTRE
    r = np.linalg.norm(d)
    cos_half_sq = (1 + d[2] / r) / 2
    return 1.0 / (r * cos_half_sq)


def _eye_opening_centre_q():
    e_mid = 0.5 * (eye_opening_angles(np.array([np.pi / 2]))[1]
                   + eye_opening_angles(np.array([3 * np.pi / 2]))[1])
    return points_to_q(EYE_CENTRE[None] + LID_RADIUS * eye_dir(
        np.array([0.5 * (PHI_OUTER + PHI_INNER)]), e_mid))[0]


def eye_margin(n: int = 48):
    """Lid margin of the left eye as n points: (phi, e, polar angle about the opening's
    centre in q). Each half (upper lid, lower lid) is spread evenly in that polar angle,
    index 0 on the outer corner and n/2 on the inner one, so rings built on the same
    angles do not shear."""
    td = np.linspace(0, 2 * np.pi, 2881)[:-1]
    pd, ed = eye_opening_angles(td)
    rel = points_to_q(EYE_CENTRE + LID_RADIUS * eye_dir(pd, ed)) - _eye_opening_centre_q()
    th_d = np.unwrap(np.arctan2(rel[:, 1], rel[:, 0]))
    th_out, th_in = th_d[0], th_d[len(td) // 2]
    half = n // 2
    theta = np.concatenate([np.linspace(th_out, th_in, half, endpoint=False),
                            np.linspace(th_in, th_out + 2 * np.pi, half, endpoint=False)])
    t = np.interp(theta, np.r_[th_d, th_out + 2 * np.pi], np.r_[td, 2 * np.pi])
    phi, e = eye_opening_angles(t)
    return phi, e, theta


def eye_zone(n: int = 48, k_rings: int = 11) -> Zone:
    """Rings round the left eye opening, from the lid margin out past the brow."""
    phi, e, theta = eye_margin(n)
    centre = _eye_opening_centre_q()
    ring0 = points_to_q(EYE_CENTRE + LID_RADIUS * eye_dir(phi, e))
    scale = _cm_to_q(EYE_CENTRE + (0, 0, LID_RADIUS))
    a_out, a_in, b_up, b_lo = (v * scale for v in (2.6, 2.15, 3.1, 1.95))
    c, sn = np.cos(theta), np.sin(theta)
    a = np.where(c > 0, a_out, a_in)
    b = np.where(sn > 0, b_up, b_lo)
    rho_out = 1.0 / np.sqrt((c / a) ** 2 + (sn / b) ** 2)
    rho0 = np.linalg.norm(ring0 - centre, axis=1)
    fractions = _geometric(k_rings, 0.022)
    rings = [centre + np.stack([c, sn], 1) * ((1 - s) * rho0 + s * rho_out)[:, None]
             for s in fractions]
    rings[0] = ring0
    return Zone(q=np.stack(rings), name="eye_left", fractions=fractions)


def mirror_zone(z: Zone, name: str) -> Zone:
    """The right eye: mirror u and reverse the loop so rings stay counter-clockwise."""
    q = z.q[:, ::-1].copy()
    q[..., 0] *= -1
    q = np.roll(q, 1, axis=1)  # keep index 0 on the outer corner
    return Zone(q=q, name=name, fractions=z.fractions)


def mouth_zone(n: int = 56, k_rings: int = 11, eps: float = 2e-4) -> Zone:
    """Rings around the mouth slit. Ring 0 is the slit itself: indices 1..n/2-1 the upper
    lip's edge, n/2+1..n-1 the lower lip's, 0 and n/2 the corners (left, right)."""
    t = 2 * np.pi * np.arange(n) / n
    x = MOUTH_HALF_WIDTH * np.cos(t)
    y, z = mouth_line(x)
    slit = points_to_q(np.stack([x, y, z], 1))
    slit[:, 1] += eps * np.sign(np.round(np.sin(t), 12))
    front = np.array([0.0, MOUTH_Y, float(mouth_line(0.0)[1])])
    centre = points_to_q(front[None])[0]
    scale = _cm_to_q(front)
    a, b_up, b_lo = 4.05 * scale, 1.55 * scale, 2.9 * scale
    outer = np.stack([centre[0] + a * np.cos(t),
                      centre[1] + np.where(np.sin(t) > 0, b_up, b_lo) * np.sin(t)], 1)
    fractions = _geometric(k_rings, 0.03)
    # Near the corners the inner rings hug the slit, so the lips (the first rings) taper
    # to nothing at the corners instead of ending in a blunt band.
    power = 1 + 1.6 * (1 - np.abs(np.sin(t)))
    rings = [(1 - s ** power)[:, None] * slit + (s ** power)[:, None] * outer
             for s in fractions]
    return Zone(q=np.stack(rings), name="mouth", fractions=fractions)


# --------------------------------------------------------------------------- the lattice
def target_edge_cm(q: np.ndarray) -> np.ndarray:
    """Wanted skin edge length at parameter points: fine on the face, coarse behind."""
    d = q_to_directions(q)
    front = np.clip((d[:, 2] - 0.05) / 0.6, 0, 1)      # 1 on the face, 0 at the sides
    below = np.clip((-d[:, 1] - 0.55) / 0.3, 0, 1)      # neck
    h = 1.15 - 0.72 * front ** 0.7
    return np.maximum(h, 0.6 + 0.5 * below)


def lattice(zones: list[Zone], finest: float = 0.043, alpha_max: float = np.radians(163)):
    q_max = 2 * np.tan(alpha_max / 2)
    n = int(np.ceil(q_max / finest / 64)) * 64
    i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-2 * n, 2 * n + 1), indexing="ij")
    i, j = i.ravel(), j.ravel()
    q = np.stack([(i + 0.5 * j) * finest, j * finest * np.sqrt(3) / 2], 1)
    keep = (q * q).sum(1) <= q_max ** 2
    q, i, j = q[keep], i[keep], j[keep]
    # Level of a lattice point: how many times both indices halve evenly.
    level = np.zeros(len(q), int)
    for k in range(1, 8):
        level[(i % 2 ** k == 0) & (j % 2 ** k == 0)] = k
    cos_half_sq = 1.0 / (1.0 + (q * q).sum(1) / 4.0)
    spacing_q = target_edge_cm(q) / (9.5 * cos_half_sq)
    need = np.floor(np.log2(np.maximum(spacing_q / finest, 1.0))).astype(int)
    q = q[level >= need]
    h_q = finest * 2.0 ** np.floor(np.log2(np.maximum(
        target_edge_cm(q) / (9.5 / (1 + (q * q).sum(1) / 4)) / finest, 1.0)))
    # Clear the zones, with a margin so no sliver forms against their outer ring.
    drop = np.zeros(len(q), bool)
    for z in zones:
        outer = z.q[-1]
        inside = _point_in_polygon(q, outer)
        dist = np.min(np.linalg.norm(q[:, None, :] - outer[None], axis=2), axis=1)
        drop |= inside | (dist < 0.6 * h_q)
    return q[~drop], q_max


# --------------------------------------------------------------------------- mesh assembly
@dataclass
class Builder:
    """Accumulates vertices (each tagged with its PART) and triangles (with materials)."""
    verts: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    tris: list = field(default_factory=list)
    mats: list = field(default_factory=list)
    count: int = 0

    def add_verts(self, p, part: str) -> np.ndarray:
        p = np.asarray(p, float).reshape(-1, 3)
        ids = np.arange(self.count, self.count + len(p))
        self.verts.append(p)
        self.parts.append(np.full(len(p), PARTS[part]))
        self.count += len(p)
        return ids

    def add_tris(self, t, material) -> None:
        t = np.asarray(t, np.int64).reshape(-1, 3)
        self.tris.append(t)
        self.mats.append(np.broadcast_to(np.asarray(material, np.int64), (len(t),)))

    def strip(self, a: np.ndarray, b: np.ndarray, material) -> None:
        """Triangles between two equally long closed vertex loops a (inner) and b (outer)."""
        k = np.arange(len(a))
        k1 = (k + 1) % len(a)
        self.add_tris(np.concatenate([np.stack([a[k], b[k], b[k1]], 1),
                                      np.stack([a[k], b[k1], a[k1]], 1)]), material)

    def arrays(self):
        return (np.concatenate(self.verts), np.concatenate(self.tris),
                np.concatenate(self.mats), np.concatenate(self.parts))


def uv_sphere(centre, radius, n_lat, n_lon):
    """Sphere with its poles on the Z axis (the gaze axis for an eyeball)."""
    lat = np.linspace(0, np.pi, n_lat + 1)[1:-1]          # from the front pole back
    lon = 2 * np.pi * np.arange(n_lon) / n_lon
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    ring = np.stack([np.sin(la) * np.cos(lo), np.sin(la) * np.sin(lo), np.cos(la)], -1)
    pts = np.concatenate([[[0, 0, 1]], ring.reshape(-1, 3), [[0, 0, -1]]]) * radius + centre
    tris = []
    first, last = 0, len(pts) - 1
    for k in range(n_lon):
        k1 = (k + 1) % n_lon
        tris.append((first, 1 + k, 1 + k1))
        for r in range(n_lat - 2):
            a, b = 1 + r * n_lon, 1 + (r + 1) * n_lon
            tris += [(a + k, b + k, b + k1), (a + k, b + k1, a + k1)]
        a = 1 + (n_lat - 2) * n_lon
        tris.append((a + k, last, a + k1))
    return pts, np.array(tris), np.concatenate([[0.0], la.ravel(), [np.pi]])


def _edges_of(tris):
    e = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]])
    return e


def _laplacian_neighbours(tris, n):
    from scipy.sparse import coo_matrix

    e = _edges_of(tris)
    e = np.concatenate([e, e[:, ::-1]])
    a = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    a.data[:] = 1.0
    deg = np.asarray(a.sum(1)).ravel()
    return a, deg


@dataclass
class Skin:
    """Skin vertices and the bookkeeping the shape author needs."""
    points: np.ndarray          # (V, 3)
    q: np.ndarray               # (V, 2) parameter-plane position
    tris: np.ndarray
    mats: np.ndarray
    zones: dict                 # name -> Zone (rings of vertex ids and their fractions)
    tri_info: np.ndarray        # (F, 3) zone (0 eye_left, 1 eye_right, 2 mouth, -1), ring, column


def build_skin() -> Skin:
    eye_l = eye_zone()
    eye_r = mirror_zone(eye_l, "eye_right")
    mouth = mouth_zone()
    zones = [eye_l, eye_r, mouth]
    lat_q, _ = lattice(zones)

    # Vertex ids: lattice, then each zone's rings, then the back pole.
    q_all = [lat_q]
    start = len(lat_q)
    for z in zones:
        k1, n = z.q.shape[:2]
        z.ids = start + np.arange(k1 * n).reshape(k1, n)
        q_all.append(z.q.reshape(-1, 2))
        start += k1 * n
    q_all = np.concatenate(q_all)
    pole = len(q_all)

    # Delaunay over the lattice and each zone's two outer rings; drop what lies inside.
    pick = np.concatenate([np.arange(len(lat_q))] + [z.ids[-2:].ravel() for z in zones])
    tri = pick[Delaunay(q_all[pick]).simplices]
    inner = np.zeros(len(q_all), bool)
    for z in zones:
        inner[z.ids[:-1].ravel()] = True
    cent = q_all[tri].mean(1)
    inside = np.zeros(len(tri), bool)
    for z in zones:
        inside |= _point_in_polygon(cent, z.q[-1])
    tri = tri[~inner[tri].any(1) & ~inside]
    # Counter-clockwise in q means outward in 3D.
    a, b, c = (q_all[tri[:, k]] for k in range(3))
    area = (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]
    tri[area < 0] = tri[area < 0][:, ::-1]
    tris = [tri]
    mats = [np.zeros(len(tri), np.int64)]
    info = [np.full((len(tri), 3), -1)]   # (zone, ring, column) of each triangle

    # Close the back with a fan round the lattice's outer boundary.
    e = _edges_of(tri)
    key = np.sort(e, 1)
    uniq, counts = np.unique(key, axis=0, return_counts=True)
    border = {tuple(x) for x in uniq[counts == 1]}
    zone_edges = set()
    for z in zones:
        ring = z.ids[-1]
        for i in range(len(ring)):
            zone_edges.add(tuple(sorted((ring[i], ring[(i + 1) % len(ring)]))))
    missing = zone_edges - border
    extra = border - zone_edges
    if missing:
        raise RuntimeError(f"lattice does not meet the zone rings on {len(missing)} edges")
    hull = [ed for ed in e if tuple(sorted(ed)) in extra]  # directed, outer boundary
    fan = np.array([(v1, u1, pole) for u1, v1 in hull])
    tris.append(fan)
    mats.append(np.zeros(len(fan), np.int64))
    info.append(np.full((len(fan), 3), -1))

    # The zones: quad strips ring by ring.
    for zi, z in enumerate(zones):
        for k in range(len(z.ids) - 1):
            a_, b_ = z.ids[k], z.ids[k + 1]
            n = len(a_)
            kk = np.arange(n)
            k1 = (kk + 1) % n
            t = np.concatenate([np.stack([a_[kk], b_[kk], b_[k1]], 1),
                                np.stack([a_[kk], b_[k1], a_[k1]], 1)])
            tris.append(t)
            mats.append(np.zeros(len(t), np.int64))
            info.append(np.stack([np.full(2 * n, zi), np.full(2 * n, k),
                                  np.concatenate([kk, kk])], 1))
    tris = np.concatenate(tris)
    mats = np.concatenate(mats)
    info = np.concatenate(info)

    q_all = np.concatenate([q_all, [[1e3, 0.0]]])  # the pole sits at infinity
    points = np.empty((len(q_all), 3))
    points[:-1] = raycast(q_all[:-1])
    points[-1] = _outermost_along(PROJ_CENTRE, np.array([0.0, 0.0, -1.0]))

    # Exact lid margins on the shell; slit edges welded shut.
    for z, sx in ((eye_l, 1.0), (eye_r, -1.0)):
        phi, el, _ = eye_margin(z.ids.shape[1])
        if sx < 0:
            phi, el = np.roll(phi[::-1], 1), np.roll(el[::-1], 1)
        d = eye_dir(phi, el) * (sx, 1, 1)
        points[z.ids[0]] = EYE_CENTRE * (sx, 1, 1) + LID_RADIUS * d
    slit = mouth.ids[0]
    n = len(slit)
    up = slit[1:n // 2]
    lo = slit[n - 1:n // 2:-1]
    mid = (points[up] + points[lo]) / 2
    points[up] = points[lo] = mid

    # Rays graze the lid crease and the nose underside; sliding vertices along the
    # surface evens them out. The lid edges (inner rings), the mouth zone and each zone's
    # outer ring (shared with the lattice) stay where they were placed.
    fixed = np.zeros(len(points), bool)
    for z in zones:
        fixed[z.ids[:3].ravel()] = True
        fixed[z.ids[-1]] = True
    fixed[mouth.ids.ravel()] = True   # its rings draw the lips' outline
    fixed[pole] = True
    points = relax(points, tris, fixed)
    return Skin(points=points, q=q_all, tris=tris, mats=mats, zones={z.name: z for z in zones},
                tri_info=info)


def relax(points, tris, fixed, iterations=12, rate=0.5):
    """Even out edge lengths by sliding free vertices along the surface."""
    adj, deg = _laplacian_neighbours(tris, len(points))
    free = ~fixed
    p = points.copy()
    for _ in range(iterations):
        lap = adj @ p / np.maximum(deg, 1)[:, None] - p
        g = sdf_gradient(p[free])
        nrm = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-9)
        l_free = lap[free]
        l_free -= (l_free * nrm).sum(1, keepdims=True) * nrm
        p[free] = project_to_surface(p[free] + rate * l_free, steps=2)
    return p


# --------------------------------------------------------------------------- inner parts
@dataclass
class Head:
    """The assembled neutral head with the labels the shape author and regions need."""
    points: np.ndarray
    tris: np.ndarray
    mats: np.ndarray
    part: np.ndarray            # (V,) PART code per vertex
    skin: Skin
    groups: dict                # name -> vertex ids (eyeballs, tucks, bag rings, teeth...)


PARTS = {"skin": 0, "lid_tuck": 1, "mouth_bag": 2, "teeth_upper": 3, "teeth_lower": 4,
         "tongue": 5, "eye": 6, "brow": 7}


def _tuck_ring(sx, n=48):
    """Inner edge of the lid margin: just inside the opening, just off the eyeball."""
    phi, e, _ = eye_margin(n)
    phi_c = 0.5 * (PHI_OUTER + PHI_INNER)
    e_c = 0.5 * (eye_opening_angles(np.array([np.pi / 2]))[1]
                 + eye_opening_angles(np.array([3 * np.pi / 2]))[1])
    dphi, de = phi_c - phi, e_c - e
    norm = np.maximum(np.hypot(dphi, de), 1e-9)
    step = np.minimum(0.07, 0.5 * norm)
    phi, e = phi + dphi / norm * step, e + de / norm * step
    if sx < 0:
        phi, e = np.roll(phi[::-1], 1), np.roll(e[::-1], 1)
    return EYE_CENTRE * (sx, 1, 1) + TUCK_RADIUS * eye_dir(phi, e) * (sx, 1, 1)


def _mouth_rings(slit_pts):
    """Loops from the lip edge into the mouth: inner lip, then the cavity to the throat."""
    n = len(slit_pts)
    t = 2 * np.pi * np.arange(n) / n
    s = np.sin(t)
    s[[0, n // 2]] = 0.0
    up, lo = np.clip(s, 0, None), np.clip(-s, 0, None)
    y0 = MOUTH_Y
    rings = []
    #  (rise of the upper half, drop of the lower half, depth, lateral scale, shape power)
    for rise, drop, depth, lat, pw in ((0.20, 0.24, 0.40, 0.99, 0.5),
                                       (0.55, 0.70, 0.95, 1.0, 0.6),
                                       (1.00, 1.45, 2.00, 1.04, 0.7),
                                       (1.15, 1.80, 3.70, 0.88, 0.8),
                                       (0.95, 1.50, 5.30, 0.55, 0.9)):
        p = slit_pts.copy()
        p[:, 0] *= lat
        p[:, 1] = p[:, 1] + rise * up ** pw - drop * lo ** pw
        p[:, 2] -= depth
        rings.append(p)
    rings.append(np.array([[0.0, y0 - 0.25, slit_pts[:, 2].max() - 6.3]]))
    return rings


def _teeth(upper: bool):
    """An arch of teeth as one swept, slightly grooved band."""
    n = 44
    u = np.linspace(-1, 1, n)
    half = 2.2
    x = half * np.sin(u * 1.25) / np.sin(1.25)
    z_front = 9.62 if upper else 9.48
    z = z_front - 0.52 * x ** 2
    # Outward normal of the arch in xz.
    dx, dz = np.gradient(x), np.gradient(z)
    nrm = np.stack([dz, -dx], 1)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    nrm *= -1 if nrm[n // 2, 1] < 0 else 1
    # Groove between teeth: incisors ~0.8 cm wide, narrower behind.
    groove = 0.5 + 0.5 * np.cos(2 * np.pi * np.cumsum(np.r_[0, np.hypot(np.diff(x), np.diff(z))])
                                / 0.78)
    # The upper edge sits a little below the lip line so it shows when the lips part;
    # the lower arch stays behind it (overbite) without touching.
    if upper:
        y_edge, y_root = MOUTH_Y - 0.25, MOUTH_Y + 0.9
    else:
        y_edge, y_root = MOUTH_Y - 0.33, MOUTH_Y - 1.3
    thick = 0.42
    prof = [(0.0, 1.0), (0.0, 0.15), (-0.12, 0.0), (-thick + 0.12, 0.0), (-thick, 0.15),
            (-thick, 1.0)]  # (inward offset, fraction from edge to root)
    rows = []
    for off, frac in prof:
        o = off - 0.05 * groove * (off == 0.0)
        y = y_edge + (y_root - y_edge) * frac
        rows.append(np.stack([x + nrm[:, 0] * o, np.full(n, y), z + nrm[:, 1] * o], 1))
    pts = np.concatenate(rows)
    tris = []
    for r in range(len(prof) - 1):
        a, b = r * n, (r + 1) * n
        for i in range(n - 1):
            tris += [(a + i, a + i + 1, b + i + 1), (a + i, b + i + 1, b + i)]
    tris = np.array(tris)
    if upper:  # the profile runs the other way round for the upper arch
        tris = tris[:, ::-1]
    return pts, tris


def brow_curve(x):
    """Eyebrow above the left eye at outward offset x (cm): centre height and half width
    above the eye centre; thick at the inner end, tapering outward."""
    centre = 2.05 + 0.36 * (1 - ((x - 0.35) / 2.3) ** 2)
    half = 0.30 - 0.19 * np.clip((x + 1.7) / 4.1, 0, 1) ** 1.2
    return centre, half


def _brow(sx, n=26, rows=4):
    """An eyebrow as a thin strip lying just above the skin (a decal with depth)."""
    x = np.linspace(-1.75, 2.45, n)
    centre, half = brow_curve(x)
    # Round the ends: the strip narrows to a point over its last few samples.
    taper = np.clip(np.minimum(x + 1.75, 2.45 - x) / 0.35, 0, 1) ** 0.5
    half = half * np.maximum(taper, 0.15)
    v = np.linspace(-1, 1, rows)
    pts = []
    for vi in v:
        px = EYE_CENTRE[0] * sx + sx * x
        py = EYE_CENTRE[1] + centre + vi * half
        guess = np.stack([px, py, np.full(n, 9.0)], 1)
        surf = raycast(points_to_q(guess))
        g = sdf_gradient(surf)
        nrm = g / np.linalg.norm(g, axis=1, keepdims=True)
        lift = 0.04 + 0.05 * (1 - vi ** 2) * taper   # a little body along the middle
        pts.append(surf + nrm * lift[:, None])
    pts = np.concatenate(pts)
    tris = []
    for r in range(rows - 1):
        a, b = r * n, (r + 1) * n
        for i in range(n - 1):
            tris += [(a + i, a + i + 1, b + i + 1), (a + i, b + i + 1, b + i)]
    tris = np.array(tris)
    if sx < 0:
        tris = tris[:, ::-1]
    return pts, tris


def build_head() -> Head:
    skin = build_skin()
    b = Builder()
    b.add_verts(skin.points, "skin")
    b.add_tris(skin.tris, skin.mats)
    groups = {}

    for side, sx in (("left", 1.0), ("right", -1.0)):
        tuck = b.add_verts(_tuck_ring(sx), "lid_tuck")
        groups[f"tuck_{side}"] = tuck
        b.strip(tuck, skin.zones[f"eye_{side}"].ids[0], MATERIALS["skin"])

    # The mouth bag: loops from the lip edge inward, closed by a fan at the throat.
    prev = skin.zones["mouth"].ids[0]
    bag = []
    for k, ring in enumerate(_mouth_rings(skin.points[prev])):
        cur = b.add_verts(ring, "mouth_bag")
        bag.append(cur)
        mat = MATERIALS["lips"] if k < 2 else MATERIALS["mouth"]
        if len(cur) == 1:
            kk = np.arange(len(prev))
            b.add_tris(np.stack([np.full(len(prev), cur[0]), prev[kk],
                                 prev[(kk + 1) % len(prev)]], 1), mat)
        else:
            b.strip(cur, prev, mat)
        prev = cur
    groups["bag_rings"] = bag

    for name, upper in (("teeth_upper", True), ("teeth_lower", False)):
        pts, tris = _teeth(upper)
        v = b.add_verts(pts, name)
        b.add_tris(tris + v[0], MATERIALS["teeth"])
        groups[name] = v

    pts, tris, _ = uv_sphere(np.zeros(3), 1.0, 12, 20)
    centre, radii = np.array([0.0, MOUTH_Y - 0.95, 6.75]), np.array([1.7, 0.5, 2.15])
    pts = pts * radii + centre
    below = pts[:, 1] < centre[1]
    pts[below, 1] = centre[1] + (pts[below, 1] - centre[1]) * 0.6  # flatter underneath
    v = b.add_verts(pts, "tongue")
    b.add_tris(tris + v[0], MATERIALS["tongue"])
    groups["tongue"] = v

    for side, sx in (("left", 1.0), ("right", -1.0)):
        pts, tris = _brow(sx)
        v = b.add_verts(pts, "brow")
        b.add_tris(tris + v[0], MATERIALS["brows"])
        groups[f"brow_{side}"] = v

    for side, sx in (("left", 1.0), ("right", -1.0)):
        pts, tris, lat = uv_sphere(EYE_CENTRE * (sx, 1, 1), EYE_RADIUS, 22, 28)
        v = b.add_verts(pts, "eye")
        worst = lat[tris].max(1)   # the triangle's farthest angle from the gaze axis
        m = np.where(worst < IRIS_ANGLE, MATERIALS["iris"], MATERIALS["eye_white"])
        m[worst < PUPIL_ANGLE] = MATERIALS["pupil"]
        b.add_tris(tris + v[0], m)
        groups[f"eye_{side}"] = v

    points, tris, mats, part = b.arrays()
    return Head(points=points, tris=tris, mats=mats, part=part, skin=skin, groups=groups)


# --------------------------------------------------------------------------- the asset
ASSET_PATH = ROOT / "emoface" / "assets" / "default_head.npz"
FORMAT_VERSION = 1


def generate() -> dict[str, np.ndarray]:
    """Build the head, author its shapes and return the arrays stored in the asset."""
    import json

    from default_shapes import author, skin_materials

    from emoface.arkit import ARKIT_NAMES

    head = build_head()
    deltas, regions = author(head)
    # Hair-thin tails of the falloffs cost space and do nothing visible.
    deltas[np.abs(deltas) < 2e-4] = 0.0
    mats = skin_materials(head)
    used = np.unique(head.tris)
    if len(used) != len(head.points):
        raise RuntimeError("generated head has unused vertices")
    # "generator" keeps the module name this code had in the package, so the asset stays
    # byte for byte what it was.
    meta = {
        "generator": "emoface.rig.default_head", "format": FORMAT_VERSION,
        "units": "cm", "up": "+Y", "forward": "+Z", "left": "+X",
        "eye_pivots": [(EYE_CENTRE * (1, 1, 1)).tolist(), (EYE_CENTRE * (-1, 1, 1)).tolist()],
        "eye_radius": EYE_RADIUS,
        "jaw_hinge": [0.0, -0.5, 1.0],
        "camera": {"target": [0.0, 0.0, 4.0], "radius": 12.5, "pivot": [0.0, -9.0, -1.0]},
        "materials": MATERIALS,
    }
    arrays = {
        "neutral": head.points.astype(np.float32),
        "deltas": deltas.astype(np.float16),
        "shape_names": np.array(ARKIT_NAMES),
        "triangles": head.tris.astype(np.int32),
        "triangle_material": mats.astype(np.int8),
        "meta": np.array(json.dumps(meta, sort_keys=True)),
    }
    for name, idx in regions.items():
        arrays[f"region_{name}"] = idx.astype(np.int32)
    return arrays


def write_asset(path: str | Path = ASSET_PATH) -> Path:
    """Write the asset as an ``.npz`` whose bytes depend only on the arrays (fixed zip
    timestamps), so regenerating it leaves git with nothing to commit."""
    import io
    import os
    import zipfile

    from emoface.files import atomic_path

    arrays = generate()
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for name, array in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, buf.getvalue(), compresslevel=9)
        os.chmod(tmp, 0o644)  # a package file, readable by all (mkstemp makes it 0600)
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else ASSET_PATH
    out = write_asset(path)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
