"""Rigs from files: OBJ folders, glTF/GLB with morph targets, npz; bad inputs."""
import numpy as np
import pytest
from rig_fixtures import grid, morph_glb, synthetic_rig, write_obj

from emoface.arkit import INDEX
from emoface.errors import UserError
from emoface.rig import load_rig
from emoface.rig.gltf_io import quat_to_matrix
from emoface.rig.npz import save_rig_npz
from emoface.rig.obj import read_obj


# ---------------------------------------------------------------------------------- OBJ
def test_obj_reader_polygons_uvs_normals_materials(tmp_path):
    (tmp_path / "m.obj").write_text(
        "# quad and triangle\n"
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 2 0 0\n"
        "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n"
        "vn 0 0 1\n"
        "usemtl skin\n"
        "f 1/1/1 2/2/1 3/3/1 4/4/1\n"
        "usemtl lips\n"
        "f -4//1 -1//1 -3//1\n")  # negative indices count back from the last vertex
    mesh = read_obj(tmp_path / "m.obj")
    assert mesh.positions.shape == (5, 3)
    assert mesh.triangles.tolist() == [[0, 1, 2], [0, 2, 3], [1, 4, 2]]
    assert mesh.triangle_material.tolist() == [0, 0, 1]
    assert mesh.material_names == ["skin", "lips"]
    assert mesh.uvs[2].tolist() == [1.0, 1.0]
    assert mesh.normals is not None and np.allclose(mesh.normals[:, 2], 1)


def test_obj_reader_rejects_garbage(tmp_path):
    (tmp_path / "bad.obj").write_text("v 1 2 three\n")
    with pytest.raises(UserError, match="not a readable OBJ"):
        read_obj(tmp_path / "bad.obj")
    (tmp_path / "out.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")
    with pytest.raises(UserError, match="only 3 exist"):
        read_obj(tmp_path / "out.obj")


def _obj_folder(folder, neutral_name="neutral.obj", shapes=("jawOpen", "mouthSmile_L"),
                seed=0):
    folder.mkdir()
    verts, tris = grid(4)
    write_obj(folder / neutral_name, verts, tris)
    rng = np.random.default_rng(seed)
    deltas = {}
    for name in shapes:
        deltas[name] = rng.normal(0, 0.3, verts.shape).astype(np.float32)
        write_obj(folder / f"{name}.obj", verts + deltas[name], tris)
    return verts, tris, deltas


def test_obj_folder_rig(tmp_path):
    verts, tris, deltas = _obj_folder(tmp_path / "face")
    # Shapes nothing drives are skipped without being read: this one is not even an OBJ.
    (tmp_path / "face" / "identity000.obj").write_text("not an obj at all")
    rig = load_rig(tmp_path / "face")
    assert rig.shape_names == ["jawOpen", "mouthSmile_L"]
    assert rig.meta["unused_shapes"] == ["identity000"]
    assert rig.units == "cm"  # 16 x 20 units across: a head in centimetres
    np.testing.assert_allclose(rig.neutral, verts, atol=1e-6)
    np.testing.assert_allclose(rig.deltas[0], deltas["jawOpen"], atol=1e-5)
    assert rig.triangles.tolist() == tris.tolist()
    w = np.zeros(52, np.float32)
    w[INDEX["mouthSmileLeft"]] = 0.5
    np.testing.assert_allclose(rig.evaluate(w), verts + 0.5 * deltas["mouthSmile_L"], atol=1e-5)


def test_ict_folder_layout_splits_unsided_shapes(tmp_path):
    _obj_folder(tmp_path / "FaceXModel", "generic_neutral_mesh.obj",
                shapes=("browInnerUp_L", "browInnerUp_R", "eyeBlink_L"))
    rig = load_rig(tmp_path / "FaceXModel")
    assert rig.meta["neutral"] == "generic_neutral_mesh.obj"
    col = rig.mapping[:, INDEX["browInnerUp"]]
    assert col.tolist() == [1.0, 1.0, 0.0]  # both halves follow the one ARKit channel
    assert rig.mapping[2, INDEX["eyeBlinkLeft"]] == 1.0


def test_obj_folder_errors(tmp_path):
    _obj_folder(tmp_path / "a")
    verts, _ = grid(3)
    write_obj(tmp_path / "a" / "jawOpen.obj", verts)  # 9 vertices against 16
    with pytest.raises(UserError, match="same topology|share the neutral"):
        load_rig(tmp_path / "a")
    (tmp_path / "b").mkdir()
    write_obj(tmp_path / "b" / "jawOpen.obj", verts)
    with pytest.raises(UserError, match="no neutral mesh"):
        load_rig(tmp_path / "b")
    _obj_folder(tmp_path / "c", shapes=("Smile", "Blink"))
    with pytest.raises(UserError, match="no shape has an ARKit name; give a mapping"):
        load_rig(tmp_path / "c")


# ---------------------------------------------------------------------------------- glTF
def test_gltf_rig_merges_primitives_and_applies_node_transform(tmp_path):
    names = ["jawOpen", "MouthSmileLeft", "eyeBlink_R", "customShape"]
    turn = [0.0, np.sin(np.pi / 4), 0.0, np.cos(np.pi / 4)]  # 90 degrees about +Y
    src = morph_glb(tmp_path / "head.glb", names,
                    node={"translation": [0.0, 1.5, 0.0], "rotation": turn, "scale": [2, 2, 2]})
    rig = load_rig(tmp_path / "head.glb")
    assert rig.units == "m"
    assert rig.shape_names == ["jawOpen", "MouthSmileLeft", "eyeBlink_R"]  # customShape: unused
    assert rig.mapping[1, INDEX["mouthSmileLeft"]] == 1.0
    order = np.concatenate(src["layout"])  # primitives are appended in file order
    assert rig.num_vertices == len(order)
    lin = 2 * quat_to_matrix(np.array(turn))
    np.testing.assert_allclose(rig.neutral, src["verts"][order] @ lin.T + [0, 1.5, 0],
                               atol=1e-6)
    np.testing.assert_allclose(rig.deltas[0], src["deltas"][0][order] @ lin.T, atol=1e-6)
    assert len(rig.triangles) == len(src["tris"])
    assert rig.meta["material_names"] == ["skin", "mouth"]
    assert set(np.unique(rig.triangle_material)) == {0, 1}


def test_gltf_rig_names_on_primitive_and_mapping(tmp_path, tmp_path_factory):
    morph_glb(tmp_path / "p.glb", ["Open", "Smile"], names_on="primitive", two_primitives=False)
    with pytest.raises(UserError, match="no shape has an ARKit name"):
        load_rig(tmp_path / "p.glb")
    mapping = {"Open": {"jawOpen": 1.0, "mouthClose": -0.3},
               "Smile": {"mouthSmileLeft": 0.5, "MouthSmileRight": 0.5}}
    rig = load_rig(tmp_path / "p.glb", mapping=mapping)
    assert rig.shape_names == ["Open", "Smile"]
    w = np.zeros(52, np.float32)
    w[INDEX["jawOpen"]], w[INDEX["mouthClose"]] = 0.8, 0.5
    assert rig.shape_weights(w).tolist() == pytest.approx([0.8 - 0.15, 0.0])


def test_gltf_rig_unnamed_targets_need_a_mapping(tmp_path):
    morph_glb(tmp_path / "u.glb", ["a", "b"], names_on="none", two_primitives=False)
    with pytest.raises(UserError, match="give a mapping"):
        load_rig(tmp_path / "u.glb")
    rig = load_rig(tmp_path / "u.glb", mapping={"target1": {"jawOpen": 1}})
    assert rig.shape_names == ["target1"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bad_json", "empty"])
def test_corrupt_glb_is_a_user_error(tmp_path, damage):
    morph_glb(tmp_path / "ok.glb", ["jawOpen"])
    raw = (tmp_path / "ok.glb").read_bytes()
    bad = {"garbage": b"\x00\x01not a glb at all",
           "truncated": raw[: len(raw) // 2],
           "bad_json": raw[:20] + b"{{{" + raw[23:],
           "empty": b""}[damage]
    (tmp_path / "bad.glb").write_bytes(bad)
    with pytest.raises(UserError):
        load_rig(tmp_path / "bad.glb")


def test_glb_without_morph_targets(tmp_path):
    import pygltflib as g

    gltf = g.GLTF2(scenes=[g.Scene(nodes=[])], scene=0)
    gltf.save_binary(str(tmp_path / "empty.glb"))
    with pytest.raises(UserError, match="no mesh with morph targets"):
        load_rig(tmp_path / "empty.glb")


# ------------------------------------------------------------------------- npz and specs
def test_npz_rig_round_trip(tmp_path):
    rig = synthetic_rig()
    rig.regions["lips"] = np.array([1, 2, 3])
    save_rig_npz(rig, tmp_path / "r.npz")
    back = load_rig(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.deltas, rig.deltas)
    np.testing.assert_array_equal(back.mapping, rig.mapping)
    assert back.shape_names == rig.shape_names and back.units == "cm"
    assert back.regions["lips"].tolist() == [1, 2, 3]
    assert back.meta["material_names"] == ["face", "mouth_interior"]


def test_bad_specs(tmp_path):
    with pytest.raises(UserError, match="no such rig"):
        load_rig(tmp_path / "missing.glb")
    (tmp_path / "x.fbx").write_bytes(b"x")
    with pytest.raises(UserError, match="unknown extension"):
        load_rig(tmp_path / "x.fbx")
    (tmp_path / "one.obj").write_text("v 0 0 0\n")
    with pytest.raises(UserError, match="single mesh"):
        load_rig(tmp_path / "one.obj")
    (tmp_path / "bad.npz").write_bytes(b"PK nope")
    with pytest.raises(UserError, match="not a readable .npz rig"):
        load_rig(tmp_path / "bad.npz")


def test_default_rig_or_clear_error():
    try:
        rig = load_rig("default")
    except UserError as exc:
        assert "default rig" in str(exc)
        return
    assert rig.mapping.any() and rig.num_vertices > 0


def test_skinned_glb_rig_is_posed_by_its_skin_and_keeps_uvs(tmp_path):
    from emoface.rig.gltf_io import BinaryBuilder, glb_bytes, read_gltf

    src = morph_glb(tmp_path / "s.glb", ["jawOpen"], two_primitives=False,
                    node={"translation": [5.0, 0.0, 0.0]})  # ignored once skinned (spec)
    doc = read_gltf(tmp_path / "s.glb")
    js = doc.json
    bb = BinaryBuilder(js, prefix=doc.buffers[0])
    (prim,) = js["meshes"][0]["primitives"]
    v = js["accessors"][prim["attributes"]["POSITION"]]["count"]
    prim["attributes"]["JOINTS_0"] = bb.accessor(np.zeros((v, 4), np.uint8), "VEC4")
    prim["attributes"]["WEIGHTS_0"] = bb.accessor(
        np.tile(np.float32([1, 0, 0, 0]), (v, 1)), "VEC4")
    uv = np.random.default_rng(0).random((v, 2)).astype(np.float32)
    prim["attributes"]["TEXCOORD_0"] = bb.accessor(uv, "VEC2")
    js["nodes"].append({"name": "jaw_joint", "translation": [0.0, 1.0, 0.0]})
    js["nodes"][0]["skin"] = 0
    js["skins"] = [{"joints": [1]}]
    js["scenes"][0]["nodes"].append(1)
    (tmp_path / "skinned.glb").write_bytes(glb_bytes(js, bb.data()))
    rig = load_rig(tmp_path / "skinned.glb")
    order = src["layout"][0]
    np.testing.assert_allclose(rig.neutral, src["verts"][order] + [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(rig.uvs[:, 1], 1 - uv[:, 1], atol=1e-6)  # v flipped to point up
