"""What the neural engine and its live streams share: the runtime that runs the network
(:class:`Predictor`, torch or onnxruntime), the feature padding, the 100 ms grid, and the
calibration of the voice emotion branch's estimates."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...emotion import NUM_EMOTIONS
from .calibration import Calibration
from .checkpoint import default_weights, load_network, read_config
from .onnx_export import export_paths, one_thread_session, onnx_sessions

STEP = 10              # feature frames per alignment unit (100 ms = 3 output frames)


SILENT_LOG_MEL = float(np.log(1e-6))   # log-mel of digital silence
NO_PHONE = -1.0                        # phone score floor: "not this phone"


def pad_features(feats: np.ndarray, frames: int, n_mels: int) -> np.ndarray:
    """``feats`` continued to ``frames`` frames with silence: the log-mel floor, and no
    phone scored."""
    if frames <= len(feats):
        return feats
    pad = np.full((frames - len(feats), feats.shape[1]), NO_PHONE, np.float32)
    pad[:, :n_mels] = SILENT_LOG_MEL
    return np.concatenate([feats, pad])


class Predictor:
    """Runs the network with torch or onnxruntime (the same maths either way)."""

    def __init__(self, weights: str | Path | None = None, backend: str = "auto"):

        self.path = Path(weights) if weights else default_weights()
        self.cfg = read_config(self.path)
        self._net = None
        self.backend = "torch"
        self.sessions = None
        self._emotion_one_thread = None
        if backend in ("auto", "onnx"):

            # With a cached export chosen here, torch is never imported (~1.5 s).
            self.sessions = onnx_sessions(self.path, lambda: self.net, required=backend == "onnx")
            if self.sessions is not None:
                self.backend = "onnx"

    @property
    def net(self):
        if self._net is None:

            self._net = load_network(self.path)
        return self._net

    # -- the two halves of the network
    def emotion(self, mel: np.ndarray, prosody: np.ndarray,
                one_thread: bool = False) -> tuple[np.ndarray, float]:
        """Probabilities of the 8 emotions and the intensity heard in one stretch of audio.
        ``one_thread``: with onnxruntime, a session of its own on the calling thread (live
        streams: many small calls, where the default pool's spinning threads cost ~13x
        the call's own CPU)."""
        mel = np.ascontiguousarray(mel[:, :self.cfg.n_mels])   # the branch hears log-mel only
        if self.sessions is not None:
            session = self.sessions["emotion"]
            if one_thread:
                if self._emotion_one_thread is None:
                    self._emotion_one_thread = one_thread_session(
                        export_paths(self.path)["emotion"])
                session = self._emotion_one_thread
            logits, intensity = session.run(None, {"mel": mel[None], "prosody": prosody[None]})
        else:
            import torch

            with torch.inference_mode():
                _, _, logits, intensity = self.net.encode_emotion(
                    torch.from_numpy(mel[None]), torch.from_numpy(prosody[None]))
            logits, intensity = logits.numpy(), intensity.numpy()
        z = np.exp(logits[0] - logits[0].max())
        return (z / z.sum()).astype(np.float32), float(np.asarray(intensity).reshape(-1)[0])

    def decode(self, mel: np.ndarray, amounts: np.ndarray, z: np.ndarray):
        """Weights (T30, 42) and head (T30, 3) for ``amounts`` per output frame."""
        if self.sessions is not None:
            w, h = self.sessions["decode"].run(None, {
                "mel": mel[None], "amounts": amounts[None].astype(np.float32),
                "z": z[None].astype(np.float32)})
            return w[0], h[0]
        import torch

        with torch.inference_mode():
            w, h = self.net.decode(torch.from_numpy(mel[None]), torch.from_numpy(amounts[None]),
                                   torch.from_numpy(z[None]))
        return w[0].numpy(), h[0].numpy()


def _aligned(frames: float) -> int:
    return int(math.ceil(frames / STEP) * STEP)


def voiced_shares(prosody: np.ndarray, spans) -> np.ndarray:
    """Share of voiced frames (``prosody[:, 1]``) in each (start, stop) span."""
    return np.array([float(np.mean(prosody[a:b, 1] > 0.5)) if b > a else 0.0
                     for a, b in spans])


def calibrated_rows(table: np.ndarray, voiced, cal: Calibration
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of :func:`heard_emotion` calibrated: probabilities (K, 8) and intensity (K,),
    0 where the voice is unsure (below ``cal.min_intensity``) or hardly voiced (below
    ``cal.min_voiced``: silence, noise)."""
    table = np.asarray(table, np.float64)
    probs = cal.probs(table[:, :NUM_EMOTIONS])
    intensity = cal.intensity(probs, table[:, NUM_EMOTIONS])
    intensity[np.asarray(voiced, np.float64) < cal.min_voiced] = 0.0
    intensity[intensity < cal.min_intensity] = 0.0
    return probs, intensity
