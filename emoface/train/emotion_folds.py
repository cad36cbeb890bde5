"""Voice emotion on speakers never trained on: leave-one-speaker-out over EmoDB.

For each of EmoDB's 8 speakers, the emotion stage of the bundled recipe
(configs/emotion.toml) is trained again without that speaker, from the same starting
weights and for the same number of steps, and keeps its last weights (no choice made on
the held-out speaker). The speaker's utterances of the 6 emotions EmoDB shares with
emoface (boredom left out) are then classified whole, as ``emoface emotion`` would.

Reported: unweighted average recall (UAR) over the 6 classes with the decision restricted
to those 6 (the 6-way task), and with all 8 outputs allowed (what a user of
``emoface emotion`` sees, where a surprised or contempt answer counts as wrong); per
speaker and pooled; the pooled confusion matrix as a PNG.

    emoface dev emotion-folds [--config configs/emotion.toml] [--out runs/folds] [--jobs 2]
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data.corpus import Corpus
from ..emotion import EMOTION_INDEX
from ..engines.neural.checkpoint import load_network
from .data import load_clip
from .loop import TrainConfig, train

SHARED = ("neutral", "happy", "sad", "angry", "fearful", "disgusted")
SHARED_INDEX = np.array([EMOTION_INDEX[e] for e in SHARED])


def fold_predictions(weights: Path, corpus_dir: str, speaker: str) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted-8-way logits) for the held-out speaker's 6-emotion utterances."""
    import torch


    corpus = Corpus(corpus_dir)
    net = load_network(weights)
    truth, logits = [], []
    for row in corpus.rows(source="emodb", exclude_flags=("boredom",), speakers={speaker}):
        if row.get("emotion") not in SHARED:
            continue
        clip = load_clip(corpus, row, keep_audio=False)
        with torch.inference_mode():
            _, _, out, _ = net.encode_emotion(torch.from_numpy(clip.mel.astype(np.float32)[None]),
                                              torch.from_numpy(clip.prosody[None]))
        truth.append(EMOTION_INDEX[row["emotion"]])
        logits.append(out[0].numpy())
    return np.array(truth), np.array(logits)


def recalls(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {e: float((predicted[truth == EMOTION_INDEX[e]] == EMOTION_INDEX[e]).mean())
            for e in SHARED if (truth == EMOTION_INDEX[e]).any()}


def _train_fold(config: str, run: Path, speaker: str, resume: bool, threads: int | None) -> Path:

    return train(config, run, resume=resume, fold_speaker=speaker, threads=threads)


def train_folds(config: str, out: Path, speakers: list[str], resume: bool = True,
                jobs: int = 1) -> dict[str, Path]:
    """Each speaker's fold trained (or resumed); ``jobs`` folds at a time, the recipe's
    threads shared between them (small networks use two single-threaded processes
    better than one with two threads)."""
    if jobs <= 1:
        return {s: _train_fold(config, out / s, s, resume, None) for s in speakers}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor


    threads = max(1, (TrainConfig.load(config).threads or jobs) // jobs)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {s: pool.submit(_train_fold, config, out / s, s, resume, threads)
                   for s in speakers}
        return {s: f.result() for s, f in futures.items()}


def run_folds(config: str, out: Path, resume: bool = True, jobs: int = 1) -> dict:

    cfg = TrainConfig.load(config)
    speakers = Corpus(cfg.corpus).speakers("emodb")
    results = {"config": config, "steps": cfg.steps, "folds": {}}
    all_truth, all_six, all_eight = [], [], []
    trained = train_folds(config, out, speakers, resume, jobs)
    for speaker in speakers:
        weights = trained[speaker]
        truth, logits = fold_predictions(weights, cfg.corpus, speaker)
        six = SHARED_INDEX[logits[:, SHARED_INDEX].argmax(1)]
        eight = logits.argmax(1)
        r6, r8 = recalls(truth, six), recalls(truth, eight)
        results["folds"][speaker] = {"utterances": int(len(truth)),
                                     "uar_6way": float(np.mean(list(r6.values()))),
                                     "uar_8way": float(np.mean(list(r8.values()))),
                                     "recall_6way": r6}
        all_truth.append(truth), all_six.append(six), all_eight.append(eight)
        print(f"{speaker}: UAR {results['folds'][speaker]['uar_6way']:.3f} (6-way), "
              f"{results['folds'][speaker]['uar_8way']:.3f} (8-way), {len(truth)} utterances",
              flush=True)
    truth, six, eight = map(np.concatenate, (all_truth, all_six, all_eight))
    results["pooled"] = {"utterances": int(len(truth)),
                         "uar_6way": float(np.mean(list(recalls(truth, six).values()))),
                         "uar_8way": float(np.mean(list(recalls(truth, eight).values()))),
                         "recall_6way": recalls(truth, six)}
    results["mean_of_folds_uar_6way"] = float(np.mean([f["uar_6way"] for f in results["folds"].values()]))
    results["confusion_6way"] = confusion(truth, six).tolist()
    return results


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    m = np.zeros((len(SHARED), len(SHARED)), np.int64)
    for t, p in zip(truth, predicted):
        m[list(SHARED_INDEX).index(t), list(SHARED_INDEX).index(p)] += 1
    return m


def plot_confusion(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.array(results["confusion_6way"], float)
    share = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(SHARED)):
        for j in range(len(SHARED)):
            ax.text(j, i, f"{share[i, j]:.2f}\n({int(m[i, j])})", ha="center", va="center",
                    fontsize=8, color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(SHARED)), SHARED, rotation=30)
    ax.set_yticks(range(len(SHARED)), SHARED)
    ax.set_xlabel("predicted")
    ax.set_ylabel("acted (EmoDB label)")
    ax.set_title(f"Voice emotion, EmoDB leave-one-speaker-out\n"
                 f"UAR {results['pooled']['uar_6way']:.3f} over "
                 f"{results['pooled']['utterances']} utterances of 8 unseen speakers", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run(config: str, out: str, png: str, jobs: int = 2) -> dict:
    """What ``emoface dev emotion-folds`` does: the 8 folds, ``OUT/results.json`` and the
    confusion PNG; returns the results."""
    out_dir = Path(out)
    results = run_folds(config, out_dir, jobs=jobs)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    plot_confusion(results, Path(png))
    print(f"pooled UAR {results['pooled']['uar_6way']:.3f} (6-way), "
          f"{results['pooled']['uar_8way']:.3f} (8-way); wrote {out_dir / 'results.json'}, {png}")
    return results
