"""Damaged and hostile input a user meets: files cut short or full of garbage, outputs
nobody can write, out-of-range options, batches where one file fails."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_cli import assert_user_error, run


def _voice(seconds: float, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 8))
    return (0.1 * buzz * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.fixture
def mp3(tmp_path) -> Path:
    path = tmp_path / "whole.mp3"
    try:
        sf.write(path, _voice(3.0), 16000, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError) as exc:
        pytest.skip(f"this libsndfile writes no mp3: {exc}")
    return path


def test_a_truncated_mp3_is_read_as_far_as_it_goes_with_one_warning(mp3, tmp_path):
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 3])
    result = run("animate", cut, "-o", tmp_path / "take.npz", "--engine", "neutral")
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warning) == 1 and warning[0].startswith("emoface: warning: audio file")
    assert "truncated" in warning[0] and "could be read" in warning[0]
    with np.load(tmp_path / "take.npz") as z:
        seconds = len(z["weights"]) / float(z["fps"])
    assert 0.5 < seconds < 1.6          # about a third of 3 s, never the 3 s the header says


def test_a_good_mp3_leaves_the_decoders_chatter_off_the_terminal(mp3, tmp_path):
    result = run("animate", mp3, "-o", tmp_path / "take.csv", "--engine", "neutral")
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_voice_emotion_json_stays_json_on_a_truncated_mp3(mp3, tmp_path):
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 3])
    result = run("emotion", cut, "--json")
    if "not installed" in result.stderr:
        pytest.skip("voice emotion model not installed")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)          # bare NaN would not parse
    assert np.isfinite(record["intensity"]) and abs(sum(record["probs"].values()) - 1) < 1e-2


def test_a_wav_cut_to_half_its_bytes_says_so(tmp_path):
    whole = tmp_path / "whole.wav"
    sf.write(whole, _voice(2.0), 16000, subtype="PCM_16")
    half = tmp_path / "half.wav"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = run("animate", half, "-o", tmp_path / "take.csv", "--engine", "neutral")
    assert result.returncode == 0
    assert result.stderr.count("\n") == 1 and "truncated: its header promises 2.00 s" in result.stderr


def test_samples_of_garbage_are_refused(tmp_path):
    x = _voice(1.0)
    x[8000:8100] = 3e38
    path = tmp_path / "garbage.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    out = tmp_path / "out"
    out.mkdir()
    result = run("animate", path, "-o", out / "take.csv")
    assert_user_error(result, out, set())
    assert "invalid samples" in result.stderr and "0.50 s" in result.stderr


def test_the_wav_header_reader_finds_the_promised_length(tmp_path):
    from emoface.audio.io import _declared_wav_seconds

    path = tmp_path / "a.wav"
    sf.write(path, np.zeros(24000, np.float32), 16000, subtype="PCM_16")
    assert _declared_wav_seconds(path) == pytest.approx(1.5)
    raw = path.read_bytes()
    path.write_bytes(raw[:28] + struct.pack("<I", 0) + raw[32:])   # byte rate 0: unknown
    assert _declared_wav_seconds(path) is None
    (tmp_path / "b.wav").write_bytes(b"not a riff file at all")
    assert _declared_wav_seconds(tmp_path / "b.wav") is None


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
@pytest.mark.parametrize("command", [["animate", "{wav}", "-o", "/proc/x.csv"],
                                     ["say", "hello there", "-o", "/proc/x.csv"],
                                     ["export", "{npz}", "-o", "/proc/x.glb"]])
def test_an_output_that_cannot_be_created_is_one_line(tmp_path, command):
    wav = tmp_path / "a.wav"
    sf.write(wav, _voice(1.0), 16000)
    npz = tmp_path / "a.npz"
    assert run("animate", wav, "-o", npz, "--engine", "neutral").returncode == 0
    before = {p.name for p in tmp_path.iterdir()}
    args = [a.format(wav=wav, npz=npz) for a in command]
    result = run(*args)
    assert_user_error(result, tmp_path, before)
    assert "cannot write '/proc/x." in result.stderr


@pytest.mark.parametrize("option, value", [("--seed", "-1"), ("--seed", "4294967296"),
                                           ("--seed", "1.5"), ("--fps", "0")])
def test_out_of_range_options_are_refused_before_any_work(tmp_path, option, value):
    result = run("animate", tmp_path / "missing.wav", "-o", tmp_path / "x.csv", option, value)
    assert_user_error(result, tmp_path, set())
    assert option in result.stderr


def test_the_python_api_refuses_a_bad_seed():
    import emoface
    from emoface.errors import UserError

    with pytest.raises(UserError, match="seed must be a whole number from 0 to 4294967295"):
        emoface.animate(_voice_speech(), engine="neutral", seed=-1)


def _voice_speech():
    from emoface.audio.speech import Speech

    return Speech(_voice(1.0), 16000, source="voice")


def test_a_batch_writes_every_good_file_and_exits_1_when_one_fails(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "good.wav", _voice(1.0), 16000)
    (folder / "bad.wav").write_text("not audio")
    result = run("animate", folder, "-o", tmp_path / "out/", "--engine", "neutral")
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line] == [
        line for line in result.stderr.splitlines() if line.startswith("emoface: skipped bad.wav")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "good.csv", "good.json", "good.npz"]
    assert "exit status: 0 everything written; 1" in run("animate", "--help").stdout


def _ffmpeg(*args) -> None:
    import subprocess

    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", *map(str, args)],
                   check=True)


def test_formats_libsndfile_cannot_read_are_decoded_by_ffmpeg(tmp_path):
    from emoface.audio.io import audio_duration, load_audio

    wav = tmp_path / "memo.wav"
    sf.write(wav, _voice(2.0), 16000)
    m4a = tmp_path / "memo.m4a"
    _ffmpeg("-i", wav, "-c:a", "aac", "-b:a", "96k", m4a)
    x, y = load_audio(wav), load_audio(m4a)
    assert abs(audio_duration(m4a) - 2.0) < 0.05 and abs(len(y) - len(x)) < 0.05 * 16000
    n = min(len(x), len(y))
    env = [np.abs(a[:n]).reshape(-1, 160).mean(1) for a in (x, y)]
    lag = max(range(-5, 6), key=lambda k: np.corrcoef(np.roll(env[0], k), env[1])[0, 1])
    assert np.corrcoef(np.roll(env[0], lag), env[1])[0, 1] > 0.95    # the same speech
    result = run("animate", m4a, "-o", tmp_path / "take.csv", "--engine", "neutral")
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_video_without_sound_is_one_line(tmp_path):
    video = tmp_path / "silent.mp4"
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=64x64:d=1", "-c:v", "libx264",
            "-pix_fmt", "yuv420p", video)
    out = tmp_path / "out"
    out.mkdir()
    result = run("animate", video, "-o", out / "take.csv")
    assert_user_error(result, out, set())
    assert "has no sound track" in result.stderr
