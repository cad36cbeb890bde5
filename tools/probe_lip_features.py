"""Probe: how well do pretrained speech features predict real lips? (docs/experiments.md,
"2026-12-07, what pretrained speech features buy for the lips"; issue 20 part 3.)

GRID talker s1 (``emoface.eval.realmotion``): per video frame (25 fps) a feature vector
from the clip's soundtrack, then ridge regressions to (a) the raw inner-lip landmark
opening and (b) the captured take's lip aperture. Fitted on the 200 fit clips of
``grid_split()``; the ridge strength and the frame context are chosen by 5-fold
cross-validation over those clips, grouped by clip; scored once on the 100 held-out
clips with ``clip_scores`` and ``aggregate``, exactly as the real-motion benchmark scores
an engine.

Feature sets (each z-scored and reduced to ``--dims`` principal components on the fit
clips before the context is stacked, so every set gets the same regression capacity):

* ``log-mel``: ``emoface.audio.features.log_mel`` (100 fps, mean of 4 frames);
* ``log-mel + phones``: with ``phone_scores`` (84 filtered columns, running cepstral mean,
  as the neural engine computes them);
* ``tiny.en L1..L4``, ``base L2..L6``: Whisper encoder layer L (50 fps, mean of 2 frames)
  of the whole clip at once (the encoder sees all of it: bidirectional);
* ``tiny.en Lk streamed`` (``--streamed k``): the same layer computed as a live stream
  must: frames in blocks of 160 ms, each block encoded from the audio that ends 200 ms
  after the block starts, so no frame sees more than 200 ms ahead.

Two regressions per set: ``sym`` stacks frames t-k..t+k (k chosen by CV); ``causal``
stacks t-p..t+a with a <= 5 frames (200 ms), p and a chosen by CV.

Landmarks come from the existing landmark cache (``--landmarks``, never recomputed);
features are cached per clip under ``~/.cache/emoface/probe`` (resumable).

    OMP_NUM_THREADS=1 python tools/probe_lip_features.py --landmarks /tmp/rc/gridcache \\
        --json /tmp/probe.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emoface.eval.realmotion import (
    Reference,
    Word,
    aggregate,
    clip_scores,
    grid_split,
    load_reference,
)

CACHE = Path(os.environ.get("EMOFACE_CACHE", Path.home() / ".cache" / "emoface")) / "probe"
VERSION = 1
VIDEO_FPS = 25
SYM_K = (0, 2, 4, 6, 8, 10, 12, 16)
CAUSAL_PAST = (4, 8, 12, 16)
CAUSAL_AHEAD = (0, 2, 5)               # frames; 5 frames = 200 ms
ALPHAS = np.logspace(-1, 5, 13)
FOLDS = 5
TINY_LAYERS = (1, 2, 3, 4)
BASE_LAYERS = (2, 3, 4, 5, 6)
STREAM_BLOCK = 4                       # video frames per streamed block (160 ms)
STREAM_AHEAD_S = 0.2
NEURAL_ROW = {"r_capture": 0.56, "r_raw": 0.50, "closures_hit": 73, "closures_seen": 105,
              "false_closure_share": 0.033}   # BENCHMARKS.md, "Real motion", not recomputed


def to_video_rate(feats: np.ndarray, per_frame: int, n: int) -> np.ndarray:
    """Mean of each video frame's ``per_frame`` feature frames, edge-padded to ``n``."""
    need = n * per_frame
    if len(feats) < need:
        feats = np.concatenate([feats, np.repeat(feats[-1:], need - len(feats), 0)])
    return feats[:need].reshape(n, per_frame, -1).mean(1).astype(np.float32)


def streamed_layer(model, samples: np.ndarray, layer: int, n: int) -> np.ndarray:
    """Layer features at 25 fps as a stream would see them: block b (frames
    4b..4b+3) encoded from the audio up to 200 ms after the block's start."""
    out = np.zeros((n, model.dim), np.float32)
    for a in range(0, n, STREAM_BLOCK):
        b = min(n, a + STREAM_BLOCK)
        end = int(round((a / VIDEO_FPS + STREAM_AHEAD_S) * 16000))
        feats = model.encode(samples[:max(end, 640)], layer=layer)
        feats = to_video_rate(feats, 2, (len(feats) + 1) // 2)
        take = feats[a:b]
        out[a:a + len(take)] = take
        if len(take) < b - a:             # past the audio's end: hold the last frame
            out[a + len(take):b] = feats[-1]
    return out


class Models:
    def __init__(self):
        self._m = {}

    def __call__(self, name):
        if name not in self._m:
            from emoface.speech import load_speech_model
            self._m[name] = load_speech_model(name)
        return self._m[name]


def clip_features(video: Path, landmarks: Path, models: Models, streamed: list[int],
                  base: bool) -> dict:
    """Everything the probe needs of one clip, from the cache or computed and cached."""
    path = CACHE / f"{video.stem}-v{VERSION}.npz"
    have = dict(np.load(path, allow_pickle=False)) if path.exists() else {}
    want = ["raw", "captured", "mel", "phones"] + [f"tiny{L}" for L in TINY_LAYERS]
    want += [f"base{L}" for L in BASE_LAYERS] if base else []
    want += [f"tiny{L}s" for L in streamed]
    if all(k in have for k in want):
        return have
    from emoface.audio.features import log_mel
    from emoface.audio.phonetic import phone_scores
    ref, speech = load_reference(video, landmarks)
    x, n = speech.samples, len(ref.raw)
    have.update(raw=ref.raw, captured=ref.captured,
                words=np.array(json.dumps([[w.start, w.end, w.word] for w in ref.words])))
    if "mel" not in have:
        have["mel"] = to_video_rate(log_mel(x), 4, n)
        have["phones"] = to_video_rate(phone_scores(x, True, "running"), 4, n)
    for L in TINY_LAYERS:
        if f"tiny{L}" not in have:
            have[f"tiny{L}"] = to_video_rate(models("tiny.en").encode(x, layer=L), 2, n)
    for L in BASE_LAYERS if base else ():
        if f"base{L}" not in have:
            have[f"base{L}"] = to_video_rate(models("base").encode(x, layer=L), 2, n)
    for L in streamed:
        if f"tiny{L}s" not in have:
            have[f"tiny{L}s"] = streamed_layer(models("tiny.en"), x, L, n)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **have)
    tmp.replace(path)
    return have


def reference(c: dict, name: str) -> Reference:
    words = [Word(*w) for w in json.loads(str(c["words"]))]
    return Reference(name, float(VIDEO_FPS), c["raw"].astype(np.float64),
                     c["captured"].astype(np.float64), float("nan"), words)


def feature_sets(base: bool, streamed: list[int]) -> dict[str, list[str]]:
    sets = {"log-mel": ["mel"], "log-mel + phones": ["mel", "phones"]}
    sets.update({f"tiny.en L{L}": [f"tiny{L}"] for L in TINY_LAYERS})
    sets.update({f"tiny.en L{L} streamed": [f"tiny{L}s"] for L in streamed})
    if base:
        sets.update({f"base L{L}": [f"base{L}"] for L in BASE_LAYERS})
    return sets


# --------------------------------------------------------------------- regression
def stack(x: np.ndarray, offsets: range) -> np.ndarray:
    """Frames t+o for every offset o, edge-padded within the clip."""
    n = len(x)
    idx = np.clip(np.arange(n)[:, None] + np.array(list(offsets))[None], 0, n - 1)
    return x[idx].reshape(n, -1)


class Reducer:
    """z-score, then the leading principal components (fitted on the fit clips)."""

    def __init__(self, frames: np.ndarray, dims: int):
        self.mean = frames.mean(0)
        self.std = frames.std(0) + 1e-6
        z = (frames - self.mean) / self.std
        _, _, vt = np.linalg.svd(z - z.mean(0), full_matrices=False)
        self.basis = vt[:dims].T

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std) @ self.basis


def ridge_path(gram, xty, sx, sy, n, xva, alphas):
    """Validation predictions (alphas, n_val, targets) of ridge fits with an intercept,
    from the training rows' sums: x'x, x'y, sum x, sum y and their count (one
    eigendecomposition serves every alpha)."""
    mx, my = sx / n, sy / n
    lam, v = np.linalg.eigh(gram - n * np.outer(mx, mx))
    vc = v.T @ (xty - n * np.outer(mx, my))
    xv = (xva - mx) @ v
    return np.stack([my + xv @ (vc / (lam + a)[:, None]) for a in alphas])


def ridge_fit(x, y, alpha):
    mx, my = x.mean(0), y.mean(0)
    xc = x - mx
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - my))
    return lambda z: my + (z - mx) @ w


def design(feats: list[np.ndarray], offsets: range) -> np.ndarray:
    return np.concatenate([stack(f, offsets) for f in feats]).astype(np.float64)


def choose(fit_feats, fit_y, groups, contexts):
    """(cv score, context, alpha) with the lowest validation MSE (relative to each
    target's variance, mean of the two targets), 5 folds grouped by clip."""
    y = np.concatenate(fit_y)
    ok = np.isfinite(y).all(1)
    best = None
    for offsets in contexts:
        x = design(fit_feats, offsets)[ok]
        yy, g = y[ok], groups[ok] % FOLDS
        parts = [(x[g == f], yy[g == f]) for f in range(FOLDS)]
        sums = [(xf.T @ xf, xf.T @ yf, xf.sum(0), yf.sum(0), len(xf)) for xf, yf in parts]
        total = [sum(s[i] for s in sums) for i in range(5)]
        err = np.zeros((len(ALPHAS), y.shape[1]))
        for f, (xf, yf) in enumerate(parts):
            tr = [t - s for t, s in zip(total, sums[f])]
            pred = ridge_path(*tr, xf, ALPHAS)
            err += ((pred - yf[None]) ** 2).sum(1)
        err /= ok.sum()
        score = (err / y[ok].var(0)).mean(1)
        i = int(np.argmin(score))
        if best is None or score[i] < best[0]:
            best = (score[i], offsets, float(ALPHAS[i]))
    return best


def run(args) -> dict:
    fit_clips, held_clips = grid_split()
    models, streamed = Models(), [int(s) for s in args.streamed.split(",") if s]
    clips = {}
    for v in tqdm(fit_clips + held_clips, desc="features", unit="clip", file=sys.stderr,
                  dynamic_ncols=True):
        clips[v.stem] = clip_features(v, Path(args.landmarks), models, streamed, args.base)
    fit_names = [v.stem for v in fit_clips]
    held_names = [v.stem for v in held_clips]
    groups = np.concatenate([np.full(len(clips[c]["raw"]), i) for i, c in enumerate(fit_names)])
    fit_y = [np.stack([clips[c]["raw"], clips[c]["captured"]], 1) for c in fit_names]
    sym = [range(-k, k + 1) for k in SYM_K]
    causal = [range(-p, a + 1) for p in CAUSAL_PAST for a in CAUSAL_AHEAD]
    refs = {c: reference(clips[c], c) for c in held_names}
    results = {}
    sets = feature_sets(args.base, streamed)
    if args.only:
        sets = {k: v for k, v in sets.items() if k in args.only.split(",")}
    for label, keys in tqdm(sets.items(), desc="fits", unit="set", file=sys.stderr,
                            dynamic_ncols=True):
        raw_fit = [np.concatenate([clips[c][k] for k in keys], 1) for c in fit_names]
        reduce = Reducer(np.concatenate(raw_fit), args.dims)
        fit_feats = [reduce(f) for f in raw_fit]
        held_feats = [reduce(np.concatenate([clips[c][k] for k in keys], 1)) for c in held_names]
        for variant, contexts in (("sym", sym), ("causal", causal)):
            cv, offsets, alpha = choose(fit_feats, fit_y, groups, contexts)
            x, y = design(fit_feats, offsets), np.concatenate(fit_y)
            ok = np.isfinite(y).all(1)
            rows = {}
            for t, target in enumerate(("raw", "captured")):
                predict = ridge_fit(x[ok], y[ok, t], alpha)
                per_clip = [clip_scores(predict(design([f], offsets)), float("nan"), refs[c])
                            for f, c in zip(held_feats, held_names)]
                rows[target] = aggregate(per_clip)
                rows[target]["per_clip_r_raw"] = [c["r_raw"] for c in per_clip]
            results[f"{label} | {variant}"] = {
                "context": [offsets.start, offsets.stop - 1], "alpha": alpha,
                "cv_relative_mse": float(cv), "fit_to_raw": rows["raw"],
                "fit_to_captured": rows["captured"]}
            tqdm.write(f"{label:24s} {variant:6s} ctx {offsets.start:+d}..{offsets.stop - 1:+d} "
                       f"a {alpha:g} cv {cv:.3f} | raw-fit r_raw {rows['raw']['r_raw']:.3f} | "
                       f"cap-fit r_cap {rows['captured']['r_capture']:.3f} r_raw "
                       f"{rows['captured']['r_raw']:.3f} clos "
                       f"{rows['captured']['closures_hit']}/{rows['captured']['closures_seen']}"
                       f" false {100 * rows['captured']['false_closure_share']:.1f}%",
                       file=sys.stderr)
    return {"fit_clips": len(fit_names), "held_clips": len(held_names), "dims": args.dims,
            "neural_engine_benchmark_row": NEURAL_ROW, "results": results}


def markdown(res: dict) -> str:
    lines = ["| features | regression | context (frames) | r vs raw, fit to raw | r vs raw, fit "
             "to aperture | r vs captured | b/p/m closures | closed while open |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for label, r in res["results"].items():
        a, b = r["context"]
        raw, cap = r["fit_to_raw"], r["fit_to_captured"]
        lines.append(f"| {label} | {a:+d}..{b:+d} | {raw['r_raw']:.2f} | {cap['r_raw']:.2f} | "
                     f"{cap['r_capture']:.2f} | {cap['closures_hit']}/{cap['closures_seen']} | "
                     f"{100 * cap['false_closure_share']:.1f} % |")
    n = res["neural_engine_benchmark_row"]
    lines.append(f"| neural engine (BENCHMARKS.md) | - | - | - | {n['r_raw']:.2f} | "
                 f"{n['r_capture']:.2f} | {n['closures_hit']}/{n['closures_seen']} | "
                 f"{100 * n['false_closure_share']:.1f} % |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--landmarks", required=True, help="the real-motion landmark cache")
    ap.add_argument("--dims", type=int, default=64, help="principal components per set")
    ap.add_argument("--streamed", default="", help="tiny.en layers also run as a stream, e.g. 2")
    ap.add_argument("--base", action="store_true", help="also Whisper base layers 2..6")
    ap.add_argument("--only", default="", help="comma-separated feature-set labels")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    res = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1, default=float))
    sys.stdout.write(markdown(res))


if __name__ == "__main__":
    main()
