"""Prosody on the 100 Hz grid: sane on speech, silence, band-limited and long input."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import need

from emoface.audio.io import load_audio, resample
from emoface.audio.prosody import FRAME_RATE, analyse, normalise_loudness

CLIP = "speech/librivox/sense_and_sensibility_01_austen_64kb-0870.wav"


def _check_shape(p, seconds: float) -> None:
    n = int(np.ceil(seconds * FRAME_RATE))
    for values in (p.times, p.loudness_db, p.loudness, p.f0, p.voiced):
        assert len(values) == n
    assert np.all(np.isfinite(p.loudness_db)) and np.all(np.isfinite(p.f0))
    assert np.all((p.loudness >= 0) & (p.loudness <= 1))
    assert np.array_equal(p.voiced, p.f0 > 0)


def test_pure_silence_is_quiet_and_unvoiced():
    p = analyse(np.zeros(16000 * 3, np.float32))
    _check_shape(p, 3.0)
    assert p.loudness.max() == 0 and not p.voiced.any()


def test_very_quiet_noise_counts_as_silence():
    noise = 1e-4 * np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    assert analyse(noise).loudness.max() == 0


def test_tiny_input():
    p = analyse(np.zeros(10, np.float32))
    assert len(p) == 1


def test_harmonic_tone_pitch():
    t = np.arange(16000) / 16000
    x = sum(0.2 / k * np.sin(2 * np.pi * 150 * k * t) for k in range(1, 6)).astype(np.float32)
    p = analyse(x)
    assert p.voiced[10:-10].mean() > 0.9
    assert abs(np.median(p.f0[p.voiced]) - 150) < 2


def test_speech(shared_data):
    x = load_audio(need(shared_data / CLIP))
    p = analyse(x)
    _check_shape(p, len(x) / 16000)
    assert 0.4 < p.voiced.mean() < 0.9
    assert 70 < np.median(p.f0[p.voiced]) < 200   # a male reader
    assert p.loudness[:10].max() < 0.2            # leading silence
    assert np.percentile(p.loudness[p.voiced], 75) > 0.6   # vowels are loud


def test_band_limited_8k_speech_agrees(shared_data):
    x = load_audio(need(shared_data / CLIP))
    wide = analyse(x)
    narrow = analyse(resample(resample(x, 16000, 8000), 8000, 16000))
    both = wide.voiced & narrow.voiced
    assert abs(narrow.voiced.mean() - wide.voiced.mean()) < 0.05
    assert np.median(np.abs(narrow.f0[both] - wide.f0[both])) < 2.0
    assert np.corrcoef(narrow.loudness, wide.loudness)[0, 1] > 0.95


def test_chunked_analysis_matches_one_piece(monkeypatch, shared_data):
    """Long input is analysed in chunks; the seams must not show."""
    from emoface.audio import prosody
    x = load_audio(need(shared_data / CLIP))
    whole = analyse(x)
    monkeypatch.setattr(prosody, "_CHUNK_SECONDS", 1.3)
    pieces = analyse(x)
    assert np.allclose(whole.loudness_db, pieces.loudness_db, atol=0.5)
    assert np.mean(whole.voiced == pieces.voiced) > 0.97


def test_interpolation_helpers():
    t = np.arange(32000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 200 * t) * (t > 0.5)).astype(np.float32)
    p = analyse(x)
    assert p.loudness_at(0.2) < 0.1 and p.loudness_at(1.5) > 0.9
    assert p.f0_at(0.2) == 0 and abs(p.f0_at(1.5) - 200) < 3
    frames = p.at(np.arange(0, 2, 1 / 30))
    assert len(frames) == 60 and frames.voiced[45] and not frames.voiced[5]
    semis = p.semitones()
    assert np.allclose(semis[~p.voiced], 0)


@pytest.mark.parametrize("db, expected", [
    (np.zeros(100), 0.0),                        # digital silence
    (np.full(100, 80.0), 1.0),                   # a steady loud tone
])
def test_normalise_edge_cases(db, expected):
    assert np.allclose(normalise_loudness(db), expected)
