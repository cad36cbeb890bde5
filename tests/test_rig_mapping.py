"""Retargeting: name normalisation plus user mapping files; and the ICT FaceKit rig."""
import json

import numpy as np
import pytest
from rig_fixtures import synthetic_rig

from emoface.arkit import INDEX
from emoface.errors import UserError
from emoface.rig import load_rig, with_mapping
from emoface.rig.mapping import build_mapping, load_mapping


def test_by_name_mapping_folds_spellings():
    m = build_mapping(["JawOpen", "mouth_smile_L", "cheekPuff_R", "eyeBlink.R", "nose"])
    assert m[0, INDEX["jawOpen"]] == 1 and m[1, INDEX["mouthSmileLeft"]] == 1
    assert m[2, INDEX["cheekPuff"]] == 1 and m[3, INDEX["eyeBlinkRight"]] == 1
    assert not m[4].any()


def test_mapping_file_blends_channels(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"identity000": {"jawOpen": 1.0, "MouthClose": -0.3},
                                "jawOpen": {"jawOpen": 0.5}}))
    rig = load_rig(synthetic_rig(), mapping=path)
    w = np.zeros(52, np.float32)
    w[INDEX["jawOpen"]], w[INDEX["mouthClose"]] = 1.0, 0.5
    sw = rig.shape_weights(w)
    assert sw[rig.shape_names.index("identity000")] == pytest.approx(1.0 - 0.15)
    assert sw[rig.shape_names.index("jawOpen")] == pytest.approx(0.5)  # overridden
    assert sw[rig.shape_names.index("mouthSmile_L")] == 0.0  # by name, not driven here
    expected = rig.neutral + 0.85 * rig.deltas[5] + 0.5 * rig.deltas[0]
    np.testing.assert_allclose(rig.evaluate(w), expected, atol=1e-5)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "a mapping is a JSON object"),
    ('{"jawOpen": 1.0}', "must map to an object"),
    ('{"x": {"jawWide": 1.0}}', "not an ARKit blendshape name"),
    ('{"x": {"jawOpen": "lots"}}', "must be a number"),
])
def test_bad_mapping_files(tmp_path, text, message):
    (tmp_path / "m.json").write_text(text)
    with pytest.raises(UserError, match=message):
        load_mapping(tmp_path / "m.json")


def test_mapping_errors_against_a_rig(tmp_path):
    with pytest.raises(UserError, match="no such mapping file"):
        load_mapping(tmp_path / "missing.json")
    with pytest.raises(UserError, match="does not have: 'Jaw_Opn'"):
        with_mapping(synthetic_rig(), {"Jaw_Opn": {"jawOpen": 1}})
    with pytest.raises(UserError, match="no shape has an ARKit name"):
        build_mapping(["a", "b"], None, "test rig")


def test_ict_rig(shared_data):
    if not (shared_data / "ict-facekit" / "ict_facekit.npz").exists():
        pytest.skip("ICT FaceKit npz missing")
    rig = load_rig("ict")
    assert rig.num_vertices == 26719 and len(rig.shape_names) == 57
    assert rig.units == "cm"
    assert rig.mapping[:, INDEX["browInnerUp"]].sum() == 2  # _L and _R halves
    assert not rig.mapping[:, INDEX["tongueOut"]].any()  # ICT has no tongue shape
    assert len(rig.meta["material_names"]) == int(rig.triangle_material.max()) + 1
    remapped = load_rig("ict", mapping={"PupilDilate_L": {"eyeWideLeft": 0.2}})
    assert remapped.mapping[0, INDEX["eyeWideLeft"]] == pytest.approx(0.2)
