"""Audio that is not speech, made up: white and pink noise, music (chords of harmonic
tones over a beat) and digital silence. The voice emotion must call them neutral
(``tools/calibrate_voice_emotion.py``, ``tests/test_voice_calibration.py``)."""
from __future__ import annotations

import numpy as np

from .io import SAMPLE_RATE

CHORDS = ((261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6),
          (196.0, 246.9, 293.7))   # C, Am, F, G


def white_noise(seconds: float = 4.0, seed: int = 0, rms: float = 0.1) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=int(seconds * SAMPLE_RATE))
    return (x * rms).astype(np.float32)


def pink_noise(seconds: float = 4.0, seed: int = 0, peak: float = 0.3) -> np.ndarray:
    """1/f power: white noise shaped in the frequency domain."""
    n = int(seconds * SAMPLE_RATE)
    spec = np.fft.rfft(np.random.default_rng(seed).normal(size=n))
    f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    spec[0] = 0.0
    spec[1:] /= np.sqrt(f[1:])
    x = np.fft.irfft(spec, n)
    return (x / np.abs(x).max() * peak).astype(np.float32)


def music(seconds: float = 4.0, seed: int = 0, bpm: float = 120.0) -> np.ndarray:
    """A chord a second (C Am F G, five harmonics per note) and a noise-burst drum on
    every beat."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    x = np.zeros(n)
    per = SAMPLE_RATE
    for k in range(int(np.ceil(n / per))):
        s = slice(k * per, min(n, (k + 1) * per))
        for f0 in CHORDS[k % len(CHORDS)]:
            for h in range(1, 6):
                x[s] += np.sin(2 * np.pi * f0 * h * t[s]) / h
    x = x / np.abs(x).max() * 0.3
    rng = np.random.default_rng(seed)
    hit = np.exp(-np.arange(2000) / 300.0)
    for i in range(0, n, int(SAMPLE_RATE * 60.0 / bpm)):
        m = min(len(hit), n - i)
        x[i:i + m] += 0.2 * rng.normal(size=m) * hit[:m]
    return x.astype(np.float32)


def silence(seconds: float = 4.0) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def non_speech_signals(seconds: float = 4.0) -> dict[str, np.ndarray]:
    return {"white noise": white_noise(seconds), "pink noise": pink_noise(seconds),
            "music": music(seconds), "silence": silence(seconds)}
