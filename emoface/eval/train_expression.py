"""Retrain the bundled expression classifier (``emoface/assets/expression_classifier.json``).

    emoface dev train-expression [--out PATH] [--captures DIR]

Training data, all at hand without a network:
  * teacher animations: the rules engine on espeak-ng sentences spoken in each emotion's
    voice style, for all 8 emotions at several intensities and seeds. The sentences here
    are used nowhere in the benchmark, whose expression test runs on recorded speech;
  * the Live Link captures (``../shared/data/livelink``), cut into 4 s windows: fearful,
    sad, idle (as neutral), and angry_or_disgusted as half angry, half disgusted.

It prints held-out accuracies (teacher: leave-one-sentence-out; captures: leave-one-take-out)
and stores them with the weights, so the asset says how good it is.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..audio.espeak import synthesize
from ..audio.prosody import analyse
from ..audio.voice_styles import style_for
from ..data.livelink_stats import default_folder, load_takes
from ..emotion import EMOTIONS, EmotionTrack
from ..engines.rules.engine import animate_phones
from .emotion import (
    EXPRESSION_ASSET,
    EXPRESSION_MIN_SCALE,
    SoftmaxClassifier,
    expression_feature_names,
    expression_features,
)

TRAIN_SENTENCES = (
    "The lighthouse keeper painted the railing a bright shade of blue.",
    "Please bring my umbrella before the storm arrives.",
    "We moved the piano into the back room on Monday.",
    "Nobody expected the museum to open so early.",
    "A small brown puppy followed me all the way home.",
    "The committee will publish the numbers by Friday afternoon.",
    "My brother baked bread for the whole family.",
    "Fresh paint covered every wall of the apartment.",
    "They walked along the beach until the sun went down.",
    "Remember to switch off the lamp when you leave.",
)
INTENSITIES = (0.3, 0.5, 0.7, 0.9)
CAPTURE_LABELS = {"fearful": {"fearful": 1.0}, "sad": {"sad": 1.0}, "idle": {"neutral": 1.0},
                  "angry_or_disgusted": {"angry": 0.5, "disgusted": 0.5}}
WINDOW_S, HOP_S = 4.0, 2.0
L2 = 1.0


def teacher_samples(sentences=TRAIN_SENTENCES, intensities=INTENSITIES):
    """(features, emotion, sentence index) of rules-engine animations."""

    rows = []
    seed = 0
    for s_idx, text in enumerate(sentences):
        for emotion in EMOTIONS:
            levels = intensities if emotion != "neutral" else (0.0,) * len(intensities)
            for level in levels:
                track = EmotionTrack.constant(emotion, level)
                style = style_for(track.amounts[0])
                samples, sr, phones = synthesize(
                    text, rate=int(style.rate), pitch=int(style.pitch),
                    pitch_range=int(style.pitch_range), volume=int(style.volume))
                anim = animate_phones(phones, analyse(samples, sr), len(samples) / sr, track,
                                      30.0, seed)
                seed += 1
                rows.append((expression_features(anim), emotion, s_idx))
    return rows


def capture_samples(folder: Path | None = None):
    """(features, {emotion: share}, take index) of 4 s windows of the Live Link captures."""

    rows = []
    for t_idx, take in enumerate(load_takes(folder or default_folder())):
        if take.label not in CAPTURE_LABELS:
            continue
        a = take.anim
        win, hop = int(WINDOW_S * a.fps), int(HOP_S * a.fps)
        for start in range(0, max(1, a.num_frames - win + 1), hop):
            rows.append((expression_features(a.slice(start, start + win)),
                         CAPTURE_LABELS[take.label], t_idx))
    return rows


def _soft(labels) -> np.ndarray:
    Y = np.zeros((len(labels), len(EMOTIONS)))
    for i, lab in enumerate(labels):
        for name, share in ({lab: 1.0} if isinstance(lab, str) else lab).items():
            Y[i, EMOTIONS.index(name)] = share
    return Y


def _top(lab) -> str:
    return lab if isinstance(lab, str) else max(lab, key=lab.get)


def train(captures: Path | None = None, log=print) -> SoftmaxClassifier:
    log("synthesising teacher animations ...")
    teach = teacher_samples()
    log(f"  {len(teach)} teacher animations")
    caps = capture_samples(captures)
    log(f"  {len(caps)} capture windows")
    X = np.array([r[0] for r in teach] + [r[0] for r in caps])
    labels = [r[1] for r in teach] + [r[1] for r in caps]
    # Each capture window overlaps its neighbours; weigh the captures as a fifth of the data
    # so ten takes of one actor do not outvote the teacher's 8-emotion coverage.
    capture_weight = 0.25 * len(teach) / max(len(caps), 1)
    w = np.concatenate([np.ones(len(teach)), np.full(len(caps), capture_weight)])
    groups = [("t", r[2]) for r in teach] + [("c", r[2]) for r in caps]

    def fit(idx):
        return SoftmaxClassifier(list(EMOTIONS), l2=L2, min_scale=EXPRESSION_MIN_SCALE).fit(
            X[idx], _soft([labels[i] for i in idx]), sample_weight=w[idx])

    held = {}
    for kind in ("t", "c"):
        truth, pred = [], []
        for g in sorted({g for g in groups if g[0] == kind}):
            test = [i for i, gg in enumerate(groups) if gg == g]
            train_idx = [i for i, gg in enumerate(groups) if gg != g]
            clf = fit(train_idx)
            pred += clf.predict(X[test])
            truth += [_top(labels[i]) for i in test]
        # angry_or_disgusted windows count as right when either is answered
        ok = [p == t or (isinstance(labels[i], dict) and p in labels[i]) for i, t, p in
              zip([i for i, gg in enumerate(groups) if gg[0] == kind], truth, pred)]
        held[kind] = float(np.mean(ok))
    model = fit(np.arange(len(X)))
    model.feature_names = expression_feature_names()
    model.meta = {
        "trained_by": "emoface dev train-expression",
        "teacher_animations": len(teach), "capture_windows": len(caps),
        "held_out_accuracy": {"teacher_leave_one_sentence_out": round(held["t"], 4),
                              "captures_leave_one_take_out": round(held["c"], 4)},
        "features": "median and p90 of each expression feature, left-minus-right medians",
    }
    log(f"held-out accuracy: teacher {held['t']:.3f} (leave one sentence out), "
        f"captures {held['c']:.3f} (leave one take out)")
    return model


def run(out: str | Path = EXPRESSION_ASSET, captures: str | Path | None = None) -> Path:
    """What ``emoface dev train-expression`` does: train and write the classifier to ``out``."""
    model = train(Path(captures) if captures else None)
    Path(out).write_text(json.dumps(model.to_dict(), indent=1) + "\n")
    print(f"wrote {out}")
    return Path(out)
