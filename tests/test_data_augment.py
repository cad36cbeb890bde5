"""Augmentation: each transform does what it says, and a seed fixes the result."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from emoface.data import augment as A

SR = 16000


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    """A voiced, wide-band stand-in for speech: a 140 Hz pulse train with a vowel-ish
    envelope and some breath noise (no synthesizer needed)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(1.5 * SR)) / SR
    f0 = 140 * (1 + 0.05 * np.sin(2 * np.pi * 2 * t))
    phase = np.cumsum(f0) / SR
    pulses = (np.sin(2 * np.pi * phase) > 0.95).astype(np.float64)
    x = np.convolve(pulses, np.hanning(40), mode="same") + 0.05 * rng.standard_normal(len(t))
    x *= 0.5 * (1 - np.cos(2 * np.pi * t / t[-1]))
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def band_share(x: np.ndarray, above: float) -> float:
    f, p = welch(x, SR, nperseg=1024)
    return float(p[f > above].sum() / p.sum())


def test_length_kept_or_scaled(voice):
    n = len(voice)
    for name, params in (("pitch_formant", {"semitones": 2.0, "formant_ratio": 1.1}),
                         ("reverb", {"rt60": 0.5, "seed": 1}),
                         ("noise", {"snr_db": 10.0, "seed": 2, "colour": "pink"}),
                         ("band_limit", {}), ("codec", {}), ("mu_law", {}),
                         ("gain", {"db": -6.0})):
        out = A.apply(voice, SR, [(name, params)])
        assert len(out) == n and out.dtype == np.float32, name
        assert np.isfinite(out).all(), name
    assert abs(len(A.speed(voice, SR, 1.1)) - n / 1.1) <= 2
    assert abs(len(A.tempo(voice, SR, 0.8)) - n / 0.8) < 0.02 * n


def test_band_limit_cuts_above_4khz():
    white = np.random.default_rng(1).standard_normal(SR).astype(np.float32) * 0.1
    before = band_share(white, 4500.0)
    after = band_share(A.band_limit(white, SR, 8000), 4500.0)
    assert before > 0.3 and after < before * 1e-3
    assert band_share(A.band_limit(white, SR, 8000), 3000.0) > 0.1   # the band below stays


def test_pitch_shift_moves_f0(voice):
    from emoface.audio.prosody import analyse

    up = A.pitch_formant(voice, SR, semitones=4.0)
    f_in, f_out = analyse(voice).f0, analyse(up).f0
    ratio = np.median(f_out[f_out > 0]) / np.median(f_in[f_in > 0])
    assert abs(12 * np.log2(ratio) - 4.0) < 1.0


def test_noise_snr_and_colours(voice):
    noisy = A.noise(voice, SR, snr_db=0.0, seed=3)
    added = noisy - voice
    assert 0.3 < np.mean(added ** 2) / A._speech_power(voice, SR) < 3.0
    pink = A.noise(np.zeros(SR, np.float32) + 1e-3, SR, 0.0, 3, "pink") - 1e-3
    assert band_share(pink, 4000.0) < band_share(A.noise(np.zeros(SR, np.float32) + 1e-3, SR,
                                                          0.0, 3, "white"), 4000.0)
    with pytest.raises(ValueError):
        A.noise(voice, SR, 10.0, 1, "purple")


def test_same_seed_same_output(voice):
    recipe_a = A.draw_recipe(np.random.default_rng(11))
    recipe_b = A.draw_recipe(np.random.default_rng(11))
    a, b = A.apply(voice, SR, recipe_a), A.apply(voice, SR, recipe_b)
    assert np.array_equal(a, b) and recipe_a == recipe_b
    assert np.array_equal(A.apply(voice, SR, recipe_a), a)
    outs = {A.apply(voice, SR, A.draw_recipe(np.random.default_rng(s))).tobytes()
            for s in range(6)}
    assert len(outs) > 1
    for s in range(6):
        y = A.apply(voice, SR, A.draw_recipe(np.random.default_rng(s)))
        assert np.abs(y).max() <= 1.0 + 1e-6
