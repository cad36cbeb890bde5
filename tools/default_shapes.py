"""The default head's 52 ARKit blendshapes, authored as anatomical deformations.

Each shape is a displacement field over the neutral head: a rigid motion (the jaw about
its hinge, eyeballs about their centres, lids about the eye centres) or a translation,
weighted by smooth fields that say which tissue moves and how much. Two invariants make
the face readable and are pinned by tests:

* Lids only ever *rotate about the eye centre* (blink, squint, wide, gaze follow), so a lid
  vertex keeps its distance from the eyeball and never passes through it; every other
  shape leaves the lids alone.
* The two lip edges share positions at rest, and every shape except the ones whose
  meaning is to part the lips (jawOpen, mouthUpperUp, mouthLowerDown, mouthFunnel,
  mouthRoll*, tongueOut) moves both edges alike. ``mouthClose`` is authored against
  ``jawOpen`` so that ``jawOpen = mouthClose = w`` closes the lips exactly for any w.

Used by ``tools/default_head.py``, which builds ``emoface/assets/default_head.npz``.

Sides: ARKit's "Left" is the character's left, which is +X here (the face looks at +Z).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import default_head as dh  # noqa: E402

from emoface.arkit import ARKIT_NAMES  # noqa: E402

SIDES = (("Left", 1.0), ("Right", -1.0))

# Jaw: rotation about a hinge line (X axis) in front of the ears, plus the forward glide of
# the condyles, so the chin drops more than it swings back.
JAW_HINGE = np.array([0.0, -0.5, 1.0])
JAW_OPEN_ANGLE = 0.27
JAW_GLIDE = np.array([0.0, -0.35, 0.8])
# Share of the lip gap that the upper lip covers when mouthClose closes the lips.
CLOSE_UPPER_SHARE = 0.35
EYE_YAW, EYE_PITCH = 0.45, 0.36     # eyeLook* at weight 1, radians
LIP_RING_UPPER, LIP_RING_LOWER = 7, 6  # the mouth-zone rings on the vermilion borders


def smoothstep(e0, e1, x):
    t = np.clip((np.asarray(x, float) - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def gauss(p, c, r):
    return np.exp(-((((p - np.asarray(c, float)) / np.asarray(r, float)) ** 2).sum(-1)))


def rot_x(a):
    """Rotation matrices about +X for angles ``a`` (any shape) -> (..., 3, 3)."""
    a = np.asarray(a, float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1),
                     np.stack([z, s, c], -1)], -2)


def rot_y(a):
    a = np.asarray(a, float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1),
                     np.stack([-s, z, c], -1)], -2)


def rotate_about(p, pivot, mats):
    """Rotate points p (V, 3) about ``pivot`` by per-vertex (V, 3, 3) or one (3, 3)."""
    rel = p - pivot
    if mats.ndim == 2:
        return rel @ mats.T + pivot
    return np.einsum("vij,vj->vi", mats, rel) + pivot


class Face:
    """Per-vertex facts about the neutral head that the shapes are written in."""

    def __init__(self, head: dh.Head):
        self.head = head
        p = self.p = head.points
        n = self.n = len(p)
        part = head.part
        self.skin = part == dh.PARTS["skin"]
        self.bag = part == dh.PARTS["mouth_bag"]
        self.tuck = part == dh.PARTS["lid_tuck"]

        # Mouth loop parameter t (upper lip sin t > 0) and ring fraction; bag rings < 0.
        self.mouth_t = np.full(n, np.nan)
        self.mouth_s = np.full(n, np.nan)
        zone = head.skin.zones["mouth"]
        k1, nn = zone.ids.shape
        t = 2 * np.pi * np.arange(nn) / nn
        for k in range(k1):
            self.mouth_t[zone.ids[k]] = t
            self.mouth_s[zone.ids[k]] = zone.fractions[k]
        for k, ring in enumerate(head.groups["bag_rings"]):
            self.mouth_s[ring] = -(k + 1)
            self.mouth_t[ring] = t if len(ring) == nn else 0.0
        sin_t = np.round(np.sin(np.nan_to_num(self.mouth_t)), 9)
        self.upper = ~np.isnan(self.mouth_t) & (sin_t > 0)
        self.lower = ~np.isnan(self.mouth_t) & (sin_t < 0)
        self.slit_upper = zone.ids[0][1:nn // 2]
        self.slit_lower = zone.ids[0][nn - 1:nn // 2:-1]   # partners of slit_upper
        self.corners = {"Left": zone.ids[0][0], "Right": zone.ids[0][nn // 2]}
        in_zone = ~np.isnan(self.mouth_s)
        self.zone_s = np.where(in_zone & (self.mouth_s >= 0), self.mouth_s, np.nan)

        # Eyes: local angles about each eye centre, lid margins as functions of x.
        self.eye_ids = {}
        self.lid_ids = {}
        self.eye_centre = {}
        for side, sx in SIDES:
            key = "left" if sx > 0 else "right"
            self.eye_ids[side] = head.groups[f"eye_{key}"]
            self.lid_ids[side] = np.concatenate([head.skin.zones[f"eye_{key}"].ids.ravel(),
                                                 head.groups[f"tuck_{key}"]])
            self.eye_centre[side] = dh.EYE_CENTRE * (sx, 1, 1)
        self.margin = self._margins()
        self.jaw = self._jaw_weight()

    # ------------------------------------------------------------------ the eyes
    def _margins(self):
        """psi (angle in the y-z plane about the eye centre) of the upper and lower lid
        margins and of the tuck rings, as functions of outward x, for the left eye."""
        t = np.linspace(0, 2 * np.pi, 2001)
        phi, e = dh.eye_opening_angles(t)

        def curves(radius, phi, e):
            d = dh.eye_dir(phi, e) * radius
            x, psi = d[:, 0], np.arctan2(d[:, 1], d[:, 2])
            up = np.sin(t) >= 0
            xs_u, ps_u = x[up], psi[up]
            xs_l, ps_l = x[~up], psi[~up]
            o_u, o_l = np.argsort(xs_u), np.argsort(xs_l)
            return (xs_u[o_u], ps_u[o_u]), (xs_l[o_l], ps_l[o_l])

        (xu, pu), (xl, pl) = curves(dh.LID_RADIUS, phi, e)
        return {"xu": xu, "pu": pu, "xl": xl, "pl": pl,
                "x_lo": max(xu.min(), xl.min()), "x_hi": min(xu.max(), xl.max())}

    def eye_local(self, side, idx):
        """(x outward, psi, elevation, radius) of vertices ``idx`` about ``side``'s eye."""
        sx = dict(SIDES)[side]
        rel = self.p[idx] - self.eye_centre[side]
        x = rel[:, 0] * sx
        psi = np.arctan2(rel[:, 1], rel[:, 2])
        r = np.linalg.norm(rel, axis=1)
        return x, psi, r

    def lid_psi(self, x):
        m = self.margin
        xc = np.clip(x, m["x_lo"], m["x_hi"])
        up = np.interp(xc, m["xu"], m["pu"])
        lo = np.interp(xc, m["xl"], m["pl"])
        # Beyond the corners the gap closes.
        return up, lo

    def lid_rotation(self, side, upper_angle, lower_angle, reach_up=0.55, reach_down=0.4):
        """Deltas rotating the lids of ``side`` about the eye's X axis. ``upper_angle`` and
        ``lower_angle`` map outward x -> angle (positive turns downward) applied at the
        margin; the skin above/below follows with a falloff over ``reach_*`` radians."""
        idx = self.lid_ids[side]
        x, psi, r = self.eye_local(side, idx)
        up_m, lo_m = self.lid_psi(x)
        mid = 0.5 * (up_m + lo_m)
        is_up = psi >= mid
        # How far from the margin, in angle, and how far off the shell.
        beyond = np.where(is_up, psi - up_m, lo_m - psi)
        fall = 1 - smoothstep(0.1, 0.1 + reach_up, beyond) * is_up \
            - smoothstep(0.06, 0.06 + reach_down, beyond) * ~is_up
        fall *= 1 - smoothstep(dh.LID_RADIUS + 0.25, dh.LID_RADIUS + 1.1, r)
        m = self.margin
        lateral = smoothstep(m["x_hi"] + 0.45, m["x_hi"], x) * smoothstep(m["x_lo"] - 0.45,
                                                                          m["x_lo"], x)
        angle = np.where(is_up, upper_angle(x), lower_angle(x)) * np.clip(fall, 0, 1) * lateral
        out = np.zeros((self.n, 3))
        c = self.eye_centre[side]
        # A blendshape moves along the chord, which dips toward the eye mid-way; ending a
        # little further out than the pure rotation keeps the mid-way lid off the eyeball.
        bulge = 1 + 2 * (1 - np.cos(angle / 2))
        rotated = rotate_about(self.p[idx], c, rot_x(angle))
        out[idx] = c + (rotated - c) * bulge[:, None] - self.p[idx]
        return out

    def lid_guard(self):
        """1 where a vertex is free to move, 0 on the lids (which only rotate)."""
        g = np.ones(self.n)
        for side, _ in SIDES:
            idx = self.lid_ids[side]
            _, _, r = self.eye_local(side, idx)
            g[idx] = smoothstep(dh.LID_RADIUS + 0.15, dh.LID_RADIUS + 0.9, r)
        return g

    def eyeball_rotation(self, side, yaw, pitch):
        """Deltas turning ``side``'s eyeball: yaw > 0 toward +X, pitch > 0 upward."""
        idx = self.eye_ids[side]
        c = self.eye_centre[side]
        m = rot_y(yaw) @ rot_x(-pitch)
        out = np.zeros((self.n, 3))
        out[idx] = rotate_about(self.p[idx], c, m) - self.p[idx]
        return out

    # ------------------------------------------------------------------ the jaw
    def _jaw_weight(self):
        """How much each vertex follows the mandible: 1 chin, lower lip, lower teeth and
        tongue; 0 upper lip, nose and above; in between on the cheeks and the mouth
        corners, and fading down the neck."""
        p = self.p
        y, z = p[:, 1], p[:, 2]
        y_line = dh.MOUTH_Y + 0.1 + 0.55 * np.clip(7.5 - z, 0, None)
        width = 1.6 + 0.12 * np.clip(7.5 - z, 0, None)
        base = smoothstep(-1.0, 1.0, (y_line - y) / width)
        base *= smoothstep(-13.5, -10.0, y) * smoothstep(-1.5, 2.5, z)
        w = base.copy()
        t = np.nan_to_num(self.mouth_t)
        side = np.where(self.upper, -1.0, np.where(self.lower, 1.0, 0.0))
        # Zone rings near the slit: upper edge 0, lower edge 1, corners 0.5.
        zone = ~np.isnan(self.zone_s)
        edge = 0.5 + 0.5 * side * np.abs(np.sin(t)) ** 0.35
        blend = smoothstep(0.0, 0.6, np.nan_to_num(self.zone_s))
        w[zone] = ((1 - blend) * edge + blend * base)[zone]
        w[self.bag] = (0.5 + 0.5 * side * np.abs(np.sin(t)) ** 0.2)[self.bag]
        part = self.head.part
        w[part == dh.PARTS["teeth_lower"]] = 1.0
        w[part == dh.PARTS["tongue"]] = 1.0
        for name in ("teeth_upper", "eye", "lid_tuck"):
            w[part == dh.PARTS[name]] = 0.0
        last = self.head.groups["bag_rings"][-1]
        w[last] = 0.5
        return w

    def jaw_motion(self, angle=JAW_OPEN_ANGLE, glide=JAW_GLIDE):
        """Full-jaw displacement at every vertex (before the jaw weight)."""
        r = rot_x(angle)
        return rotate_about(self.p, JAW_HINGE, r) + glide - self.p

    # ------------------------------------------------------------------ the mouth
    def corner_point(self, side):
        return self.p[self.corners[side]]

    def lip_mask(self, reach=0.55):
        """1 on the lips (the slit's first rings and the inner lip), fading outward."""
        m = np.zeros(self.n)
        zone = ~np.isnan(self.zone_s)
        m[zone] = 1 - smoothstep(0.12, reach, self.zone_s[zone])
        inner = self.bag & (self.mouth_s >= -2)
        m[inner] = 1.0
        return m

    def mouth_region(self, centre_lift=0.0):
        """Soft mask of the mouth area (lips, their surround and the first bag rings)."""
        p = self.p
        g = gauss(p, (0, dh.MOUTH_Y + centre_lift, 9.8), (3.3, 1.7, 3.0))
        g[self.bag & (self.mouth_s < -2)] = 0
        return g * self.skin_or_bag()

    def skin_or_bag(self):
        return (self.skin | self.bag).astype(float)


# ====================================================================== the shapes
def author(head: dh.Head) -> tuple[np.ndarray, dict]:
    """(52, V, 3) deltas in ARKit order and the rig's regions."""
    f = Face(head)
    p = f.p
    guard = f.lid_guard()[:, None]
    sob = f.skin_or_bag()[:, None]
    shapes: dict[str, np.ndarray] = {}
    up = np.array([0.0, 1.0, 0.0])

    # ------------------------------------------------------------- jaw
    jm = f.jaw_motion()
    shapes["jawOpen"] = f.jaw[:, None] * jm
    for name, vec in (("jawLeft", (0.8, 0.0, 0.0)), ("jawRight", (-0.8, 0.0, 0.0)),
                      ("jawForward", (0.0, 0.05, 0.8))):
        shapes[name] = f.jaw[:, None] * np.asarray(vec)
    # mouthClose: the lips' share of undoing jawOpen, exact on the slit edges.
    lip = f.lip_mask()
    t = np.nan_to_num(f.mouth_t)
    part_open = np.abs(np.sin(t)) ** 0.35          # the part of the jaw gap at this column
    close = np.zeros_like(p)
    lo, upm = f.lower, f.upper
    close[lo] = -(1 - CLOSE_UPPER_SHARE) * (part_open * lip)[lo, None] * jm[lo]
    close[upm] = CLOSE_UPPER_SHARE * (part_open * lip)[upm, None] * jm[upm]
    shapes["mouthClose"] = close

    # ------------------------------------------------------------- eyes and lids
    m = f.margin

    def gap(x):
        u, l_ = f.lid_psi(x)
        return u - l_

    for side, sx in SIDES:
        def blink_up(x):
            return 0.72 * gap(x)

        def blink_lo(x):
            return -0.28 * gap(x)

        # The eyeball also settles back a millimetre as the lids close.
        settle = np.zeros_like(p)
        settle[f.eye_ids[side], 2] = -0.1
        shapes[f"eyeBlink{side}"] = f.lid_rotation(side, blink_up, blink_lo) + settle
        shapes[f"eyeSquint{side}"] = (
            f.lid_rotation(side, lambda x: 0.14 * np.ones_like(x),
                           lambda x: -0.40 * gap(x), reach_down=0.6)
            + guard * sob * 0.45 * gauss(p, (1.0 * sx * 3.3, 0.9, 8.2), (1.6, 0.9, 2.0))[:, None]
            * up)
        shapes[f"eyeWide{side}"] = f.lid_rotation(side, lambda x: -0.45 * np.ones_like(x),
                                                  lambda x: 0.08 * np.ones_like(x),
                                                  reach_up=0.7)
        out = sx  # outward yaw sign for this eye
        look = {
            "Up": (0.0, EYE_PITCH, lambda x: -0.12 * np.ones_like(x), lambda x: -0.04 * np.ones_like(x)),
            "Down": (0.0, -EYE_PITCH, lambda x: 0.24 * np.ones_like(x), lambda x: 0.06 * np.ones_like(x)),
            "In": (-EYE_YAW * out, 0.0, None, None),
            "Out": (EYE_YAW * out, 0.0, None, None),
        }
        for d, (yaw, pitch, lu, ll) in look.items():
            delta = f.eyeball_rotation(side, yaw, pitch)
            if lu is not None:
                delta = delta + f.lid_rotation(side, lu, ll)
            shapes[f"eyeLook{d}{side}"] = delta
    del m

    # ------------------------------------------------------------- brows
    for side, sx in SIDES:
        inner = gauss(p, (1.1 * sx, 5.2, 8.6), (1.3, 1.4, 3.0))
        outer = gauss(p, (4.6 * sx, 5.3, 7.2), (1.6, 1.5, 3.0))
        whole = gauss(p, (3.0 * sx, 5.3, 8.0), (2.6, 1.7, 3.5))
        face_w = guard * sob
        shapes[f"browDown{side}"] = face_w * (
            whole[:, None] * np.array([0.0, -1.25, 0.1])
            + inner[:, None] * np.array([-0.45 * sx, -1.0, 0.3]))
        shapes[f"browOuterUp{side}"] = face_w * outer[:, None] * np.array([0.05 * sx, 1.4, -0.05])
    inner_both = sum(gauss(p, (1.2 * sx, 5.3, 8.6), (1.35, 1.5, 3.0)) for _, sx in SIDES)
    shapes["browInnerUp"] = guard * sob * inner_both[:, None] * np.array([0.0, 1.6, 0.02])
    # Lowered brows bunch the skin between them forward: a bulge the shading shows.
    glabella = guard * sob * gauss(p, (0.0, 4.9, 9.0), (0.9, 0.9, 2.0))[:, None] * np.array([0, -0.1, 0.3])
    for side, _ in SIDES:
        shapes[f"browDown{side}"] = shapes[f"browDown{side}"] + 0.6 * glabella

    # ------------------------------------------------------------- cheeks, nose
    for side, sx in SIDES:
        cheek = gauss(p, (3.6 * sx, -0.6, 8.2), (1.7, 1.5, 3.0))
        shapes[f"cheekSquint{side}"] = guard * sob * (
            cheek[:, None] * np.array([0.15 * sx, 0.9, 0.2])) + f.lid_rotation(
            side, lambda x: np.zeros_like(x), lambda x: -0.28 * np.ones_like(x))
        wing = gauss(p, (1.25 * sx, -1.1, 9.8), (0.9, 1.0, 2.0))
        side_nose = gauss(p, (1.5 * sx, 0.6, 9.0), (0.9, 1.4, 2.0))
        lip_side = gauss(p, (1.1 * sx, dh.MOUTH_Y + 0.9, 10.0), (1.0, 0.8, 2.0)) * ~f.lower
        shapes[f"noseSneer{side}"] = guard * sob * (
            wing[:, None] * np.array([-0.1 * sx, 0.8, -0.05])
            + side_nose[:, None] * np.array([0.05 * sx, 0.55, 0.1])
            + lip_side[:, None] * np.array([0.0, 0.35, 0.0]))
    # Puff: cheeks push out along the skin normal, lips a little forward.
    normals = _normals(head)
    puff = sum(gauss(p, (4.3 * sx, -2.2, 6.5), (1.9, 1.9, 3.0)) for _, sx in SIDES)
    shapes["cheekPuff"] = guard * sob * (1.2 * puff[:, None] * normals
                                         + 0.08 * lip[:, None] * np.array([0, 0, 1.0]))

    # ------------------------------------------------------------- mouth
    mouth_area = f.mouth_region()
    for side, sx in SIDES:
        c = f.corner_point(side)
        near = gauss(p, c, (1.3, 1.1, 2.5)) * (f.skin | f.bag)
        wide = gauss(p, c + (0.3 * sx, 0.5, 0), (2.1, 1.8, 3.0)) * (f.skin | f.bag)
        cheek = gauss(p, (3.4 * sx, -1.4, 8.5), (1.5, 1.3, 3.0))
        shapes[f"mouthSmile{side}"] = guard * (
            near[:, None] * np.array([0.6 * sx, 0.95, -0.35])
            + wide[:, None] * np.array([0.15 * sx, 0.2, -0.05])
            + cheek[:, None] * np.array([0.08 * sx, 0.25, 0.1]))
        shapes[f"mouthFrown{side}"] = guard * (
            near[:, None] * np.array([0.12 * sx, -0.7, -0.05])
            + wide[:, None] * np.array([0.0, -0.2, 0.0]))
        shapes[f"mouthDimple{side}"] = guard * (
            near[:, None] * np.array([0.65 * sx, 0.12, -0.7]))
        lower_side = gauss(p, (1.3 * sx, dh.MOUTH_Y - 0.7, 9.8), (1.3, 1.0, 2.5)) * ~f.upper
        shapes[f"mouthStretch{side}"] = guard * (
            near[:, None] * np.array([0.7 * sx, -0.3, -0.15])
            + lower_side[:, None] * np.array([0.15 * sx, -0.3, 0.0]))
        # Press: lip tissue squeezed toward the slit; the edges themselves stay.
        half = smoothstep(-0.8, 0.8, p[:, 0] * sx) * mouth_area
        toward = np.where(f.upper, -1.0, np.where(f.lower, 1.0, 0.0))
        dist_from_edge = smoothstep(0.0, 0.2, np.nan_to_num(f.zone_s))
        press = half * toward * dist_from_edge * (1 - smoothstep(0.35, 0.8, np.nan_to_num(f.zone_s)))
        shapes[f"mouthPress{side}"] = guard * (press[:, None] * np.array([0, 0.45, 0])
                                               + (half * lip)[:, None] * np.array([0, 0, -0.12]))
        # Upper lip up / lower lip down on one side: these part the lips.
        side_w = smoothstep(-1.0, 1.2, p[:, 0] * sx)
        ul = gauss(p, (1.0 * sx, dh.MOUTH_Y + 0.5, 10.0), (1.5, 1.0, 2.5)) * side_w * f.upper
        shapes[f"mouthUpperUp{side}"] = guard * ul[:, None] * np.array([0.1 * sx, 0.55, 0.05])
        ll = gauss(p, (1.0 * sx, dh.MOUTH_Y - 0.6, 10.0), (1.5, 1.2, 2.5)) * side_w * f.lower
        shapes[f"mouthLowerDown{side}"] = guard * ll[:, None] * np.array([0.05 * sx, -0.6, 0.1])
    # Whole mouth sideways.
    slide = gauss(p, (0, dh.MOUTH_Y, 9.8), (4.2, 1.8, 3.0)) * f.skin_or_bag()
    slide[f.bag & (f.mouth_s < -2)] = 0
    for name, sx in (("mouthLeft", 1.0), ("mouthRight", -1.0)):
        # The whole mouth slides; the corner it moves toward also goes back round the face.
        lead = gauss(p, f.corner_point("Left" if sx > 0 else "Right"), (1.5, 1.2, 2.5))
        shapes[name] = guard * (slide[:, None] * np.array([1.1 * sx, 0.0, 0.0])
                                + lead[:, None] * np.array([0.0, 0.05, -0.35]))

    # Pucker / funnel: corners in, lips forward; funnel also opens the centre.
    xs = p[:, 0]
    inward = -np.clip(xs / dh.MOUTH_HALF_WIDTH, -1.6, 1.6)
    fwd = mouth_area * (0.4 + 0.6 * lip)
    shapes["mouthPucker"] = guard * (
        mouth_area[:, None] * np.stack([0.8 * inward, np.zeros_like(xs), np.zeros_like(xs)], 1)
        + fwd[:, None] * np.array([0, 0, 0.9]))
    opening = np.where(f.upper, 1.0, np.where(f.lower, -1.0, 0.0)) * np.abs(np.sin(t)) ** 0.6
    shapes["mouthFunnel"] = guard * (
        mouth_area[:, None] * np.stack([0.38 * inward, np.zeros_like(xs), np.zeros_like(xs)], 1)
        + fwd[:, None] * np.array([0, 0, 0.55])
        + (lip * opening)[:, None] * np.array([0, 0.32, 0.0]))

    # Roll: a lip turns in over the teeth. Its red part folds toward the slit and back,
    # so less of it shows; the edge itself only goes back (never across the other lip).
    gap_from_line = np.abs(p[:, 1] - dh.mouth_line(p[:, 0])[0])
    for name, mask, sign in (("mouthRollLower", f.lower, -1.0), ("mouthRollUpper", f.upper, 1.0)):
        w = lip * mask * (f.skin | f.bag)
        fold = np.minimum(gap_from_line, 0.9)
        shapes[name] = guard * np.stack([
            np.zeros(f.n), -sign * 0.55 * fold * w,
            -(0.45 - 0.15 * fold) * w], 1)
    # Shrug: a lip (and the chin or the philtrum) pushes up / forward; edges move together.
    chin = gauss(p, (0, -7.0, 9.6), (2.2, 1.6, 2.5))
    lower_lip = gauss(p, (0, dh.MOUTH_Y - 0.6, 10.0), (2.2, 0.9, 2.5)) * (f.skin | f.bag)
    upper_lip = gauss(p, (0, dh.MOUTH_Y + 0.6, 10.0), (2.2, 0.9, 2.5)) * (f.skin | f.bag)
    # The lower lip is pushed up from below: its body rises and pouts, but its edge is
    # already against the upper lip, so the edge only comes forward.
    below = np.clip((dh.mouth_line(p[:, 0])[0] - p[:, 1]) / 0.7, 0, 1)
    lower_body = lower_lip * ~f.upper
    shapes["mouthShrugLower"] = guard * (
        chin[:, None] * np.array([0, 0.3, 0.15])
        + lower_body[:, None] * np.stack([np.zeros(f.n), 0.4 * below, 0.4 * np.ones(f.n)], 1))
    above = np.clip((p[:, 1] - dh.mouth_line(p[:, 0])[0]) / 0.6, 0, 1)
    upper_body = upper_lip * ~f.lower
    shapes["mouthShrugUpper"] = guard * (
        upper_body[:, None] * np.stack([np.zeros(f.n), 0.3 * above, 0.35 * np.ones(f.n)], 1)
        + gauss(p, (0, -2.7, 10.2), (1.4, 0.8, 2.0))[:, None] * np.array([0, 0.12, 0.08]))
    # Keep the slit edges together in every shape that is not meant to part them.
    closed_kinds = [n for n in shapes if n not in {
        "jawOpen", "mouthClose", "mouthFunnel", "mouthRollLower", "mouthRollUpper"}
        and not n.startswith(("mouthUpperUp", "mouthLowerDown"))]
    for name in closed_kinds:
        d = shapes[name]
        mean = 0.5 * (d[f.slit_upper] + d[f.slit_lower])
        d[f.slit_upper] = mean
        d[f.slit_lower] = mean

    # ------------------------------------------------------------- tongue
    # Tongue out: the jaw drops a little, the lips part in the middle and the tongue
    # slides forward, rising to the lip line and thinning as it leaves the mouth.
    tongue = head.groups["tongue"]
    tp = p[tongue]
    zmin, zmax = tp[:, 2].min(), tp[:, 2].max()
    front = (tp[:, 2] - zmin) / (zmax - zmin)
    yc = tp[:, 1].mean()
    d = 0.2 * f.jaw[:, None] * jm
    d[tongue, 2] += 0.5 + 2.1 * front ** 1.4
    d[tongue, 1] += 0.55 * front - 0.35 * front * (tp[:, 1] - yc)
    d[tongue, 0] += -0.12 * tp[:, 0] * front
    centre_lips = gauss(p, (0, dh.MOUTH_Y, 10.0), (1.3, 1.5, 2.5)) * lip
    d += (centre_lips * f.lower)[:, None] * np.array([0, -0.3, 0.2])
    d += (centre_lips * f.upper)[:, None] * np.array([0, 0.2, 0.05])
    shapes["tongueOut"] = d

    missing = [n for n in ARKIT_NAMES if n not in shapes]
    assert not missing, missing
    deltas = np.stack([shapes[n] for n in ARKIT_NAMES]).astype(np.float32)
    _carry_brows(head, deltas)
    return deltas, regions(f)


def _carry_brows(head, deltas):
    """Brow strips ride on the skin: each vertex takes the mean motion of the skin
    vertices nearest to it."""
    from scipy.spatial import cKDTree

    skin = np.flatnonzero(head.part == dh.PARTS["skin"])
    tree = cKDTree(head.points[skin])
    for side in ("left", "right"):
        ids = head.groups[f"brow_{side}"]
        dist, near = tree.query(head.points[ids], k=4)
        w = 1.0 / np.maximum(dist, 1e-3)
        w /= w.sum(1, keepdims=True)
        deltas[:, ids] = np.einsum("vk,skvc->svc", w,
                                   deltas[:, skin[near]].transpose(0, 2, 1, 3))


def _normals(head):
    from emoface.render.mesh import vertex_normals

    return vertex_normals(head.points, head.tris)


# ====================================================================== regions
def regions(f: Face) -> dict:
    p = f.p
    head = f.head
    part = head.part
    skin = f.skin
    out: dict[str, np.ndarray] = {}
    ids = np.arange(f.n)
    lip = f.lip_mask()
    lips = (lip > 0.5) & (f.skin | f.bag)
    out["lips"] = ids[lips]
    out["upper_lip"] = ids[lips & ~f.lower]
    out["lower_lip"] = ids[lips & ~f.upper]
    out["jaw"] = ids[f.jaw >= 0.5]
    out["tongue"] = head.groups["tongue"]
    out["teeth"] = np.concatenate([head.groups["teeth_upper"], head.groups["teeth_lower"]])
    out["mouth_interior"] = ids[f.bag & (f.mouth_s < -2)]
    d = p - dh.PROJ_CENTRE
    frontal = d[:, 2] / np.linalg.norm(d, axis=1) > 0.3
    face = (skin | f.tuck) & frontal & (p[:, 1] > -10.5) & (p[:, 1] < 8.5)
    out["face"] = ids[face | lips]
    out["upper_face"] = ids[(face & (p[:, 1] > dh.EYE_CENTRE[1] - 1.5))]
    brows = []
    for side, sx in SIDES:
        key = side.lower()
        out[f"eye_{key}"] = f.eye_ids[side]
        lid = f.lid_ids[side]
        _, _, r = f.eye_local(side, lid)
        out[f"eyelid_{key}"] = lid[r < dh.LID_RADIUS + 0.45]
        b = head.groups[f"brow_{key}"]
        out[f"brow_{key}"] = b
        brows.append(b)
        cheek = gauss(p, (3.8 * sx, -1.3, 8.0), (1.9, 2.0, 3.0)) > 0.4
        lid_zone = np.zeros(f.n, bool)
        lid_zone[f.lid_ids[side]] = True
        cheek &= ~lid_zone & (lip < 0.05) & (_nose_sdf(p) > 0.3)
        out[f"cheek_{key}"] = ids[skin & cheek]
        corner = np.linalg.norm(p - f.corner_point(side), axis=1) < 1.1
        out[f"mouth_corner_{key}"] = ids[(skin | f.bag) & corner & (np.nan_to_num(f.mouth_s) > -3)]
    out["brows"] = np.concatenate(brows)
    out["cheeks"] = np.concatenate([out["cheek_left"], out["cheek_right"]])
    nose = _nose_sdf(p) < 0.3
    out["nose"] = ids[skin & nose & (p[:, 1] > dh.MOUTH_Y + 1.4)]
    out["eyes"] = np.concatenate([out["eye_left"], out["eye_right"]])
    out["eyelids"] = np.concatenate([out["eyelid_left"], out["eyelid_right"]])
    out["skin"] = ids[skin | f.tuck]
    del part
    out = {k: np.unique(v).astype(np.int32) for k, v in out.items()}
    # The lip seam: upper-edge vertices and, index for index, the lower-edge vertices that
    # share their rest positions (ordered, not sorted: the pairing is the point).
    out["lip_seam_upper"] = f.slit_upper.astype(np.int32)
    out["lip_seam_lower"] = f.slit_lower.astype(np.int32)
    return out


def _nose_sdf(p):
    m = dh._mirror(p)
    nose = dh._ellipsoid(p, (0, 0.2, 8.9), (0.95, 2.6, 1.1))
    nose = dh._smin(nose, dh._capsule(p, (0, 3.3, 8.85), (0, -0.5, 10.95), 0.45, 0.72), 0.6)
    nose = dh._smin(nose, dh._sphere(p, (0, -0.95, 10.95), 0.85), 0.5)
    return dh._smin(nose, dh._ellipsoid(m, (1.15, -1.45, 9.85), (0.75, 0.62, 0.8)), 0.45)


def skin_materials(head: dh.Head) -> np.ndarray:
    """Per-triangle materials with lips and brows painted on the skin. Inside the ring
    zones the decision is made per quad (ring, column), so borders follow the rings."""
    mats = head.mats.copy()
    skin = head.skin
    info = skin.tri_info
    n_skin = len(skin.tris)
    zone_names = ("eye_left", "eye_right", "mouth")
    # Lips: the mouth zone's first rings (upper and lower lip each end on one ring).
    mouth = skin.zones["mouth"]
    nn = mouth.ids.shape[1]
    sel = info[:, 0] == zone_names.index("mouth")
    k, col = info[sel, 1], info[sel, 2]
    upper = np.sin(2 * np.pi * (col + 0.5) / nn) > 0
    border = np.where(upper, LIP_RING_UPPER, LIP_RING_LOWER)
    idx = np.flatnonzero(sel)
    mats[idx[k < border]] = dh.MATERIALS["lips"]
    assert n_skin <= len(mats)
    return mats
