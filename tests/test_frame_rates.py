"""Frame rates of written takes: a Live Link CSV at the phone's 60 fps by default, and
``emoface export --fps`` resampling a take (docs/live-outputs.md, "Frame rates")."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emoface.animation import Animation
from emoface.cli import main
from emoface.outputs import read, write


@pytest.fixture
def tone(tmp_path):
    sr = 16000
    t = np.arange(sr) / sr
    path = tmp_path / "tone.wav"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 140 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)), sr)
    return path


@pytest.mark.parametrize("output, args, fps", [
    ("x.csv", [], 60.0),                 # a lone Live Link CSV: the phone's rate
    ("x.csv", ["--fps", "30"], 30.0),    # asked for: kept
    ("x.json", [], 30.0),                # every other format: 30 as before
])
def test_default_rate_follows_the_output(tmp_path, tone, output, args, fps):
    out = tmp_path / output
    assert main(["animate", str(tone), "-o", str(out), "--engine", "loudness-jaw",
                 "--emotion", "neutral", *args]) == 0
    anim = read(out)
    assert anim.fps == fps and anim.num_frames == round(fps)


def test_mixed_outputs_share_one_rate(tmp_path, tone):
    assert main(["animate", str(tone), "-o", f"{tmp_path}/takes/", "--engine", "loudness-jaw",
                 "--emotion", "neutral"]) == 0
    rates = {p.suffix: read(p).fps for p in (tmp_path / "takes").iterdir()}
    assert rates == {".csv": 30.0, ".json": 30.0, ".npz": 30.0}


def test_export_resamples_a_take(tmp_path, tone):
    take = tmp_path / "take.npz"
    assert main(["animate", str(tone), "-o", str(take), "--engine", "rules",
                 "--emotion", "happy"]) == 0
    src = read(take)
    assert main(["export", str(take), "--fps", "60", "-o", str(tmp_path / "t60.csv")]) == 0
    up = read(tmp_path / "t60.csv")
    assert up.fps == 60 and up.num_frames == 2 * src.num_frames
    # every other frame is a source frame; the ones between lie between their neighbours
    assert np.abs(up.weights[::2] - src.weights).max() < 1e-6
    mid = up.weights[1:-1:2]
    lo, hi = np.minimum(src.weights[:-1], src.weights[1:]), np.maximum(src.weights[:-1], src.weights[1:])
    assert (mid >= lo - 1e-6).all() and (mid <= hi + 1e-6).all()
    assert np.abs(up.head[::2] - src.head).max() < 1e-6
    assert main(["export", str(take), "--fps", "25", "-o", str(tmp_path / "t25.json")]) == 0
    film = read(tmp_path / "t25.json")
    assert film.fps == 25 and film.num_frames == round(src.duration * 25)


@pytest.mark.parametrize("fps", ["0", "-5", "abc", "1000"])
def test_export_bad_rate_is_one_line(tmp_path, fps, capsys):
    take = tmp_path / "take.npz"
    write(Animation(np.zeros((10, 52)), 30.0), take)
    with pytest.raises(SystemExit) as stop:
        main(["export", str(take), "--fps", fps, "-o", str(tmp_path / "y.csv")])
    assert stop.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "y.csv").exists()
