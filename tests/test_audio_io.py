"""Loading audio: every format and layout to mono 16 kHz float32; every user mistake is
one UserError line that names the file."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from emoface.audio.io import SAMPLE_RATE, audio_duration, load_audio, resample, save_wav
from emoface.errors import UserError


def _tone(sr: int, seconds: float, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_each_format_loads_as_mono_16k(tmp_path, ext):
    x = _tone(44100, 1.5)
    path = tmp_path / f"tone.{ext}"
    sf.write(path, np.stack([x, x], axis=1), 44100)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    # mp3 encoders add a little padding; the others are exact to a sample
    assert abs(len(y) - 1.5 * SAMPLE_RATE) <= (0.1 * SAMPLE_RATE if ext == "mp3" else 1)
    assert 0.3 < np.abs(y).max() < 0.5
    assert abs(audio_duration(path) - 1.5) < (0.1 if ext == "mp3" else 1e-3)


def test_stereo_44k_matches_one_shot_resample(tmp_path):
    """Block-wise resampling must be indistinguishable from resampling the whole file."""
    rng = np.random.default_rng(0)
    stereo = (0.1 * rng.standard_normal((44100 * 7 + 33, 2))).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 44100, subtype="FLOAT")
    y = load_audio(path)
    reference = resample_poly(stereo.mean(axis=1), 160, 441)
    assert len(y) == len(reference)
    assert np.max(np.abs(y - reference)) < 1e-5


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 48000])
def test_sample_rates(tmp_path, sr):
    path = tmp_path / "x.wav"
    sf.write(path, _tone(sr, 0.5), sr)
    y = load_audio(path)
    assert abs(len(y) - SAMPLE_RATE // 2) <= 1
    # the tone's frequency survives resampling: count zero crossings
    crossings = np.count_nonzero(np.diff(np.signbit(y[100:-100])))
    assert abs(crossings / 2 / ((len(y) - 200) / SAMPLE_RATE) - 220) < 5


def test_multichannel_mixdown(tmp_path):
    x = _tone(16000, 0.5)
    path = tmp_path / "quad.wav"
    sf.write(path, np.stack([x, -x, x, x], axis=1), 16000, subtype="FLOAT")
    assert np.allclose(load_audio(path), 0.5 * x, atol=1e-6)


def _one_line_error(path) -> str:
    with pytest.raises(UserError) as info:
        load_audio(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_file(tmp_path):
    assert "does not exist" in _one_line_error(tmp_path / "nope.wav")


def test_directory(tmp_path):
    assert "folder" in _one_line_error(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    assert "empty" in _one_line_error(path)


def test_random_bytes_named_wav(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(1).bytes(5000))
    assert "not audio" in _one_line_error(path)


def test_text_file_named_mp3(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("this is not an mp3\n" * 50)
    _one_line_error(path)


def test_zero_length_audio(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    assert "no audio" in _one_line_error(path)
    with pytest.raises(UserError):
        audio_duration(path)


def test_duration_errors_are_user_errors(tmp_path):
    with pytest.raises(UserError):
        audio_duration(tmp_path / "missing.flac")


def test_save_wav_roundtrip_and_atomic(tmp_path):
    x = _tone(16000, 0.25)
    path = tmp_path / "out.wav"
    save_wav(path, x, 16000)
    assert np.allclose(load_audio(path), x, atol=1e-3)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]  # no temporary left behind
    with pytest.raises(UserError):
        save_wav(tmp_path / "no_such_folder" / "out.wav", x, 16000)


def test_resample_identity_and_length():
    x = _tone(16000, 0.1)
    assert resample(x, 16000, 16000) is not None and len(resample(x, 16000, 16000)) == len(x)
    assert len(resample(x, 16000, 8000)) == len(x) // 2
