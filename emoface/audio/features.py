"""The network's audio features: log-mel spectrogram, 100 frames per second.

:func:`log_mel` is the one definition shared by training and inference:

- input: mono float32 at 16 kHz, samples in [-1, 1];
- frame ``k`` is centred at ``k * 10 ms`` (the same grid as :mod:`emoface.audio.prosody`),
  zeros beyond the signal; ``ceil(len / 160)`` frames;
- 25 ms periodic Hann window (400 samples) zero-padded to a 512-point FFT, power spectrum;
- 80 triangular mel bands from 0 to 8 kHz on the HTK mel scale
  (``2595 log10(1 + f / 700)``), each normalised to unit area (Slaney), so white noise gives
  the same level in every band;
- natural log of the band power plus 1e-6 (digital silence is about -13.8).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
FRAME_RATE = 100
HOP = SAMPLE_RATE // FRAME_RATE      # 160
WIN = 400                            # 25 ms
N_FFT = 512
N_MELS = 80
F_MIN, F_MAX = 0.0, 8000.0
LOG_FLOOR = 1e-6
_BLOCK = 4096                        # frames per FFT block: bounds memory on long audio


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def _band_edges_hz() -> np.ndarray:
    """The N_MELS + 2 edge frequencies of the mel bands: band k spans edges k .. k + 2
    and peaks at edge k + 1."""
    return _mel_to_hz(np.linspace(_hz_to_mel(F_MIN), _hz_to_mel(F_MAX), N_MELS + 2))


def band_centres_hz() -> np.ndarray:
    """(N_MELS,) centre frequency of each log-mel band."""
    return _band_edges_hz()[1:-1]


def triangular_filterbank(edges_hz: np.ndarray, n_fft: int = N_FFT,
                          sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """(n_fft // 2 + 1, len(edges_hz) - 2) float64 weights from power-spectrum bins to
    triangular bands of unit area: band k spans edges k .. k + 2 and peaks at edge k + 1."""
    edges = np.asarray(edges_hz, np.float64)
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None] - lo) / (mid - lo)
    falling = (hi - bins[None]) / (hi - mid)
    tri = np.maximum(0.0, np.minimum(rising, falling))
    tri *= (2.0 / (hi - lo))                      # unit area per band
    return tri.T


@lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """(N_FFT // 2 + 1, N_MELS) float32 weights from power-spectrum bins to mel bands."""
    return triangular_filterbank(_band_edges_hz()).astype(np.float32)


def warp_band_axis(values: np.ndarray, centres_hz: np.ndarray, factor: float) -> np.ndarray:
    """Per-band values (time first) of the same sound with every frequency multiplied by
    ``factor``: band k takes the value the original had at (its centre frequency / factor),
    read off the mel axis by linear interpolation between neighbouring bands."""
    n = len(centres_hz)
    source = np.clip(np.interp(_hz_to_mel(centres_hz / factor), _hz_to_mel(centres_hz),
                               np.arange(n)), 0, n - 1)
    lo = np.floor(source).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (source - lo).astype(values.dtype)
    return values[:, lo] * (1 - w) + values[:, hi] * w


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    n = np.arange(WIN)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / WIN)).astype(np.float32)  # periodic Hann


def num_frames(num_samples: int) -> int:
    return -(-int(num_samples) // HOP)


def centred_frames(x: np.ndarray, win: int) -> np.ndarray:
    """(num_frames(len(x)), win) view of ``x`` in frames of ``win`` samples, frame k
    centred at sample k * HOP, zeros beyond the signal (same dtype as ``x``)."""
    n = num_frames(len(x))
    half = win // 2
    padded = np.zeros((n - 1) * HOP + win, x.dtype)
    take = min(len(x), len(padded) - half)
    padded[half:half + take] = x[:take]
    return np.lib.stride_tricks.sliding_window_view(padded, win)[::HOP]


def log_mel(samples16k: np.ndarray) -> np.ndarray:
    """(frames, 80) float32 log-mel of mono 16 kHz samples (see the module notes)."""
    x = np.asarray(samples16k, np.float32).ravel()
    n = num_frames(len(x))
    out = np.empty((n, N_MELS), np.float32)
    if n == 0:
        return out
    frames = centred_frames(x, WIN)
    window, fb = _window(), mel_filterbank()
    for a in range(0, n, _BLOCK):
        block = frames[a:a + _BLOCK] * window
        spec = np.fft.rfft(block, n=N_FFT, axis=1)
        power = (spec.real * spec.real + spec.imag * spec.imag).astype(np.float32)
        out[a:a + len(block)] = np.log(power @ fb + LOG_FLOOR)
    return out


def semitones_re_100hz(f0_hz: np.ndarray) -> np.ndarray:
    f0 = np.asarray(f0_hz, np.float32)
    out = np.zeros_like(f0)
    voiced = f0 > 0
    out[voiced] = 12.0 * np.log2(f0[voiced] / 100.0)
    return out
