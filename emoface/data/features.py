"""The corpus's cached features: the log-mel of :mod:`emoface.audio.features` and the
prosody tracks of :func:`emoface.audio.prosody.analyse` on the same 100 Hz grid: f0 in Hz
(0 when unvoiced), f0 in semitones relative to 100 Hz (0 when unvoiced), voicing, loudness
0..1 and loudness dB.

The log-mel is stored as float16 (steps of at most 0.008 in the log domain, far below any
meaningful difference); prosody stays float32. A cache entry is keyed by a hash of the
16 kHz samples and :data:`FEATURE_VERSION`, so changing either makes a new entry and
training never reads stale features.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..audio.features import FRAME_RATE, SAMPLE_RATE, log_mel, semitones_re_100hz
from ..audio.prosody import analyse
from .store import load_npz, save_npz

FEATURE_VERSION = "logmel80-htk-slaney-ln1e-6-v1+prosody-v1"


def content_key(samples16k: np.ndarray) -> str:
    """Hash of the samples and the feature definition: the cache key."""
    h = hashlib.sha256(FEATURE_VERSION.encode())
    h.update(np.ascontiguousarray(samples16k, np.float32).tobytes())
    return h.hexdigest()[:40]


def relative_path(key: str) -> str:
    return f"features/{key[:2]}/{key}.npz"


def compute(samples16k: np.ndarray, prosody=None) -> dict[str, np.ndarray]:
    """Every cached feature of one clip (``prosody``: an already computed
    :class:`~emoface.audio.prosody.Prosody` of the same samples, to save the work)."""
    if prosody is None:
        prosody = analyse(samples16k, SAMPLE_RATE)
    mel = log_mel(samples16k)
    n = len(mel)

    def fit(a, dtype):  # prosody has ceil(duration * 100) frames: the same count
        a = np.asarray(a, dtype)
        return a[:n] if len(a) >= n else np.concatenate([a, np.zeros(n - len(a), dtype)])

    f0 = fit(prosody.f0, np.float32)
    return {
        "logmel": mel.astype(np.float16),
        "f0_hz": f0,
        "f0_st": semitones_re_100hz(f0),
        "voiced": fit(prosody.voiced, bool),
        "loudness": fit(prosody.loudness, np.float32),
        "loudness_db": fit(prosody.loudness_db, np.float32),
        "frame_rate": np.array(FRAME_RATE, np.float32),
        "version": np.array(FEATURE_VERSION),
    }


def cached(samples16k: np.ndarray, corpus_dir: str | os.PathLike, prosody=None
           ) -> tuple[str, dict[str, np.ndarray]]:
    """Features of ``samples16k`` from the corpus cache, computed and stored on a miss.
    Returns (relative path inside the corpus, features)."""

    rel = relative_path(content_key(samples16k))
    path = Path(corpus_dir) / rel
    if path.is_file():
        try:
            return rel, load_npz(path)
        except Exception:  # noqa: BLE001, S110 - a damaged entry is recomputed, not trusted
            pass
    feats = compute(samples16k, prosody)
    save_npz(path, feats)
    return rel, feats


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A cached feature file with the log-mel widened back to float32."""

    feats = load_npz(path)
    feats["logmel"] = feats["logmel"].astype(np.float32)
    return feats
