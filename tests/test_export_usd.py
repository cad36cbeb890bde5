"""USD export: a UsdSkel character whose SkelAnimation carries the 52 ARKit weights."""
import numpy as np
import pytest
from rig_fixtures import synthetic_rig

from emoface.animation import Animation
from emoface.arkit import ARKIT_NAMES
from emoface.cli import main
from emoface.errors import UserError
from emoface.export.scene import head_pivot, head_quaternions
from emoface.outputs import read, write
from emoface.rig.gltf_io import quat_to_matrix

pxr = pytest.importorskip("pxr", reason="usd-core is not installed (pip install emoface[export])")


@pytest.fixture
def anim():
    rng = np.random.default_rng(5)
    return Animation(rng.random((40, 52)), 30, head=rng.normal(0, 0.2, (40, 3)))


@pytest.fixture(scope="module")
def rig():
    return synthetic_rig()


@pytest.mark.parametrize("ext", [".usda", ".usd"])
def test_usd_read_back_with_pxr(tmp_path, anim, rig, ext):
    from pxr import Usd, UsdGeom, UsdSkel

    out = tmp_path / f"take{ext}"
    write(anim, out, rig=rig)
    if ext == ".usda":
        assert out.read_text().startswith("#usda 1.0")
    stage = Usd.Stage.Open(str(out))
    assert stage.GetTimeCodesPerSecond() == 30 and stage.GetFramesPerSecond() == 30
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y
    assert UsdGeom.GetStageMetersPerUnit(stage) == pytest.approx(0.01)  # the rig is in cm
    assert stage.GetDefaultPrim().IsA(UsdSkel.Root)
    skel_anim = UsdSkel.Animation(stage.GetPrimAtPath("/Face/Skel/Anim"))
    assert list(skel_anim.GetBlendShapesAttr().Get()) == list(ARKIT_NAMES)
    attr = skel_anim.GetBlendShapeWeightsAttr()
    assert attr.GetNumTimeSamples() == anim.num_frames
    for frame in (0, 17, anim.num_frames - 1):
        np.testing.assert_array_equal(np.array(attr.Get(frame)), anim.weights[frame])
    binding = UsdSkel.BindingAPI(stage.GetPrimAtPath("/Face/Mesh"))
    bound = list(binding.GetBlendShapesAttr().Get())
    assert set(bound) <= set(ARKIT_NAMES) and "jawOpen" in bound and "tongueOut" not in bound
    jaw = UsdSkel.BlendShape(stage.GetPrimAtPath("/Face/Mesh/jawOpen"))
    assert len(jaw.GetPointIndicesAttr().Get()) < rig.num_vertices  # sparse offsets


def test_usd_skinning_reproduces_the_rig(tmp_path, anim, rig):
    """What UsdSkel computes (blend shapes + head joint) equals rig.evaluate, rotated."""
    from pxr import Usd, UsdGeom, UsdSkel

    write(anim, tmp_path / "take.usd", rig=rig)
    stage = Usd.Stage.Open(str(tmp_path / "take.usd"))
    assert UsdSkel.BakeSkinning(stage.Traverse())
    mesh = UsdGeom.Mesh(stage.GetPrimAtPath("/Face/Mesh"))
    pivot = head_pivot(rig)
    for t in (0, 11, 39):
        points = np.array(mesh.GetPointsAttr().Get(t))
        # rigid skinning is baked as the mesh's transform
        m = np.array(mesh.ComputeLocalToWorldTransform(t))
        world = points @ m[:3, :3] + m[3, :3]
        r = quat_to_matrix(head_quaternions(anim.head[t: t + 1])[0])
        expected = (rig.evaluate(anim.weights[t]) - pivot) @ r.T + pivot
        np.testing.assert_allclose(world, expected, atol=1e-4)


def test_usd_round_trip_and_compliance(tmp_path, anim, rig):
    from emoface.export.usd import check_usd

    write(anim, tmp_path / "take.csv")
    assert main(["export", str(tmp_path / "take.csv"), "-o", str(tmp_path / "take.usda"),
                 "--rig", _rig_file(tmp_path, rig)]) == 0
    back = read(tmp_path / "take.usda")
    from_csv = read(tmp_path / "take.csv")
    np.testing.assert_allclose(back.weights, from_csv.weights, atol=1e-6)
    np.testing.assert_allclose(back.head, from_csv.head, atol=1e-6)
    assert back.fps == 30
    problems = check_usd(tmp_path / "take.usda")
    assert not [p for p in problems if p.startswith(("ERROR", "FAILED"))], problems


def _rig_file(tmp_path, rig) -> str:
    from emoface.rig.npz import save_rig_npz

    save_rig_npz(rig, tmp_path / "rig.npz")
    return str(tmp_path / "rig.npz")


def test_ict_usd(tmp_path, shared_data, anim):
    if not (shared_data / "ict-facekit" / "ict_facekit.npz").exists():
        pytest.skip("ICT FaceKit npz missing")
    from emoface.export.usd import check_usd

    write(anim, tmp_path / "ict.usd", rig="ict")
    assert not [p for p in check_usd(tmp_path / "ict.usd") if p.startswith(("ERROR", "FAILED"))]
    np.testing.assert_allclose(read(tmp_path / "ict.usd").weights, anim.weights, atol=1e-7)


def test_usd_bad_inputs(tmp_path, anim):
    (tmp_path / "junk.usda").write_text("#usda 1.0\nthis is not usd {{{\n")
    with pytest.raises(UserError, match="not a readable USD"):
        read(tmp_path / "junk.usda")
    (tmp_path / "empty.usda").write_text("#usda 1.0\n")
    with pytest.raises(UserError, match="no SkelAnimation"):
        read(tmp_path / "empty.usda")
    with pytest.raises(UserError):
        write(anim, tmp_path / "x.usda", rig=tmp_path / "missing")
    assert not (tmp_path / "x.usda").exists()


def test_default_rig_usd(tmp_path, anim):
    from emoface.export.usd import check_usd
    from emoface.rig import load_rig

    try:
        load_rig("default")
    except UserError:
        pytest.skip("emoface.rig.default is not available")
    write(anim, tmp_path / "default.usda")
    assert not [p for p in check_usd(tmp_path / "default.usda")
                if p.startswith(("ERROR", "FAILED"))]
    np.testing.assert_allclose(read(tmp_path / "default.usda").weights, anim.weights, atol=1e-7)
