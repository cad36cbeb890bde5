"""Rendering: frames that show what the weights say, preview videos with their audio,
side-by-side comparisons, curve plots, and one-line errors for bad inputs."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import need

import emoface
from emoface.animation import Animation
from emoface.arkit import INDEX
from emoface.cli import main
from emoface.errors import UserError
from emoface.rig.default import load_default_rig

pytest.importorskip("moderngl")
pytest.importorskip("imageio_ffmpeg")

SR = 16000


@pytest.fixture(scope="module")
def rig():
    return load_default_rig()


@pytest.fixture(scope="module")
def renderer(rig):
    from emoface.render.scene import FaceRenderer

    r = FaceRenderer(rig, 128, "front")
    yield r
    r.release()


def _w(**named):
    w = np.zeros(52, np.float32)
    for k, v in named.items():
        w[INDEX[k]] = v
    return w


def _anim(frames=30, fps=30.0, **extra) -> Animation:
    w = np.zeros((frames, 52), np.float32)
    w[:, INDEX["jawOpen"]] = 0.5 * (1 - np.cos(np.linspace(0, 4 * np.pi, frames))) / 2
    return Animation(w, fps, **extra)


@pytest.fixture()
def wav(tmp_path):
    import soundfile

    path = tmp_path / "speech.wav"
    t = np.arange(SR) / SR   # exactly 1.0 s
    soundfile.write(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), SR)
    return path


def _regions(img):
    """Mouth area and eye band of a 128-px front view of the default head."""
    h, w = img.shape[:2]
    mouth = img[int(0.62 * h):int(0.85 * h), int(0.3 * w):int(0.7 * w)].astype(float)
    eyes = img[int(0.28 * h):int(0.45 * h), int(0.2 * w):int(0.8 * w)].astype(float)
    return mouth, eyes


def test_frames_show_the_mouth_opening(renderer):
    closed = renderer.render(_w())
    opened = renderer.render(_w(jawOpen=0.8))
    assert closed.shape == (128, 128, 3) and closed.dtype == np.uint8
    assert closed.std() > 20                                     # not blank
    m0, e0 = _regions(closed)
    m1, e1 = _regions(opened)
    assert np.abs(m1 - m0).mean() > 8                            # the mouth changed
    assert np.abs(e1 - e0).mean() < 1                            # the eyes did not


def test_blink_eyes_and_head_rotation_change_the_picture(renderer):
    base = renderer.render(_w())
    _, e0 = _regions(base)
    _, e1 = _regions(renderer.render(_w(eyeBlinkLeft=1, eyeBlinkRight=1)))
    assert np.abs(e1 - e0).mean() > 3
    _, e2 = _regions(renderer.render(_w(), eyes=[0.4, 0, 0, 0.4, 0, 0]))
    assert np.abs(e2 - e0).mean() > 1
    turned = renderer.render(_w(), head=[0.3, 0.0, 0.0])
    assert np.abs(turned.astype(float) - base).mean() > 5


def test_head_yaw_follows_live_link_signs(renderer):
    """yaw > 0 turns the face toward -X, the character's right, the viewer's left."""
    from emoface.render.scene import rotation

    forward = rotation(0.3, 0.0, 0.0) @ np.array([0.0, 0.0, 1.0])
    assert forward[0] < 0
    down = rotation(0.0, 0.3, 0.0) @ np.array([0.0, 0.0, 1.0])
    assert down[1] < 0                                           # pitch > 0 looks down


def test_ict_rig_renders(shared_data):
    need(shared_data / "ict-facekit" / "ict_facekit.npz")
    from emoface.render.scene import FaceRenderer
    from emoface.rig import load_rig

    r = FaceRenderer(load_rig("ict"), 96, "three-quarter")
    try:
        a, b = r.render(_w()), r.render(_w(jawOpen=1.0))
    finally:
        r.release()
    assert a.std() > 20
    assert np.abs(a.astype(float) - b).max() > 50


def test_mp4_has_h264_and_aac_lasting_as_long_as_the_audio(tmp_path, wav):
    from emoface.render.video import probe, write_mp4

    for frames in (30, 21, 40):   # equal, shorter and longer than the 1 s of audio
        out = tmp_path / f"take{frames}.mp4"
        write_mp4(_anim(frames), out, audio=wav, size=64)
        info = probe(out)
        assert info["video"] == "h264" and info["audio"] == "aac"
        assert info["size"] == (64, 64)
        assert abs(info["video_seconds"] - 1.0) < 0.1, info
        assert abs(info["audio_seconds"] - 1.0) < 0.1, info


def test_mp4_writer_is_registered(tmp_path, wav):
    import emoface.render  # noqa: F401  registers .mp4
    from emoface.outputs import write

    out = tmp_path / "take.mp4"
    write(_anim(), out, audio=str(wav), size=64, view="front")
    assert out.stat().st_size > 1000
    with pytest.raises(UserError, match="audio"):
        write(_anim(), tmp_path / "silent.mp4", size=64)
    assert not (tmp_path / "silent.mp4").exists()


def test_compare_layout(tmp_path, wav):
    from emoface.render.video import comparison_layout, probe

    out = tmp_path / "cmp.mp4"
    paths = []
    for k in range(3):
        p = tmp_path / f"a{k}.npz"
        emoface.save(_anim(30), p)
        paths.append(str(p))
    code = main(["render", paths[0], "--compare", *paths[1:], "--labels", "one", "two", "three",
                 "--audio", str(wav), "-o", str(out), "--size", "64"])
    assert code == 0
    cols, rows, panel_h, strip = comparison_layout(3, 64, labelled=True)
    assert (cols, rows) == (3, 1) and strip > 0
    info = probe(out)
    assert info["size"] == (3 * 64, panel_h)
    assert abs(info["video_seconds"] - 1.0) < 0.1
    assert comparison_layout(6, 64, True)[:2] == (4, 2)


def test_compare_rejects_mismatched_frame_counts(tmp_path, wav, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    emoface.save(_anim(30), a)
    emoface.save(_anim(31), b)
    out = tmp_path / "cmp.mp4"
    code = main(["render", str(a), "--compare", str(b), "--audio", str(wav), "-o", str(out),
                 "--size", "64"])
    err = capsys.readouterr().err
    assert code == 2 and "same number of frames" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".cmp.mp4*"))


@pytest.mark.parametrize("case", ["no_audio", "missing_audio", "not_audio", "bad_anim",
                                  "missing_anim", "bad_ext", "labels"])
def test_bad_inputs_are_one_line_errors(tmp_path, wav, capsys, case):
    anim = tmp_path / "take.npz"
    emoface.save(_anim(30), anim)
    out = tmp_path / "out.mp4"
    args = ["render", str(anim), "--audio", str(wav), "-o", str(out), "--size", "64"]
    if case == "no_audio":
        args = ["render", str(anim), "-o", str(out), "--size", "64"]
    elif case == "missing_audio":
        args[3] = str(tmp_path / "nope.wav")
    elif case == "not_audio":
        junk = tmp_path / "junk.wav"
        junk.write_bytes(b"this is not audio at all" * 100)
        args[3] = str(junk)
    elif case == "bad_anim":
        bad = tmp_path / "bad.npz"
        bad.write_bytes(b"garbage")
        args[1] = str(bad)
    elif case == "missing_anim":
        args[1] = str(tmp_path / "missing.npz")
    elif case == "bad_ext":
        out = tmp_path / "out.avi"
        args[5] = str(out)
    elif case == "labels":
        args += ["--labels", "a", "b"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("emoface: error:") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_silent_video_when_asked(tmp_path):
    from emoface.render.video import probe

    anim = tmp_path / "take.npz"
    emoface.save(_anim(15), anim)
    out = tmp_path / "silent.mp4"
    assert main(["render", str(anim), "--silent", "-o", str(out), "--size", "64"]) == 0
    info = probe(out)
    assert info["video"] == "h264" and info["audio"] is None
    assert abs(info["video_seconds"] - 0.5) < 0.1


def test_still_png(tmp_path):
    from PIL import Image

    anim = tmp_path / "take.npz"
    emoface.save(_anim(30), anim)
    out = tmp_path / "still.png"
    assert main(["render", str(anim), "-o", str(out), "--size", "96", "--frame", "7"]) == 0
    assert Image.open(out).size == (96, 96)


def test_compare_png_puts_one_frame_of_each_side_by_side(tmp_path, capsys):
    from PIL import Image

    from emoface.render.video import comparison_layout

    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    emoface.save(_anim(30), a)
    shut = _anim(20)
    shut.weights[:] = 0.0
    emoface.save(shut, b)
    out = tmp_path / "pair.png"
    assert main(["render", str(a), "--compare", str(b), "-o", str(out), "--size", "96",
                 "--frame", "7", "--view", "front"]) == 0
    cols, rows, panel_h, _ = comparison_layout(2, 96, True)
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (rows * panel_h, cols * 96, 3)
    left, right = img[:96, :96], img[:96, 96:]
    assert np.abs(left - right).mean() > 0.5          # the open face and the shut one differ
    # a frame past the shorter animation: one line, exit 2, no file
    late = tmp_path / "late.png"
    assert main(["render", str(a), "--compare", str(b), "-o", str(late), "--frame", "25"]) == 2
    err = capsys.readouterr().err
    assert "outside the animation (0 to 19)" in err and not late.exists()


def test_plot_writes_a_png(tmp_path, wav):
    from PIL import Image

    anim = _anim(30, head=np.zeros((30, 3), np.float32),
                 meta={"phones": [[0.0, 0.2, "SIL"], [0.2, 0.5, "M"], [0.5, 0.9, "AA"]]})
    path = tmp_path / "take.npz"
    emoface.save(anim, path)
    out = tmp_path / "curves.png"
    assert main(["plot", str(path), "--audio", str(wav), "-o", str(out)]) == 0
    img = Image.open(out)
    assert img.format == "PNG" and img.size[0] > 600
    phones = tmp_path / "phones.txt"
    phones.write_text("0.0 0.3 HH\n0.3 0.8 AY\n")
    out2 = tmp_path / "curves2.png"
    assert main(["plot", str(path), "--phones", str(phones), "-o", str(out2)]) == 0
    assert out2.stat().st_size > 1000
