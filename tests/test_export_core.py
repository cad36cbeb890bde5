"""Live Link CSV, JSON and npz writers and readers."""
import numpy as np
import pytest

from emoface.animation import Animation
from emoface.arkit import ARKIT_NAMES
from emoface.errors import UserError
from emoface.export.livelink_csv import HEADER, timecode
from emoface.outputs import read, write


@pytest.fixture
def anim():
    rng = np.random.default_rng(7)
    return Animation(rng.random((75, 52)), 30, head=rng.normal(0, 0.1, (75, 3)),
                     eyes=rng.normal(0, 0.1, (75, 6)))


def test_csv_header_is_live_link(tmp_path, anim):
    write(anim, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0].startswith("Timecode,BlendshapeCount,EyeBlinkLeft,EyeLookDownLeft,")
    assert lines[0].endswith(",TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,"
                             "LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll")
    assert ",JawForward,JawRight,JawLeft,JawOpen," in lines[0]
    assert len(lines) == 76
    for line in lines[1:]:
        cells = line.split(",")
        assert cells[1] == "61" and len(cells) == 63
    assert lines[1].split(",")[0] == "00:00:00:00.000"
    assert lines[31].split(",")[0] == "00:00:01:00.000"
    assert len(HEADER) == 63


def test_timecodes():
    assert timecode(0, 30) == "00:00:00:00.000"
    assert timecode(29, 30) == "00:00:00:29.000"
    assert timecode(89, 30) == "00:00:02:29.000"
    assert timecode(60 * 60 * 60 + 61, 60) == "01:00:01:01.000"


@pytest.mark.parametrize("ext,tol", [(".csv", 1e-6), (".json", 1e-6), (".npz", 0.0)])
def test_round_trip(tmp_path, anim, ext, tol):
    path = tmp_path / f"take{ext}"
    write(anim, path)
    back = read(path)
    assert back.fps == anim.fps and back.num_frames == anim.num_frames
    np.testing.assert_allclose(back.weights, anim.weights, atol=tol, rtol=0)
    np.testing.assert_allclose(back.head, anim.head, atol=tol, rtol=0)
    np.testing.assert_allclose(back.eyes, anim.eyes, atol=tol, rtol=0)


def test_60fps_csv_round_trip(tmp_path, anim):
    a60 = anim.resample(60)
    write(a60, tmp_path / "t.csv")
    back = read(tmp_path / "t.csv")
    assert back.fps == 60 and back.num_frames == a60.num_frames


def test_reads_a_real_live_link_capture(shared_data):
    from conftest import need

    take = read(need(shared_data / "livelink" / "sad" / "MySlate_167_iPhone_cal.csv"))
    assert take.fps == pytest.approx(60, rel=0.02)
    assert 25 < take.duration < 35
    assert take.channel("browDownLeft").mean() > 0.1  # the sad take lowers the brows


def test_unknown_extension_and_bad_files(tmp_path, anim):
    with pytest.raises(UserError):
        write(anim, tmp_path / "t.xyz")
    (tmp_path / "bad.csv").write_text("hello,world\n1,2\n")
    with pytest.raises(UserError):
        read(tmp_path / "bad.csv")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UserError):
        read(tmp_path / "bad.json")
    (tmp_path / "bad.npz").write_bytes(b"\x00" * 100)
    with pytest.raises(UserError):
        read(tmp_path / "bad.npz")
    with pytest.raises(UserError):
        read(tmp_path / "missing.csv")


def test_failed_write_leaves_nothing(tmp_path, anim):
    target = tmp_path / "t.csv"

    bad = Animation(anim.weights, 30)
    bad.weights = None  # the writer will fail half way
    with pytest.raises(TypeError):
        write(bad, target)
    assert list(tmp_path.iterdir()) == []


def test_json_channels_matched_by_name(tmp_path, anim):
    import json

    write(anim, tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text())
    order = list(reversed(range(52)))
    doc["names"] = [ARKIT_NAMES[i] for i in order]
    doc["frames"] = [[row[i] for i in order] for row in doc["frames"]]
    (tmp_path / "r.json").write_text(json.dumps(doc))
    np.testing.assert_allclose(read(tmp_path / "r.json").weights, anim.weights, atol=1e-7)
