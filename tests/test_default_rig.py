"""The bundled default head: its 52 shapes move the anatomy their ARKit names say, the
lips close and the lids cover the eyes without passing through anything.

Sides: ARKit "Left" is the character's left, the +X side (the face looks at +Z).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from emoface.arkit import ARKIT_NAMES, INDEX
from emoface.rig.default import ASSET, MATERIAL_NAMES, load_default_rig

TOOLS = Path(__file__).resolve().parents[1] / "tools"   # the generator lives outside the package


@pytest.fixture(scope="module")
def rig():
    return load_default_rig()


# The region each shape's ARKit meaning names.
EXPECTED_REGION = {
    "browDownLeft": "brow_left", "browDownRight": "brow_right", "browInnerUp": "brows",
    "browOuterUpLeft": "brow_left", "browOuterUpRight": "brow_right",
    "cheekPuff": "cheeks", "cheekSquintLeft": "cheek_left", "cheekSquintRight": "cheek_right",
    "eyeBlinkLeft": "eyelid_left", "eyeBlinkRight": "eyelid_right",
    "eyeLookDownLeft": "eye_left", "eyeLookDownRight": "eye_right",
    "eyeLookInLeft": "eye_left", "eyeLookInRight": "eye_right",
    "eyeLookOutLeft": "eye_left", "eyeLookOutRight": "eye_right",
    "eyeLookUpLeft": "eye_left", "eyeLookUpRight": "eye_right",
    "eyeSquintLeft": "eyelid_left", "eyeSquintRight": "eyelid_right",
    "eyeWideLeft": "eyelid_left", "eyeWideRight": "eyelid_right",
    "jawForward": "jaw", "jawLeft": "jaw", "jawOpen": "jaw", "jawRight": "jaw",
    "mouthClose": "lips",
    "mouthDimpleLeft": "mouth_corner_left", "mouthDimpleRight": "mouth_corner_right",
    "mouthFrownLeft": "mouth_corner_left", "mouthFrownRight": "mouth_corner_right",
    "mouthFunnel": "lips", "mouthLeft": "lips", "mouthRight": "lips",
    "mouthLowerDownLeft": "lower_lip", "mouthLowerDownRight": "lower_lip",
    "mouthPressLeft": "mouth_corner_left", "mouthPressRight": "mouth_corner_right",
    "mouthPucker": "lips", "mouthRollLower": "lower_lip", "mouthRollUpper": "upper_lip",
    "mouthShrugLower": "lower_lip", "mouthShrugUpper": "upper_lip",
    "mouthSmileLeft": "mouth_corner_left", "mouthSmileRight": "mouth_corner_right",
    "mouthStretchLeft": "mouth_corner_left", "mouthStretchRight": "mouth_corner_right",
    "mouthUpperUpLeft": "upper_lip", "mouthUpperUpRight": "upper_lip",
    "noseSneerLeft": "nose", "noseSneerRight": "nose", "tongueOut": "tongue",
}
# Anatomical parts that compete; umbrella regions (face, upper_face, skin) do not.
CANDIDATES = sorted(set(EXPECTED_REGION.values()) | {
    "lips", "upper_lip", "lower_lip", "cheek_left", "cheek_right"})
REQUIRED_REGIONS = ("lips", "upper_lip", "lower_lip", "upper_face", "face", "jaw", "brow_left",
                    "brow_right", "eyelid_left", "eyelid_right", "eye_left", "eye_right",
                    "cheek_left", "cheek_right", "nose", "tongue", "mouth_corner_left",
                    "mouth_corner_right")


def _weights(**named):
    w = np.zeros(len(ARKIT_NAMES), np.float32)
    for k, v in named.items():
        w[INDEX[k]] = v
    return w


def region_match(rig, shape: str) -> dict[str, float]:
    """How well each region explains where ``shape`` moves the head: weighted Jaccard
    between the displacement (scaled to its peak) and the region's indicator. A region
    scores high when it holds the motion and little else; a mean over the region instead
    would favour tiny regions at the far end of a rigid motion (the chin for jawOpen)."""
    d = np.linalg.norm(rig.deltas[INDEX[shape]], axis=1)
    m = d / d.max()
    out = {}
    for name in CANDIDATES:
        r = np.zeros(rig.num_vertices)
        r[rig.regions[name]] = 1.0
        out[name] = float(np.minimum(m, r).sum() / np.maximum(m, r).sum())
    return out


def test_asset_is_small_and_complete(rig):
    assert ASSET.stat().st_size < 5 * 2 ** 20
    assert rig.shape_names == list(ARKIT_NAMES)
    assert rig.deltas.shape == (52, rig.num_vertices, 3)
    assert 3000 <= rig.num_vertices <= 12000
    assert rig.units == "cm"
    for name in REQUIRED_REGIONS:
        assert len(rig.regions[name]) > 0, name
    mats = set(np.unique(rig.triangle_material).tolist())
    assert mats <= set(range(len(MATERIAL_NAMES))) and {0, 1, 2, 3, 4, 5} <= mats
    assert rig.triangles.min() >= 0 and rig.triangles.max() < rig.num_vertices


def test_conventions(rig):
    n = rig.neutral
    height = n[:, 1].max() - n[:, 1].min()
    assert 20 <= height <= 32                                   # cm, head and a bit of neck
    face = n[rig.regions["face"]]
    assert face[:, 2].mean() > n[:, 2].mean()                    # the face looks at +Z
    assert n[rig.regions["eye_left"], 0].mean() > 0 > n[rig.regions["eye_right"], 0].mean()
    assert n[rig.regions["brows"], 1].mean() > n[rig.regions["lips"], 1].mean()  # +Y up


@pytest.mark.parametrize("shape", ARKIT_NAMES)
def test_shape_moves_its_region(rig, shape):
    scores = region_match(rig, shape)
    best = max(scores, key=scores.get)
    assert best == EXPECTED_REGION[shape], (shape, sorted(scores.items(), key=lambda kv: -kv[1])[:3])


@pytest.mark.parametrize("shape", [n for n in ARKIT_NAMES if n.endswith(("Left", "Right"))])
def test_sided_shapes_act_on_their_side(rig, shape):
    d = np.linalg.norm(rig.deltas[INDEX[shape]], axis=1)
    x = rig.neutral[:, 0]
    plus, minus = d[x > 0.2].sum(), d[x < -0.2].sum()
    if shape in ("jawLeft", "jawRight", "mouthLeft", "mouthRight"):
        # Whole-part moves: the direction, not the side, says Left (+X) or Right.
        dx = rig.deltas[INDEX[shape]][:, 0].sum()
        assert (dx > 0) == shape.endswith("Left")
    elif shape.endswith("Left"):
        assert plus > 3 * minus, (plus, minus)
    else:
        assert minus > 3 * plus, (plus, minus)


def test_shapes_move_a_sane_amount(rig):
    for shape in ARKIT_NAMES:
        d = np.linalg.norm(rig.deltas[INDEX[shape]], axis=1).max()
        assert d > 0.2, shape                                    # visible: over 2 mm
        if not shape.startswith("jaw"):
            assert d < 3.0, (shape, d)                           # cm


# The upper-face shapes emotions are made of: at the default three-quarter view (about 8 px
# per cm at 256 px) under 1 cm of brow travel or half a centimetre of lid travel at full
# weight, angry and fearful (weights 0.3-0.6) read as neutral, and FaceMesh does not follow
# them either (tools/capture_visibility.py).
READABLE_MM = {"browDown": 10.0, "browInnerUp": 10.0, "browOuterUp": 10.0, "eyeWide": 5.0,
               "cheekSquint": 6.0, "eyeSquint": 4.0}


@pytest.mark.parametrize("family", sorted(READABLE_MM))
def test_expression_shapes_move_enough_to_read(rig, family):
    names = [n for n in ARKIT_NAMES if n in (family, family + "Left", family + "Right")]
    for shape in names:
        moved_mm = 10 * np.linalg.norm(rig.deltas[INDEX[shape]], axis=1).max()
        assert moved_mm >= READABLE_MM[family], (shape, moved_mm)


def _lip_gaps(rig, w):
    v = rig.evaluate(w)
    up, lo = rig.regions["lip_seam_upper"], rig.regions["lip_seam_lower"]
    return v[up, 1] - v[lo, 1]       # > 0: upper edge above the lower one


def _bilabial_pose():
    try:
        from emoface.engines.rules.visemes import VISEMES

        return VISEMES["PP"].vector()
    except (ImportError, KeyError):  # the rules engine's /p b m/ target
        return _weights(jawOpen=0.06, mouthClose=0.06, mouthPressLeft=0.25,
                        mouthPressRight=0.25, mouthRollLower=0.08, mouthRollUpper=0.05)


@pytest.mark.parametrize("w", [0.1, 0.3, 0.5, 0.8, 1.0])
def test_mouth_close_cancels_jaw_open(rig, w):
    gaps = _lip_gaps(rig, _weights(jawOpen=w, mouthClose=w))
    assert gaps.min() > -0.1, "lips pass through each other by more than 1 mm"
    assert gaps.min() < 0.1, "lips do not meet"
    open_gaps = _lip_gaps(rig, _weights(jawOpen=w))
    assert open_gaps.max() > 1.0 * w                               # and jawOpen alone opens


def test_bilabial_pose_closes_the_lips(rig):
    gaps = _lip_gaps(rig, _bilabial_pose())
    assert -0.1 < gaps.min() < 0.1
    assert gaps.max() < 0.1


def test_lips_meet_at_rest(rig):
    gaps = _lip_gaps(rig, _weights())
    assert np.abs(gaps).max() < 0.01


def _covered(rig, verts, tri, point):
    """Does a triangle of ``tri`` lie in front of (higher z than) ``point`` along -Z?"""
    a, b, c = (verts[tri[:, k]] for k in range(3))
    p = point[:2]
    v0, v1, v2 = b[:, :2] - a[:, :2], c[:, :2] - a[:, :2], p - a[:, :2]
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    ok = np.abs(den) > 1e-12
    u = np.where(ok, (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / np.where(ok, den, 1), -1)
    v = np.where(ok, (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / np.where(ok, den, 1), -1)
    inside = (u >= 0) & (v >= 0) & (u + v <= 1)
    z = a[:, 2] + u * (b[:, 2] - a[:, 2]) + v * (c[:, 2] - a[:, 2])
    return bool((inside & (z > point[2])).any())


@pytest.mark.parametrize("side", ["Left", "Right"])
def test_blink_covers_the_eye_without_passing_through(rig, side):
    key = side.lower()
    pivot = np.asarray(rig.meta["eye_pivots"][0 if side == "Left" else 1])
    radius = rig.meta["eye_radius"]
    lid = rig.regions[f"eyelid_{key}"]
    lid_set = np.zeros(rig.num_vertices, bool)
    lid_set[lid] = True
    lid_tris = rig.triangles[lid_set[rig.triangles].all(1)]
    front = pivot + (0.0, 0.0, radius)
    assert not _covered(rig, rig.neutral, lid_tris, front)       # open at rest
    eye = rig.regions[f"eye_{key}"]

    def depth(v):  # > 0: a lid vertex inside the (possibly moved) eyeball, in cm
        centre = pivot + (v[eye] - rig.neutral[eye]).mean(0)
        return (radius - np.linalg.norm(v[lid] - centre, axis=1)).max()

    for w in (0.25, 0.5, 0.75, 1.0):
        v = rig.evaluate(_weights(**{f"eyeBlink{side}": w}))
        assert depth(v) < 0.05, (w, depth(v))
    v = rig.evaluate(_weights(**{f"eyeBlink{side}": 1.0}))
    assert _covered(rig, v, lid_tris, front)
    # Other lid motions keep out of the eyeball too.
    for shape in ("eyeSquint", "eyeWide", "eyeLookUp", "eyeLookDown", "cheekSquint"):
        for blink in (0.0, 0.5, 1.0):
            v = rig.evaluate(_weights(**{f"{shape}{side}": 1.0, f"eyeBlink{side}": blink}))
            assert depth(v) < 0.05, (shape, blink, depth(v))


def test_generation_is_deterministic(rig, tmp_path):
    """Regenerating the asset gives the same arrays (slow-ish: builds the head, ~6 s)."""
    sys.path.insert(0, str(TOOLS))
    from default_head import generate

    fresh = generate()
    np.testing.assert_array_equal(fresh["triangles"], rig.triangles)
    np.testing.assert_allclose(fresh["neutral"], rig.neutral, atol=1e-5)
    np.testing.assert_allclose(fresh["deltas"].astype(np.float32), rig.deltas, atol=2e-3)


def test_mesh_is_consistently_oriented_and_closed(rig):
    """Exporters may draw one side only: every triangle winds the same way as its
    neighbours, skin normals point out of the head, and the skin plus mouth is closed
    except for the two eye openings."""
    t = rig.triangles
    directed = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    _, counts = np.unique(directed, axis=0, return_counts=True)
    assert counts.max() == 1                      # no edge used twice in one direction
    undirected, uses = np.unique(np.sort(directed, 1), axis=0, return_counts=True)
    assert uses.max() <= 2                        # manifold
    skin = np.zeros(rig.num_vertices, bool)
    skin[rig.regions["skin"]] = True
    open_edges = undirected[uses == 1]
    assert skin[open_edges].all(1).sum() == 2 * 48  # the two eye openings' rims
    from emoface.render.mesh import vertex_normals

    n = vertex_normals(rig.neutral, t)
    s = rig.regions["skin"]
    outward = (n[s] * (rig.neutral[s] - rig.neutral[s].mean(0))).sum(1) > 0
    assert outward.mean() > 0.95
