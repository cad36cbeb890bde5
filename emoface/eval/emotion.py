"""Emotion metrics and the two classifiers they need (docs/design.md, Evaluation protocol).

* :func:`uar` and :func:`confusion_matrix`: unweighted average recall (the mean of the
  per-class recalls, so a classifier that always answers one class scores 1/classes
  whatever the class balance) and the counts behind it.
* the voice-emotion baseline: prosodic and spectral statistics of an utterance
  (:func:`voice_features`) fed to a softmax regression, evaluated leave-one-speaker-out
  (:func:`leave_one_speaker_out`). It stands in until the neural model brings its own
  voice classifier, and gives that model an honest number to beat.
* the expression classifier: which of the 8 emotions an animation shows, from per-clip
  statistics of its expression features (:func:`expression_features`). Its weights are
  trained offline by ``emoface dev train-expression`` on rules-engine teacher
  animations and the Live Link captures, and bundled in ``emoface/assets``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..arkit import INDEX
from ..audio.prosody import analyse
from ..data.livelink_stats import EXPRESSION_FEATURES, feature_curves
from ..emotion import EMOTIONS
from ..paths import ASSETS_DIR


# ----------------------------------------------------------------------- metrics
def confusion_matrix(y_true, y_pred, labels) -> np.ndarray:
    """(K, K) counts: row = true label, column = predicted label, in ``labels`` order.
    Predictions outside ``labels`` are not counted."""
    index = {lab: k for k, lab in enumerate(labels)}
    out = np.zeros((len(labels), len(labels)), np.int64)
    for t, p in zip(y_true, y_pred):
        if t in index and p in index:
            out[index[t], index[p]] += 1
    return out


def uar(y_true, y_pred, labels=None) -> float:
    """Unweighted average recall over the classes that occur in ``y_true`` (or over
    ``labels`` that occur in it)."""
    y_true, y_pred = list(y_true), list(y_pred)
    present = sorted(set(y_true), key=str) if labels is None else [
        lab for lab in labels if lab in set(y_true)]
    if not present:
        return float("nan")
    recalls = []
    for lab in present:
        hits = [p == lab for t, p in zip(y_true, y_pred) if t == lab]
        recalls.append(sum(hits) / len(hits))
    return float(np.mean(recalls))


def accuracy(y_true, y_pred) -> float:
    pairs = list(zip(y_true, y_pred))
    return sum(t == p for t, p in pairs) / len(pairs) if pairs else float("nan")


# ----------------------------------------------------------- softmax regression
@dataclass
class SoftmaxClassifier:
    """Multinomial logistic regression on standardised features, L2-regularised.

    Small and dependency-free apart from numpy/scipy, and saved as plain JSON so bundled
    weights are readable and diffable."""

    classes: list[str]
    l2: float = 1.0
    # Floor on a feature's standardising scale: a feature (nearly) constant in training
    # would turn differences too small to matter into large z-scores at test time.
    min_scale: float = 0.0
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    coef: np.ndarray | None = None        # (F, K)
    bias: np.ndarray | None = None        # (K,)
    feature_names: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def fit(self, X: np.ndarray, y, sample_weight: np.ndarray | None = None
            ) -> SoftmaxClassifier:
        """``y``: labels, or an (N, K) matrix of target probabilities (soft labels)."""
        from scipy.optimize import minimize

        X = np.asarray(X, np.float64)
        Y = self._targets(y, len(X))
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
        w = w / w.sum()
        self.mean = X.mean(0)
        std = X.std(0)
        self.scale = np.where(std > 1e-9, np.maximum(std, self.min_scale), 1.0)
        Z = (X - self.mean) / self.scale
        F, K = Z.shape[1], Y.shape[1]

        def loss(theta):
            W, b = theta[:F * K].reshape(F, K), theta[F * K:]
            logits = Z @ W + b
            logits -= logits.max(1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            value = -(w[:, None] * Y * logp).sum() + 0.5 * self.l2 * (W * W).sum() / len(X)
            G = w[:, None] * (np.exp(logp) * Y.sum(1, keepdims=True) - Y)
            grad_W = Z.T @ G + self.l2 * W / len(X)
            return value, np.concatenate([grad_W.ravel(), G.sum(0)])

        result = minimize(loss, np.zeros(F * K + K), jac=True, method="L-BFGS-B",
                          options={"maxiter": 2000})
        self.coef = result.x[:F * K].reshape(F, K)
        self.bias = result.x[F * K:]
        return self

    def _targets(self, y, n: int) -> np.ndarray:
        y_arr = np.asarray(y)
        if y_arr.ndim == 2:
            if y_arr.shape != (n, len(self.classes)):
                raise ValueError(f"soft labels must be ({n}, {len(self.classes)})")
            return y_arr.astype(np.float64)
        index = {c: k for k, c in enumerate(self.classes)}
        Y = np.zeros((n, len(self.classes)))
        Y[np.arange(n), [index[v] for v in y]] = 1.0
        return Y

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        Z = (np.atleast_2d(np.asarray(X, np.float64)) - self.mean) / self.scale
        logits = Z @ self.coef + self.bias
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def predict(self, X: np.ndarray) -> list[str]:
        return [self.classes[k] for k in self.predict_proba(X).argmax(1)]

    def to_dict(self) -> dict:
        r = lambda a: np.round(np.asarray(a, np.float64), 6).tolist()
        return {"classes": list(self.classes), "l2": self.l2, "feature_names": self.feature_names,
                "mean": r(self.mean), "scale": r(self.scale), "coef": r(self.coef),
                "bias": r(self.bias), "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict) -> SoftmaxClassifier:
        return cls(classes=list(d["classes"]), l2=float(d["l2"]),
                   mean=np.array(d["mean"]), scale=np.array(d["scale"]),
                   coef=np.array(d["coef"]), bias=np.array(d["bias"]),
                   feature_names=list(d.get("feature_names", [])), meta=d.get("meta", {}))


class AlwaysClassifier:
    """Answers one class whatever it is shown: the chance row of a table."""

    def __init__(self, answer: str):
        self.answer = answer

    def fit(self, X, y, sample_weight=None) -> AlwaysClassifier:
        return self

    def predict(self, X) -> list[str]:
        return [self.answer] * len(np.atleast_2d(X))


# -------------------------------------------------------- voice-emotion baseline
# The six emotions EmoDB shares with the emoface taxonomy (boredom has no counterpart).
EMODB_EMOTIONS: dict[str, str] = {"W": "angry", "E": "disgusted", "A": "fearful",
                                  "F": "happy", "T": "sad", "N": "neutral"}
VOICE_FEATURES: tuple[str, ...] = (
    "f0_median_st", "f0_p10_st", "f0_p90_st", "f0_range_st", "f0_std_st", "f0_slope_st",
    "voiced_share", "level_mean_db", "level_std_db", "level_p95_db", "level_slope_db",
    "onsets_per_s", "active_share", "hf_ratio_db", "centroid_hz",
)
_ACTIVE = 0.25   # normalised loudness above which a frame counts as speech


def voice_features(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Utterance statistics of pitch (semitones re 100 Hz), level (Praat dB), voicing
    rhythm and spectral balance; :data:`VOICE_FEATURES` in order."""

    x = np.asarray(samples, np.float64).ravel()
    pros = analyse(x, sample_rate)
    active = pros.loudness >= _ACTIVE
    if not active.any():
        active = np.ones(len(pros), bool)
    voiced = pros.voiced & active
    st = 12.0 * np.log2(np.maximum(pros.f0[voiced], 1.0) / 100.0) if voiced.any() else np.zeros(1)
    both = pros.voiced[1:] & pros.voiced[:-1]
    f0_st_all = 12.0 * np.log2(np.maximum(pros.f0, 1.0) / 100.0)
    slope = np.abs(np.diff(f0_st_all))[both]
    db = pros.loudness_db[active].astype(np.float64)
    onsets = np.count_nonzero(np.diff(voiced.astype(np.int8)) == 1)
    active_s = active.sum() / 100.0
    hf, centroid = _spectral_balance(x, sample_rate, pros, active)
    return np.array([
        np.median(st), np.percentile(st, 10), np.percentile(st, 90),
        np.percentile(st, 90) - np.percentile(st, 10), st.std(),
        slope.mean() if len(slope) else 0.0,
        voiced.sum() / max(active.sum(), 1), db.mean(), db.std(), np.percentile(db, 95),
        np.abs(np.diff(db)).mean() if len(db) > 1 else 0.0,
        onsets / max(active_s, 0.1), active.mean(), hf, centroid,
    ], np.float64)


def _spectral_balance(x: np.ndarray, sr: int, pros, active: np.ndarray) -> tuple[float, float]:
    """Energy above 1 kHz against below (dB) and the spectral centroid, over speech
    frames: tense, loud voices tilt the spectrum upwards."""
    hop = sr // 100
    win = 2 * hop
    frames = [k for k in np.flatnonzero(active) if (k + 2) * hop <= len(x)]
    if not frames:
        return 0.0, 0.0
    segs = np.stack([x[k * hop:k * hop + win] for k in frames]) * np.hanning(win)
    power = (np.abs(np.fft.rfft(segs, axis=1)) ** 2).sum(0)
    freqs = np.fft.rfftfreq(win, 1.0 / sr)
    top = min(sr / 2, 4000.0)  # 8 kHz telephone audio has nothing above 4 kHz
    low = power[(freqs >= 80) & (freqs < 1000)].sum()
    high = power[(freqs >= 1000) & (freqs < top)].sum()
    band = (freqs >= 80) & (freqs < top)
    centroid = float((freqs[band] * power[band]).sum() / max(power[band].sum(), 1e-12))
    return float(10 * np.log10(max(high, 1e-12) / max(low, 1e-12))), centroid


@dataclass
class SpeakerFoldResult:
    y_true: list[str]
    y_pred: list[str]
    speakers: list[str]
    labels: list[str]

    @property
    def uar(self) -> float:
        return uar(self.y_true, self.y_pred, self.labels)

    @property
    def accuracy(self) -> float:
        return accuracy(self.y_true, self.y_pred)

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y_true, self.y_pred, self.labels)

    def per_speaker_uar(self) -> dict[str, float]:
        out = {}
        for s in sorted(set(self.speakers)):
            idx = [k for k, sp in enumerate(self.speakers) if sp == s]
            out[s] = uar([self.y_true[k] for k in idx], [self.y_pred[k] for k in idx],
                         self.labels)
        return out

    def as_dict(self) -> dict:
        return {"uar": self.uar, "accuracy": self.accuracy, "labels": self.labels,
                "confusion": self.confusion().tolist(), "n": len(self.y_true),
                "per_speaker_uar": self.per_speaker_uar()}


def leave_one_speaker_out(X: np.ndarray, y, speakers, make_classifier, labels
                          ) -> SpeakerFoldResult:
    """Train on all speakers but one, predict that one, for every speaker; every
    prediction is on a speaker the classifier never saw."""
    X = np.asarray(X)
    y, speakers = list(y), list(speakers)
    pred: list[str | None] = [None] * len(y)
    for s in sorted(set(speakers)):
        test = [k for k, sp in enumerate(speakers) if sp == s]
        train = [k for k, sp in enumerate(speakers) if sp != s]
        clf = make_classifier().fit(X[train], [y[k] for k in train])
        for k, p in zip(test, clf.predict(X[test])):
            pred[k] = p
    return SpeakerFoldResult(y, pred, speakers, list(labels))


# --------------------------------------------------------- expression classifier
EXPRESSION_ASSET = ASSETS_DIR / "expression_classifier.json"
_STATS = (("median", 50), ("p90", 90))
# One-sided expressions (contempt's half smile) vanish when left and right are averaged.
_ASYMMETRY = ("mouthSmile", "mouthDimple", "mouthFrown", "mouthStretch", "noseSneer",
              "cheekSquint", "eyeSquint", "browOuterUp")
# All features are in ARKit weight units; a hundredth of a weight is invisible on a face.
# Without this floor, the left-minus-right medians of browOuterUp and eyeSquint (always 0
# in the teacher's animations) were standardised by scales of 2e-5 and 7e-4, and a
# network's float16 rounding between its left and right channels moved the answer.
EXPRESSION_MIN_SCALE = 0.01


def expression_feature_names() -> list[str]:

    return ([f"{f}_{s}" for f in EXPRESSION_FEATURES for s, _ in _STATS]
            + [f"{f}_left_minus_right" for f in _ASYMMETRY])


def expression_features(anim) -> np.ndarray:
    """Per-clip statistics of each expression feature (left and right averaged): median
    and 90th percentile over frames; plus the median left-minus-right difference of the
    sided features. Order-free in time, so frame rate and length do not matter, and a
    blink or one wide vowel barely moves them."""

    curves = feature_curves(anim)
    w = anim.weights.astype(np.float64)
    sided = [np.median(w[:, INDEX[f + "Left"]] - w[:, INDEX[f + "Right"]]) for f in _ASYMMETRY]
    return np.array([np.percentile(curves[f], q) for f in EXPRESSION_FEATURES
                     for _, q in _STATS] + sided, np.float64)


class ExpressionClassifier:
    """Which of the 8 emotions an animation shows (probabilities over :data:`EMOTIONS`)."""

    def __init__(self, model: SoftmaxClassifier):
        self.model = model

    @classmethod
    def load(cls, path: str | Path | None = None) -> ExpressionClassifier:
        path = Path(path) if path else EXPRESSION_ASSET
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; retrain it with "
                                    "emoface dev train-expression")
        return cls(SoftmaxClassifier.from_dict(json.loads(path.read_text())))

    def probabilities(self, anim) -> np.ndarray:
        return self.model.predict_proba(expression_features(anim))[0]

    def predict(self, anim) -> str:
        return self.model.classes[int(self.probabilities(anim).argmax())]

    @property
    def classes(self) -> list[str]:
        return list(self.model.classes)


_LOADED: ExpressionClassifier | None = None


def expression_classifier() -> ExpressionClassifier:
    """The bundled classifier, loaded once per process."""
    global _LOADED
    if _LOADED is None:
        _LOADED = ExpressionClassifier.load()
    return _LOADED


assert set(EMODB_EMOTIONS.values()) <= set(EMOTIONS)
