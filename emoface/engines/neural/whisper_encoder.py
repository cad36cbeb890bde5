"""Whisper's log-mel and the first blocks of its encoder in numpy, for the voice emotion.

The emotion classifier reads one middle layer of a small Whisper encoder. The speech
front-end (``emoface.speech``) computes the same layer in torch after loading CTranslate2's
whole model; here only the blocks needed are run, from the same ``model.bin`` weights, with
numpy and scipy alone, so ``--emotion auto`` starts in a fraction of a second and needs no
torch, CTranslate2 or faster-whisper (tests check it matches the front-end's features).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf

from ...speech.model import FRAME_SAMPLES, SAMPLE_RATE, WINDOW_S
from ...speech.model_bin import read_variables
from ...speech.weights import resolve

N_FFT = 400
HOP = 160
N_MELS = 80


@lru_cache(maxsize=2)
def mel_filters(n_mels: int = N_MELS) -> np.ndarray:
    """Slaney-style triangular mel filters (area-normalised), as Whisper was trained on."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0

    def to_mel(f):
        f = np.asarray(f, np.float64)
        return np.where(f >= min_log_hz,
                        min_log_mel + np.log(np.maximum(f, 1e-9) / min_log_hz) / logstep, f / f_sp)

    def to_hz(m):
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)),
                        f_sp * m)

    fft_hz = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = to_hz(np.linspace(to_mel(0.0), to_mel(SAMPLE_RATE / 2), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    w = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return w.astype(np.float32)


def log_mel(samples16k: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """Whisper's log-mel (n_mels, frames at 100/s), no padding to 30 s: periodic Hann,
    centred reflect-padded frames, the last frame dropped, log10 clipped 8 below its
    peak, scaled by (x + 4) / 4."""
    x = np.asarray(samples16k, np.float32).reshape(-1)
    if len(x) <= N_FFT // 2:      # reflect padding needs more samples than half a frame
        x = np.pad(x, (0, N_FFT // 2 + 1 - len(x)))
    x = np.pad(x, N_FFT // 2, mode="reflect")
    n = 1 + (len(x) - N_FFT) // HOP
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:n] * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = mel_filters(n_mels) @ power[:-1].T.astype(np.float32)
    logs = np.log10(np.maximum(mel, 1e-10))
    logs = np.maximum(logs, logs.max() - 8.0)
    return ((logs + 4.0) / 4.0).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    # Python floats keep float32 arrays float32 (a numpy float64 scalar would promote them).
    return 0.5 * x * (1.0 + erf(x * 0.7071067811865476))


def _conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int) -> np.ndarray:
    """(C_in, T) -> (C_out, T_out), kernel 3, padding 1."""
    xp = np.pad(x, ((0, 0), (1, 1)))
    t_out = (x.shape[1] + 2 - 3) // stride + 1
    out = sum(w[:, :, k] @ xp[:, k:k + stride * (t_out - 1) + 1:stride] for k in range(3))
    return out + b[:, None]


def _norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * gamma + beta


class NumpyEncoder:
    """Whisper's encoder up to ``layers`` blocks (of the model at ``spec``: a name the
    speech front-end resolves, or a model directory)."""

    frame_rate = SAMPLE_RATE / FRAME_SAMPLES

    def __init__(self, spec: str, layers: int):
        self.name, path = resolve(spec)
        raw = read_variables(Path(path) / "model.bin", prefix="encoder/")
        self.heads = int(raw.pop("encoder/num_heads"))
        keep = ("encoder/conv", "encoder/position") + tuple(
            f"encoder/layer_{i}/" for i in range(layers))
        self.w = {k: np.asarray(v, np.float32) for k, v in raw.items() if k.startswith(keep)}
        self.layers = layers
        self.dim = self.w["encoder/conv1/bias"].shape[0]

    def _block(self, x: np.ndarray, i: int) -> np.ndarray:
        w, p = self.w, f"encoder/layer_{i}"
        h = _norm(x, w[f"{p}/self_attention/layer_norm/gamma"],
                  w[f"{p}/self_attention/layer_norm/beta"])
        qkv = h @ w[f"{p}/self_attention/linear_0/weight"].T + w[f"{p}/self_attention/linear_0/bias"]
        t, hd = len(x), self.dim // self.heads
        q, k, v = (a.reshape(t, self.heads, hd).transpose(1, 0, 2) for a in np.split(qkv, 3, -1))
        scores = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(hd))
        scores -= scores.max(-1, keepdims=True)
        att = np.exp(scores)
        att /= att.sum(-1, keepdims=True)
        a = (att @ v).transpose(1, 0, 2).reshape(t, self.dim)
        x = x + a @ w[f"{p}/self_attention/linear_1/weight"].T + w[f"{p}/self_attention/linear_1/bias"]
        h = _norm(x, w[f"{p}/ffn/layer_norm/gamma"], w[f"{p}/ffn/layer_norm/beta"])
        h = _gelu(h @ w[f"{p}/ffn/linear_0/weight"].T + w[f"{p}/ffn/linear_0/bias"])
        return x + h @ w[f"{p}/ffn/linear_1/weight"].T + w[f"{p}/ffn/linear_1/bias"]

    def _window(self, samples: np.ndarray, layer: int) -> np.ndarray:
        w = self.w
        x = _gelu(_conv1d(log_mel(samples), w["encoder/conv1/weight"], w["encoder/conv1/bias"], 1))
        x = _gelu(_conv1d(x, w["encoder/conv2/weight"], w["encoder/conv2/bias"], 2)).T
        x = x + w["encoder/position_encodings/encodings"][:len(x)]
        for i in range(layer):
            x = self._block(x, i)
        return x[:(len(samples) // HOP + 1) // 2]

    def encode(self, samples: np.ndarray, layer: int) -> np.ndarray:
        """(frames at 50/s, dim) after ``layer`` blocks (at most the blocks loaded), in
        30-s pieces (Whisper's positions end there)."""
        if not 0 <= layer <= self.layers:
            raise ValueError(f"layer {layer}: this encoder holds blocks 0..{self.layers}")
        x = np.asarray(samples, np.float32).reshape(-1)
        piece = int(WINDOW_S * SAMPLE_RATE)
        out = []
        for start in range(0, max(len(x), 1), piece):
            chunk = x[start:start + piece]
            if len(chunk) < 2 * FRAME_SAMPLES:
                if start:   # a sliver at the end: the 2-s windows that pool it need no more
                    break
                chunk = np.pad(chunk, (0, 2 * FRAME_SAMPLES - len(chunk)))
            out.append(self._window(chunk, layer))
        return np.concatenate(out).astype(np.float32, copy=False)
