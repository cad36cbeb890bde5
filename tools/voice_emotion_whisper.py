"""Voice emotion from Whisper encoder features: EmoDB leave-one-speaker-out, one command.

    python tools/voice_emotion_whisper.py                      # tiny.en, layers 1-3, English neutral added
    python tools/voice_emotion_whisper.py --no-english         # EmoDB alone
    python tools/voice_emotion_whisper.py --model base --layers 2,3,4,5

What it measures (docs/experiments.md, 2026-12-07): each utterance is encoded by the speech
front-end (``emoface.speech``, Whisper's encoder run block by block), the frames of one
encoder layer are pooled to their mean and standard deviation, and a class-balanced
softmax regression reads the 6 emotions EmoDB shares with emoface (boredom left out).
Protocol as ``emoface dev emotion-folds``: for each of EmoDB's 8 speakers, train without
that speaker, classify its utterances; the layer and the L2 strength are chosen INSIDE
each fold by a leave-one-speaker-out over the 7 training speakers only. With ``--english``
(the default), every fold's training set also holds 2-s windows of LibriSpeech
train-clean-100 read speech (251 speakers, 3 windows each) labelled neutral; the
LibriSpeech test-other speakers, LibriVox, CMU ARCTIC "cathy" and Asterisk are never
trained on and only checked (share heard as neutral), as are noise, music and silence.

Writes ``OUT/results.json`` (pooled and per-speaker UAR and accuracy, confusion matrix,
chosen layer and L2 per fold, English and non-speech checks) and the confusion PNG.
Encoded features are cached under ``--cache`` (default ``$EMOFACE_CACHE/voiceemo`` or
``~/.cache/emoface/voiceemo``).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from emoface.audio.io import load_audio
from emoface.audio.nonspeech import non_speech_signals
from emoface.eval.emotion import EMODB_EMOTIONS, confusion_matrix, uar
from emoface.paths import shared_data_dir
from emoface.speech import load_speech_model

SIX = ["neutral", "happy", "sad", "angry", "fearful", "disgusted"]
WINDOW_FRAMES = 100          # 2 s at 50 frames/s: EmoDB's clip length here
ENGLISH_WINDOWS_PER_CLIP = 3
ENGLISH_MAX_S = 20.0
GATE_PERCENTILE = 99         # of the training rows' distance: farther is not speech         # the first 20 s of a long clip is plenty for a neutral check


# ------------------------------------------------------------------------ features
def encode_layers(model, samples: np.ndarray, layers: list[int]) -> dict[int, np.ndarray]:
    """Frames of each wanted encoder layer (one pass per layer; the encoder is small)."""
    return {layer: model.encode(samples, layer=layer) for layer in layers}


def stats(frames: np.ndarray) -> np.ndarray:
    return np.concatenate([frames.mean(0), frames.std(0)])


def windows(frames: np.ndarray, n: int = WINDOW_FRAMES) -> np.ndarray:
    """Mean+std of consecutive n-frame windows (a last window under half length dropped)."""
    rows = [stats(frames[s:s + n]) for s in range(0, len(frames), n)
            if len(frames[s:s + n]) >= n // 2]
    return np.array(rows) if rows else stats(frames)[None]


def cached_frames(cache: Path, tag: str, files: list[Path], model, layers: list[int],
                  max_s: float | None = None) -> dict[int, list[np.ndarray]]:
    """Per layer, the encoded frames of each file (float16 on disk, recomputed if the file
    list or layers changed)."""
    path = cache / f"{model.name}_{tag}.npz"
    names = np.array([str(f) for f in files])
    if path.exists():
        d = np.load(path)
        if list(d["names"]) == list(names) and all(f"L{la}_0" in d for la in layers):
            return {la: [d[f"L{la}_{i}"].astype(np.float32) for i in range(len(files))]
                    for la in layers}
    out: dict[str, np.ndarray] = {}
    for i, f in enumerate(files):
        x = load_audio(f)
        if max_s:
            x = x[:int(max_s * 16000)]
        for la, h in encode_layers(model, x, layers).items():
            out[f"L{la}_{i}"] = h.astype(np.float16)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, names=names, **out)
    return {la: [out[f"L{la}_{i}"].astype(np.float32) for i in range(len(files))] for la in layers}


# ---------------------------------------------------------------------- classifier
def fit_softmax(X: np.ndarray, y: np.ndarray, l2: float) -> dict[str, np.ndarray]:
    """Softmax regression on standardised features, each class weighted equally (UAR is
    the target), L-BFGS: ``mean scale coef bias``."""
    import torch

    mu, sd = X.mean(0), X.std(0) + 1e-6
    Z = torch.tensor((X - mu) / sd, dtype=torch.float32)
    Y = torch.tensor([SIX.index(v) for v in y])
    w = (1.0 / torch.bincount(Y, minlength=len(SIX)).clamp(min=1).float())[Y]
    w = w / w.sum()
    W = torch.zeros(Z.shape[1], len(SIX), requires_grad=True)
    b = torch.zeros(len(SIX), requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1, max_iter=300, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6)

    def closure():
        opt.zero_grad()
        ce = torch.nn.functional.cross_entropy(Z @ W + b, Y, reduction="none")
        loss = (ce * w).sum() + 0.5 * l2 * (W * W).sum() / len(Z)
        loss.backward()
        return loss

    opt.step(closure)
    return {"mean": mu, "scale": sd, "coef": W.detach().numpy().astype(np.float64),
            "bias": b.detach().numpy().astype(np.float64)}


def predict(params: dict, X: np.ndarray) -> np.ndarray:
    logits = (np.atleast_2d(X) - params["mean"]) / params["scale"] @ params["coef"] + params["bias"]
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(1, keepdims=True)


def distance(params: dict, X: np.ndarray) -> np.ndarray:
    """Mean squared standardised feature of each row: about 1 for rows like the training's."""
    return (((np.atleast_2d(X) - params["mean"]) / params["scale"]) ** 2).mean(1)


def fit_predict(X: np.ndarray, y: np.ndarray, l2: float, tests: list[np.ndarray]
                ) -> list[np.ndarray]:
    """The class probabilities of each test matrix under a softmax regression fitted on X."""
    params = fit_softmax(X, y, l2)
    return [predict(params, t) for t in tests]


def speaker_folds(feats: dict, y, spk, cands, extra: dict | None, fit=fit_predict):
    """Leave-one-speaker-out predictions over ``spk`` for each candidate (layer, l2);
    ``extra`` (per layer: X, y) is added to every fold's training set."""
    preds = {c: np.empty(len(y), object) for c in cands}
    for s in np.unique(spk):
        m = spk == s
        for layer, l2 in cands:
            X = feats[layer]
            Xtr, ytr = X[~m], y[~m]
            if extra:
                Xtr = np.concatenate([Xtr, extra[layer][0]])
                ytr = np.concatenate([ytr, extra[layer][1]])
            p, = fit(Xtr, ytr, l2, [X[m]])
            preds[(layer, l2)][m] = np.array(SIX)[p.argmax(1)]
    return preds


def nested_loso(feats, y, spk, cands, extra):
    """Outer: each held-out speaker; inner: the candidate with the best UAR over a
    leave-one-speaker-out of the training speakers only."""
    pred = np.empty(len(y), object)
    probs = np.zeros((len(y), len(SIX)))
    chosen = {}
    for s in np.unique(spk):
        m = spk == s
        inner = speaker_folds({k: v[~m] for k, v in feats.items()}, y[~m], spk[~m], cands, extra)
        scores = {c: uar(y[~m], inner[c], SIX) for c in cands}
        best = max(cands, key=lambda c: scores[c])
        layer, l2 = best
        Xtr, ytr = feats[layer][~m], y[~m]
        if extra:
            Xtr = np.concatenate([Xtr, extra[layer][0]])
            ytr = np.concatenate([ytr, extra[layer][1]])
        p, = fit_predict(Xtr, ytr, l2, [feats[layer][m]])
        probs[m] = p
        pred[m] = np.array(SIX)[p.argmax(1)]
        chosen[s] = {"layer": layer, "l2": l2, "inner_uar": round(scores[best], 4),
                     "uar": round(uar(y[m], pred[m], SIX), 4),
                     "accuracy": round(float(np.mean(pred[m] == y[m])), 4),
                     "utterances": int(m.sum())}
        print(f"{s}: layer {layer}, l2 {l2:g} (inner UAR {scores[best]:.3f}); held-out UAR "
              f"{chosen[s]['uar']:.3f}", flush=True)
    return pred, probs, chosen


# ------------------------------------------------------------------------------ data
def emodb_files(root: Path) -> list[Path]:
    return [f for f in sorted((root / "emodb" / "wav").glob("*.wav"))
            if f.name[5] in EMODB_EMOTIONS]


def english_sets(root: Path) -> dict[str, list[Path]]:
    rng = np.random.default_rng(0)
    speech = root / "speech"

    def sample(files, n):
        files = sorted(files)
        return sorted(rng.choice(files, min(n, len(files)), replace=False)) if files else []

    return {
        "librispeech_train": sorted((speech / "librispeech" / "train-clean-100").rglob("*.flac")),
        "librispeech_test_other": sorted((speech / "librispeech" / "test-other").rglob("*.flac")),
        "librivox": sorted((speech / "librivox").glob("*.wav")),
        "cathy": sample((speech / "cathy" / "flac").glob("*.flac"), 60),
        "asterisk": sample((speech / "asterisk").glob("*.wav"), 40),
    }


def plot(confusion: np.ndarray, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    share = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.2, 5.2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(SIX)):
        for j in range(len(SIX)):
            ax.text(j, i, f"{share[i, j]:.2f}\n({int(confusion[i, j])})", ha="center",
                    va="center", fontsize=8, color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(SIX)), SIX, rotation=30)
    ax.set_yticks(range(len(SIX)), SIX)
    ax.set_xlabel("predicted")
    ax.set_ylabel("acted (EmoDB label)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="tiny.en", help="speech model (tiny.en, base, a path)")
    ap.add_argument("--layers", default="1,2,3", help="encoder layers to choose from")
    ap.add_argument("--l2", default="1,10", help="L2 strengths to choose from")
    ap.add_argument("--english", action=argparse.BooleanOptionalAction, default=True,
                    help="add LibriSpeech train-clean-100 windows as neutral (default on)")
    ap.add_argument("--out", default="runs/voice_emotion_whisper")
    ap.add_argument("--png", default="docs/voice_emotion_whisper_confusion.png")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", default=None,
                    help="a TOML recipe whose keys (model layers l2 english) set the defaults")
    ap.add_argument("--bundle", default=None, help="also write the classifier asset here")
    args = ap.parse_args(argv)
    if args.config:
        import tomllib

        recipe = tomllib.loads(Path(args.config).read_text())
        ap.set_defaults(**{k: (",".join(map(str, v)) if isinstance(v, list) else v)
                           for k, v in recipe.items()})
        args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    root = shared_data_dir()
    if not (root / "emodb" / "wav").is_dir():
        print(f"no EmoDB under {root}", file=sys.stderr)
        return 2
    cache = Path(args.cache or Path(os.environ.get("EMOFACE_CACHE", Path.home() / ".cache" /
                                                   "emoface")) / "voiceemo")
    layers = [int(v) for v in args.layers.split(",")]
    l2s = [float(v) for v in args.l2.split(",")]
    model = load_speech_model(args.model)
    t0 = time.time()

    files = emodb_files(root)
    y = np.array([EMODB_EMOTIONS[f.name[5]] for f in files])
    spk = np.array([f.name[:2] for f in files])
    frames = cached_frames(cache, "emodb", files, model, layers)
    feats = {la: np.array([stats(h) for h in frames[la]]) for la in layers}

    extra, checks = None, {}
    sets = english_sets(root)
    if args.english:
        rng = np.random.default_rng(0)
        train = cached_frames(cache, "librispeech_train", sets["librispeech_train"], model,
                              layers, ENGLISH_MAX_S)
        picks = []
        for h in train[layers[0]]:
            n = len(windows(h))
            picks.append(rng.choice(n, min(ENGLISH_WINDOWS_PER_CLIP, n), replace=False))
        extra = {}
        for la in layers:
            X = np.concatenate([windows(h)[p] for h, p in zip(train[la], picks)])
            extra[la] = (X, np.array(["neutral"] * len(X)))
    print(f"features ready in {time.time() - t0:.0f} s", flush=True)

    cands = list(itertools.product(layers, l2s))
    pred, oof, chosen = nested_loso(feats, y, spk, cands, extra)
    conf = confusion_matrix(y, pred, SIX)
    pooled = uar(y, pred, SIX)
    per_class = {e: round(float(conf[i, i] / max(conf[i].sum(), 1)), 4) for i, e in enumerate(SIX)}

    # The model one would ship: candidate chosen by LOSO over all 8 speakers, fitted on all.
    full = speaker_folds(feats, y, spk, cands, extra)
    full_scores = {c: uar(y, full[c], SIX) for c in cands}
    layer, l2 = max(cands, key=lambda c: full_scores[c])
    Xall, yall = feats[layer], y
    if extra:
        Xall, yall = np.concatenate([Xall, extra[layer][0]]), np.concatenate([y, extra[layer][1]])
    held = {k: v for k, v in sets.items() if k != "librispeech_train" and v}
    tests = []
    for name, fs in held.items():
        fr = cached_frames(cache, name, fs, model, [layer], ENGLISH_MAX_S)[layer]
        tests += [windows(h) for h in fr]
    noise = {name: model.encode(x, layer=layer) for name, x in non_speech_signals().items()}
    tests += [windows(h) for h in noise.values()]
    shipped = fit_softmax(Xall, yall, l2)
    # Speech gate: how far a window may sit from the training rows (mean squared z-score)
    # before it is taken for something the classifier never heard (noise, music, silence).
    shipped["max_distance"] = float(np.percentile(distance(shipped, Xall), GATE_PERCENTILE))
    outs = [predict(shipped, t) for t in tests]
    k = 0
    for name, fs in held.items():
        P = np.array([o.mean(0) for o in outs[k:k + len(fs)]])
        k += len(fs)
        top = P.argmax(1)
        checks[name] = {"clips": len(fs), "heard_neutral": round(float(np.mean(top == 0)), 4),
                        "mean_p_neutral": round(float(P[:, 0].mean()), 4),
                        "heard": {SIX[c]: int((top == c).sum()) for c in range(len(SIX))
                                  if (top == c).any()}}
    for name in noise:
        p = outs[k].mean(0)
        k += 1
        checks[name] = {"top": SIX[int(p.argmax())], "p": round(float(p.max()), 4)}

    results = {
        "model": model.name, "layers": layers, "l2": l2s, "english_neutral": args.english,
        "protocol": "EmoDB leave-one-speaker-out, 6 classes; layer and l2 chosen inside each "
                    "fold by leave-one-speaker-out over its training speakers",
        "pooled": {"uar": round(pooled, 4), "accuracy": round(float(np.mean(pred == y)), 4),
                   "utterances": int(len(y)), "recall": per_class},
        "folds": chosen, "labels": SIX, "confusion": conf.tolist(),
        "shipped_choice": {"layer": layer, "l2": l2,
                           "loso_uar_all_speakers": {f"{a}/{b:g}": round(v, 4)
                                                     for (a, b), v in full_scores.items()}},
        "checks": checks, "seconds": round(time.time() - t0),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(conf, f"Voice emotion from Whisper {model.name} features, EmoDB leave-one-speaker-out\n"
               f"UAR {pooled:.3f} over {len(y)} utterances of 8 unseen speakers"
               + (" (English neutral added)" if args.english else ""), Path(args.png))
    print(f"pooled UAR {pooled:.3f}, accuracy {results['pooled']['accuracy']:.3f}; recall "
          + ", ".join(f"{e} {r:.2f}" for e, r in per_class.items()))
    print(conf)
    for name, c in checks.items():
        print(f"  {name}: {c}")
    print(f"wrote {out / 'results.json'}, {args.png}")
    if args.bundle:
        write_asset(Path(args.bundle), model, layer, shipped, oof, y, results, args)
    return 0


def write_asset(path: Path, model, layer: int, params: dict, oof: np.ndarray, y: np.ndarray,
                results: dict, args) -> None:
    """The bundled classifier with its calibration, fitted on the nested folds' out-of-fold
    probabilities (every EmoDB utterance heard by a model that never heard its speaker)."""
    from calibrate_voice_emotion import fit_p_min

    from emoface.engines.neural.calibration import expected_calibration_error, fit_temperature
    from emoface.engines.neural.whisper_emotion import FORMAT

    labels = np.array([SIX.index(v) for v in y])
    t = fit_temperature(oof, labels)
    z = np.log(np.clip(oof, 1e-12, None)) / t
    cal = np.exp(z - z.max(1, keepdims=True))
    cal /= cal.sum(1, keepdims=True)
    p_min = fit_p_min(cal, labels)
    r = lambda a: np.round(np.asarray(a, np.float64), 6).tolist()  # noqa: E731
    asset = {
        "format": FORMAT, "speech_model": model.name, "layer": layer,
        "window_s": WINDOW_FRAMES / 50.0, "hop_s": 1.0, "classes": SIX,
        "mean": r(params["mean"]), "scale": r(params["scale"]), "coef": r(params["coef"]),
        "bias": r(params["bias"]),
        "speech_gate": {"max_distance": round(params["max_distance"], 4),
                        "how": f"{GATE_PERCENTILE}th percentile over the training rows of the "
                               "mean squared standardised feature; a window farther than "
                               "this is heard as neutral at intensity 0"},
        "calibration": {
            "temperature": round(t, 4), "p_min": round(p_min, 4), "min_intensity": 0.15,
            "min_voiced": 0.05,
            "fitted_on": "EmoDB's 350 utterances of the 6 classes, each heard by the nested "
                         "leave-one-speaker-out fold that never trained on its speaker",
            "ece_before": round(expected_calibration_error(oof.max(1), oof.argmax(1) == labels), 4),
            "ece_after": round(expected_calibration_error(cal.max(1), cal.argmax(1) == labels), 4),
        },
        "training": {
            "command": "make voice-emotion (tools/voice_emotion_whisper.py --config "
                       f"{args.config} --bundle {path})",
            "data": "../shared/data: EmoDB (all 8 speakers, 6 classes, boredom left out) and "
                    "LibriSpeech train-clean-100 (251 speakers, 3 random 2-s windows each, "
                    "labelled neutral)" if args.english else "EmoDB only",
            "features": f"Whisper {model.name} encoder layer {layer}, mean and std over 2 s",
            "l2": results["shipped_choice"]["l2"],
            "leave_one_speaker_out": results["pooled"],
            "english_checks": results["checks"],
        },
    }
    path.write_text(json.dumps(asset, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB): T {t:.3f}, p_min {p_min:.3f}")


if __name__ == "__main__":
    sys.exit(main())
