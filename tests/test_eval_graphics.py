"""The render and export benchmark, tiny: every row it reports is there and sane (timings
are reported, never asserted)."""
import json

import numpy as np
import pytest

from emoface.cli import main
from emoface.eval import graphics


def test_smooth_animation_moves_every_shape_and_both_rotations():
    anim = graphics.smooth_animation(60)
    assert anim.num_frames == 60 and anim.fps == 30.0
    assert (anim.weights.std(0) > 0.01).all()
    assert np.abs(anim.head).max() > 0.01 and np.abs(anim.eyes).max() > 0.01
    assert 0.0 <= anim.weights.min() and anim.weights.max() <= 1.0


def test_export_rows_read_back_what_was_written():
    rows = graphics.export_speed("default", seconds=0.5, repeat=1, formats=(".glb", ".usda"))
    assert [r["format"] for r in rows] == [".glb", ".usda"]
    for r in rows:
        assert "error" not in r, r
        assert r["frames"] == 15 and r["frames_read"] == 15
        assert r["max_error"] < 1e-5
        assert r["mb"] > 0.1            # the mesh and its shapes travel with the curves
        assert r["write_s"] > 0 and r["read_s"] >= 0


def test_render_row_and_the_command_line(capsys):
    pytest.importorskip("moderngl")
    pytest.importorskip("imageio_ffmpeg")
    row = graphics.render_speed("default", size=64, frames=4, repeat=1, video=True)
    assert row["vertices"] > 1000 and row["triangles"] > 1000
    assert row["render_fps"] > 0 and row["draw_fps"] > 0 and row["video_fps"] > 0
    assert main(["dev", "graphics", "all", "--json", "--rigs", "default,nope", "--size", "64",
                 "--frames", "3", "--repeat", "1", "--seconds", "0.2", "--no-video"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["rig"] for r in out["render"]] == ["default", "nope"]
    assert "error" in out["render"][1] and "no such rig" in out["render"][1]["error"]
    assert {r["format"] for r in out["export"] if r["rig"] == "default"} == {".glb", ".usd",
                                                                              ".usda"}
