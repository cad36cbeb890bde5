"""GLB export: Khronos-valid files, 52 ARKit targets, exact weights, onto a user's GLB."""
import json
import struct
from dataclasses import replace

import numpy as np
import pytest
from rig_fixtures import issues, morph_glb, synthetic_rig, validate_gltf

import emoface
from emoface.animation import Animation
from emoface.arkit import ARKIT_NAMES, INDEX
from emoface.cli import main
from emoface.errors import UserError
from emoface.export.gltf import export_onto_glb, read_glb_animation
from emoface.export.scene import head_pivot, head_quaternions, material_groups
from emoface.outputs import read, write
from emoface.rig import load_rig
from emoface.rig.gltf_io import quat_to_matrix, read_gltf
from emoface.rig.npz import save_rig_npz


@pytest.fixture
def anim():
    rng = np.random.default_rng(3)
    return Animation(rng.random((45, 52)), 30, head=rng.normal(0, 0.2, (45, 3)))


@pytest.fixture(scope="module")
def rig():
    return synthetic_rig()


def _glb_json(path) -> dict:
    raw = path.read_bytes()
    (size,) = struct.unpack_from("<I", raw, 12)
    return json.loads(raw[20: 20 + size])


def test_glb_is_valid_and_has_52_targets_and_a_key_per_frame(tmp_path, anim, rig):
    import pygltflib

    out = tmp_path / "take.glb"
    write(anim, out, rig=rig)
    report = validate_gltf(out)
    assert report["issues"]["numErrors"] == 0, issues(report)
    assert report["issues"]["numWarnings"] == 0, issues(report, 1)
    g = pygltflib.GLTF2().load(str(out))
    mesh = g.meshes[0]
    assert mesh.extras["targetNames"] == list(ARKIT_NAMES)
    assert len(mesh.primitives) == 2  # one per material: face, mouth interior
    assert all(len(p.targets) == 52 for p in mesh.primitives)
    (animation,) = g.animations
    weights = [c for c in animation.channels if c.target.path == "weights"]
    assert len(weights) == 1
    sampler = animation.samplers[weights[0].sampler]
    assert sampler.interpolation == "LINEAR"
    assert g.accessors[sampler.input].count == anim.num_frames
    assert g.accessors[sampler.output].count == anim.num_frames * 52
    assert g.accessors[sampler.output].componentType == pygltflib.FLOAT
    assert [m.name for m in g.materials] == ["face", "mouth_interior"]


def test_glb_targets_are_the_rig_baked_to_arkit(tmp_path, anim, rig):
    """Read back as a rig, the GLB reproduces rig.evaluate (in metres) for any weights."""
    rig = replace(rig, uvs=np.random.default_rng(0).random((rig.num_vertices, 2)))
    write(anim, tmp_path / "take.glb", rig=rig)
    back = load_rig(tmp_path / "take.glb")
    assert back.shape_names == list(ARKIT_NAMES)
    order = np.concatenate([np.unique(rig.triangles[t]) for _, t, _ in material_groups(rig)])
    w = anim.weights[7]
    expected = rig.evaluate(w)[order] * 0.01
    full = np.zeros((52, back.num_vertices, 3), np.float32)
    for s, name in enumerate(back.shape_names):
        full[INDEX[name]] = back.deltas[s]
    got = back.neutral + np.einsum("k,kvc->vc", w, full)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(back.uvs, rig.uvs[order], atol=1e-6)
    # split ICT-style shapes become one target: browInnerUp = browInnerUp_L + browInnerUp_R
    bi = back.deltas[back.shape_names.index("browInnerUp")]
    np.testing.assert_allclose(bi, (rig.deltas[3] + rig.deltas[4])[order] * 0.01, atol=1e-7)


def test_head_rotation_turns_about_the_pivot(tmp_path, rig):
    head = np.zeros((3, 3), np.float32)
    head[1, 0] = 0.5  # Live Link yaw: the face turns towards the character's right (-X)
    head[2, 1] = 0.3  # pitch: chin down
    write(Animation(np.zeros((3, 52)), 30, head=head), tmp_path / "h.glb", rig=rig)
    doc = read_gltf(tmp_path / "h.glb")
    nodes = doc.json["nodes"]
    assert [n["name"] for n in nodes] == ["emoface", "head", "face"]
    pivot = np.array(nodes[1]["translation"])
    np.testing.assert_allclose(pivot, head_pivot(rig) * 0.01, atol=1e-6)
    channel = next(c for c in doc.json["animations"][0]["channels"]
                   if c["target"]["path"] == "rotation")
    quats = doc.accessor(doc.json["animations"][0]["samplers"][channel["sampler"]]["output"])
    forward = quat_to_matrix(quats[1]) @ [0, 0, 1]
    assert forward[0] < -0.4 and abs(forward[1]) < 1e-6  # yawed towards -X
    forward = quat_to_matrix(quats[2]) @ [0, 0, 1]
    assert forward[1] < -0.25  # pitched down
    np.testing.assert_allclose(quats, head_quaternions(head), atol=1e-6)
    back = read(tmp_path / "h.glb")
    np.testing.assert_allclose(back.head, head, atol=1e-6)


def test_csv_to_glb_to_weights_round_trip(tmp_path, anim, rig):
    write(anim, tmp_path / "take.csv")
    from_csv = read(tmp_path / "take.csv")
    assert main(["export", str(tmp_path / "take.csv"), "-o", str(tmp_path / "take.glb"),
                 "--rig", _rig_file(tmp_path, rig)]) == 0
    back = read_glb_animation(tmp_path / "take.glb")
    assert back.fps == from_csv.fps and back.num_frames == from_csv.num_frames
    np.testing.assert_allclose(back.weights, from_csv.weights, atol=1e-6)
    np.testing.assert_allclose(back.head, from_csv.head, atol=1e-6)


def test_real_live_link_capture_round_trip(tmp_path, shared_data, rig):
    captures = sorted((shared_data / "livelink").glob("*/*.csv"))
    if not captures:
        pytest.skip("no Live Link captures in the shared data")
    take = read(captures[0]).slice(0, 240)
    write(take, tmp_path / "real.glb", rig=rig)
    back = read(tmp_path / "real.glb")
    assert back.fps == take.fps
    np.testing.assert_allclose(back.weights, take.weights, atol=1e-6)


def _rig_file(tmp_path, rig) -> str:
    path = tmp_path / "rig.npz"
    if not path.exists():
        save_rig_npz(rig, path)
    return str(path)


def test_gltf_json_variant_is_valid(tmp_path, anim, rig):
    write(anim, tmp_path / "take.gltf", rig=rig)
    report = validate_gltf(tmp_path / "take.gltf")
    assert report["issues"]["numErrors"] == 0, issues(report)
    np.testing.assert_allclose(read(tmp_path / "take.gltf").weights, anim.weights, atol=1e-7)


def test_ict_glb_is_valid(tmp_path, shared_data, anim):
    if not (shared_data / "ict-facekit" / "ict_facekit.npz").exists():
        pytest.skip("ICT FaceKit npz missing")
    out = tmp_path / "ict.glb"
    write(anim, out, rig="ict")
    report = validate_gltf(out)
    assert report["issues"]["numErrors"] == 0, issues(report)
    assert report["info"]["totalTriangleCount"] == 52220
    doc = _glb_json(out)
    # sparse storage: ICT's shapes move only part of the head; tongueOut moves nothing
    targets = doc["meshes"][0]["primitives"][0]["targets"]
    assert any("sparse" in doc["accessors"][t["POSITION"]] for t in targets)
    assert out.stat().st_size < 12e6


def test_default_rig_glb_is_valid(tmp_path, anim):
    try:
        rig = load_rig("default")
    except UserError:
        pytest.skip("emoface.rig.default is not available")
    write(anim, tmp_path / "default.glb")
    report = validate_gltf(tmp_path / "default.glb")
    assert report["issues"]["numErrors"] == 0, issues(report)
    assert rig.num_vertices > 0


def test_failed_export_leaves_no_file(tmp_path, anim):
    out = tmp_path / "x.glb"
    with pytest.raises(UserError):
        write(anim, out, rig=tmp_path / "missing.glb")
    assert not out.exists() and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ onto the user's GLB
def _user_glb(tmp_path):
    import pygltflib as g

    morph_glb(tmp_path / "user.glb", ["JawOpen", "mouthSmile_L", "Custom"],
              node={"translation": [0, 1.6, 0]})
    # give it what real avatars have: its own animation, an extra node, extras
    gltf = g.GLTF2().load(str(tmp_path / "user.glb"))
    blob = bytearray(gltf.binary_blob())
    times = np.array([0.0, 1.0], np.float32).tobytes()
    values = np.array([0, 0.1, 0, 1, 0, 0.1, 0, 1], np.float32).tobytes()
    start = len(blob)
    blob += times + values
    gltf.bufferViews.append(g.BufferView(buffer=0, byteOffset=start, byteLength=len(times)))
    gltf.bufferViews.append(g.BufferView(buffer=0, byteOffset=start + 8, byteLength=32))
    gltf.accessors.append(g.Accessor(bufferView=len(gltf.bufferViews) - 2, componentType=g.FLOAT,
                                     count=2, type=g.SCALAR, min=[0.0], max=[1.0]))
    gltf.accessors.append(g.Accessor(bufferView=len(gltf.bufferViews) - 1,
                                     componentType=g.FLOAT, count=2, type=g.VEC4))
    n = len(gltf.accessors)
    gltf.nodes.append(g.Node(name="Spinner"))
    gltf.scenes[0].nodes.append(len(gltf.nodes) - 1)
    gltf.animations = [g.Animation(name="idle", samplers=[
        g.AnimationSampler(input=n - 2, output=n - 1)], channels=[
        g.AnimationChannel(sampler=0, target=g.AnimationChannelTarget(node=1, path="rotation"))])]
    gltf.extras = {"author": "someone"}
    gltf.buffers[0].byteLength = len(blob)
    gltf.set_binary_blob(bytes(blob))
    gltf.save_binary(str(tmp_path / "user.glb"))
    return tmp_path / "user.glb"


def test_export_onto_user_glb_keeps_their_file(tmp_path, anim):
    user = _user_glb(tmp_path)
    before = read_gltf(user)
    export_onto_glb(anim, user, tmp_path / "out.glb",
                    mapping={"Custom": {"jawOpen": 1.0, "mouthClose": -0.3}})
    after = read_gltf(tmp_path / "out.glb")
    for key in ("meshes", "materials", "nodes", "scenes", "extras"):
        assert after.json[key] == before.json[key], key
    for i in range(len(before.json["accessors"])):  # their data, bit for bit
        np.testing.assert_array_equal(after.accessor(i), before.accessor(i))
    assert [a["name"] for a in after.json["animations"]] == ["idle", "emoface"]
    ours = after.json["animations"][1]
    (channel,) = ours["channels"]
    assert channel["target"] == {"node": 0, "path": "weights"}
    sampler = ours["samplers"][channel["sampler"]]
    values = after.accessor(sampler["output"]).reshape(anim.num_frames, 3)
    w = anim.weights
    np.testing.assert_allclose(values[:, 0], w[:, INDEX["jawOpen"]], atol=1e-7)
    np.testing.assert_allclose(values[:, 1], w[:, INDEX["mouthSmileLeft"]], atol=1e-7)
    np.testing.assert_allclose(values[:, 2], w[:, INDEX["jawOpen"]] - 0.3 *
                               w[:, INDEX["mouthClose"]], atol=1e-6)
    report = validate_gltf(tmp_path / "out.glb")
    assert report["issues"]["numErrors"] == 0, issues(report)
    assert report["info"]["animationCount"] == 2


def test_onto_via_cli_and_errors(tmp_path, anim):
    user = _user_glb(tmp_path)
    emoface.save(anim, tmp_path / "take.npz")
    assert main(["export", str(tmp_path / "take.npz"), "-o", str(tmp_path / "o.glb"),
                 "--onto", str(user)]) == 0
    back = read(tmp_path / "o.glb")  # reads our animation by the ARKit-named targets
    np.testing.assert_allclose(back.weights[:, INDEX["jawOpen"]], anim.weights[:, INDEX["jawOpen"]],
                               atol=1e-7)
    assert main(["export", str(tmp_path / "take.npz"), "-o", str(tmp_path / "o.usda"),
                 "--onto", str(user)]) == 2
    morph_glb(tmp_path / "plain.glb", ["Open", "Smile"])
    with pytest.raises(UserError, match="no shape has an ARKit name"):
        export_onto_glb(anim, tmp_path / "plain.glb", tmp_path / "p.glb")
    with pytest.raises(UserError, match="does not have"):
        export_onto_glb(anim, user, tmp_path / "p.glb", mapping={"Nope": {"jawOpen": 1}})
    assert not (tmp_path / "p.glb").exists()


# ------------------------------------------------------------------------- bad inputs
def test_mismatched_frame_counts_in_a_glb(tmp_path, anim, rig):
    write(anim, tmp_path / "take.glb", rig=rig)
    doc = read_gltf(tmp_path / "take.glb")
    sampler = doc.json["animations"][0]["samplers"][0]
    doc.json["accessors"][sampler["input"]]["count"] -= 1  # times no longer match values
    from emoface.rig.gltf_io import glb_bytes

    (tmp_path / "bad.glb").write_bytes(glb_bytes(doc.json, doc.buffers[0]))
    with pytest.raises(UserError, match="frame counts disagree"):
        read(tmp_path / "bad.glb")


def test_reading_corrupt_or_foreign_glb(tmp_path):
    (tmp_path / "junk.glb").write_bytes(b"glTF\x02\x00\x00\x00\xff\xff\x00\x00")
    with pytest.raises(UserError, match="truncated"):
        read(tmp_path / "junk.glb")
    morph_glb(tmp_path / "still.glb", ["jawOpen"])
    with pytest.raises(UserError, match="no animation"):
        read(tmp_path / "still.glb")


def test_head_quaternion_convention():
    """R = Ry(-yaw) Rx(pitch) Rz(roll): Live Link signs, Unreal's rotator order."""
    from emoface.export.scene import quaternions_to_head

    def ry(a):
        return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])

    def rx(a):
        return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])

    def rz(a):
        return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])

    head = np.random.default_rng(0).uniform(-1.2, 1.2, (20, 3))
    quats = head_quaternions(head)
    for (yaw, pitch, roll), q in zip(head, quats):
        np.testing.assert_allclose(quat_to_matrix(q), ry(-yaw) @ rx(pitch) @ rz(roll), atol=1e-9)
    np.testing.assert_allclose(quaternions_to_head(quats), head, atol=1e-9)
