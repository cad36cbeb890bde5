"""How sure the voice emotion branch is: calibrated probabilities and intensity.

The branch's softmax is not a probability one can trust (it says "angry 0.36" with an
intensity head of 0.74 on speech, and "sad 0.31" at intensity 0.7 on white noise). The
numbers in ``assets/voice_calibration.json`` (fitted by ``tools/calibrate_voice_emotion.py``
on speakers the branch never trained on; the file says which) turn its output into:

* **calibrated probabilities**: the logits divided by a temperature ``T`` (fitted by
  negative log-likelihood), so a top probability of 0.6 is right about 60 % of the time;
* **certainty**: ``(p_top - p_min) / (1 - p_min)`` clipped to 0..1, where ``p_min`` is the
  calibrated top probability below which the top emotion is wrong more often than right;
* **calibrated intensity**: the branch's intensity head x certainty. Near-uniform
  posteriors, noise and music come out at (or near) zero;
* **the verdict**: the top emotion when the calibrated intensity reaches ``min_intensity``,
  else ``neutral``. Audio without speech (the voice activity detector finds none, or too
  few voiced frames) is ``neutral`` at intensity 0 whatever the branch says.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...emotion import EMOTIONS

CALIBRATION_ASSET = Path(__file__).resolve().parents[2] / "assets" / "voice_calibration.json"
FORMAT = "emoface-voice-calibration-1"


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0      # logits / T
    p_min: float = 1.0 / len(EMOTIONS)   # calibrated top probability at certainty 0
    min_intensity: float = 0.15   # below this the verdict is neutral
    min_voiced: float = 0.05      # share of voiced frames needed to hear an emotion at all
    source: str = "identity"

    @classmethod
    def load(cls, path: str | Path | None = None) -> Calibration:
        d = json.loads(Path(path or CALIBRATION_ASSET).read_text())
        if d.get("format") != FORMAT:
            raise ValueError(f"{path or CALIBRATION_ASSET}: not a {FORMAT} file")
        return cls(temperature=float(d["temperature"]), p_min=float(d["p_min"]),
                   min_intensity=float(d["min_intensity"]), min_voiced=float(d["min_voiced"]),
                   source=str(d.get("fitted_on", "")))

    def probs(self, probs: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from the branch's own (..., 8): softmax(log p / T)."""
        p = np.asarray(probs, np.float64)
        p = np.where(np.isfinite(p), p, 1.0)          # a broken row reads as uniform
        logp = np.log(np.clip(p, 1e-12, None)) / self.temperature
        logp -= logp.max(-1, keepdims=True)
        z = np.exp(logp)
        return z / z.sum(-1, keepdims=True)

    def certainty(self, calibrated: np.ndarray) -> np.ndarray:
        """0 (no better than a coin toss between the top emotion and the rest) .. 1."""
        top = np.asarray(calibrated).max(-1)
        return np.clip((top - self.p_min) / (1.0 - self.p_min), 0.0, 1.0)

    def intensity(self, calibrated: np.ndarray, head: np.ndarray | float) -> np.ndarray:
        head = np.nan_to_num(np.asarray(head, np.float64), nan=0.0)
        return np.clip(head, 0.0, 1.0) * self.certainty(calibrated)


@lru_cache(maxsize=1)
def bundled_calibration() -> Calibration:
    """The bundled calibration, or the identity (T 1) when the asset is missing."""
    return Calibration.load() if CALIBRATION_ASSET.exists() else Calibration()


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """ECE: the mean |accuracy - confidence| over ``bins`` equal-width confidence bins,
    weighted by how many predictions fall in each (Guo et al. 2017). ``confidence`` is the
    top probability, ``correct`` whether the top emotion was right."""
    conf = np.asarray(confidence, np.float64).reshape(-1)
    ok = np.asarray(correct, np.float64).reshape(-1)
    if not len(conf):
        return 0.0
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)   # (k/b, (k+1)/b]
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(ok[m].mean() - conf[m].mean())
    return float(ece)


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``labels`` (indices)
    under softmax(log ``probs`` / T), searched on a log grid then refined."""
    logp = np.log(np.clip(np.asarray(probs, np.float64), 1e-12, None))
    labels = np.asarray(labels, int)

    def nll(t: float) -> float:
        z = logp / t
        z = z - z.max(1, keepdims=True)
        lse = np.log(np.exp(z).sum(1))
        return float(np.mean(lse - z[np.arange(len(z)), labels]))

    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 400))
    best = grid[int(np.argmin([nll(t) for t in grid]))]
    fine = best * np.exp(np.linspace(-0.02, 0.02, 81))
    return float(fine[int(np.argmin([nll(t) for t in fine]))])
