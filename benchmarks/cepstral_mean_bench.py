"""The neural engine with the whole input's cepstral mean against the running mean a live
stream uses, on the held-out yardsticks: the probe sets (LibriVox, EmoDB 13+14: closure,
mouth r and LVE against the teacher), GRID real motion (lip aperture against video) and the
first second of a few unlike inputs (quiet, loud, 8 kHz, German).

    python benchmarks/cepstral_mean_bench.py [--grid-cache DIR] [--grid-clips N] [--json OUT]

``--grid-cache`` is the landmark cache of ``emoface dev real-motion --cache`` (landmarks
found there are not recomputed: mediapipe on 100 clips takes minutes).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

MEANS = ("utterance", "running")


def probe_sets(engines: dict) -> dict:
    from emoface.eval import lipsync, vertex
    from emoface.eval.probe import probe_items
    from emoface.eval.runner import FPS, SEED, prepare, teacher

    rig = vertex.reference_rig()
    out = {}
    for name, items in probe_items().items():
        preps = [p for p in map(prepare, items) if p.ref_phones]
        refs = [teacher(p) for p in preps]
        for mean, engine in engines.items():
            closed = total = 0
            rs, lves = [], []
            for prep, ref in zip(preps, refs):
                anim = engine.animate(prep.plain, "neutral", fps=FPS, seed=SEED)
                w = anim.weights
                c = lipsync.bilabial_closure(w, FPS, prep.ref_phones)
                closed, total = closed + c.closed, total + c.total
                n = min(len(w), len(ref.weights))
                rs.append(lipsync.mouth_opening_correlation(w[:n], ref.weights[:n], FPS).r)
                lves.append(vertex.vertex_metrics(anim, ref, rig).lve)
            out[f"{name} / {mean}"] = {"clips": len(preps), "closed": closed, "total": total,
                                       "r": round(float(np.mean(rs)), 4),
                                       "lve_mm": round(float(np.mean(lves)), 3)}
            print(name, mean, out[f"{name} / {mean}"], flush=True)
    return out


def real_motion(engines: dict, cache: Path | None, n_clips: int | None) -> dict:
    from emoface.arkit import lip_aperture
    from emoface.eval import realmotion as rm
    from emoface.eval.motion import jitter
    from emoface.eval.runner import SEED

    clips = rm.grid_split()[1][:n_clips]
    per = {mean: [] for mean in engines}
    for video in clips:
        ref, speech = rm.load_reference(video, cache)
        for mean, engine in engines.items():
            anim = engine.animate(speech, "neutral", fps=ref.fps, seed=SEED)
            per[mean].append(rm.clip_scores(lip_aperture(anim.weights.astype(np.float64)),
                                            jitter(anim), ref))
    out = {}
    for mean, rows in per.items():
        out[mean] = {k: v for k, v in rm.aggregate(rows).items()
                     if not isinstance(v, (list, dict))}
        print("GRID", mean, out[mean], flush=True)
    return out


def warm_up(engines: dict, data: Path) -> dict:
    """Per input: the largest weight difference (40 predicted channels) in the first second
    and after it, and the lip aperture's r between the two takes in each part."""
    from emoface.arkit import INDEX, lip_aperture
    from emoface.audio import Speech
    from emoface.engines.neural.config import PREDICTED_CHANNELS

    chans = [INDEX[n] for n in PREDICTED_CHANNELS if not n.startswith("eyeWide")]
    libri = sorted((data / "speech/librivox").glob("*.wav"))[0]
    inputs = {"LibriVox": (libri, 1.0), "LibriVox quiet (-30 dB)": (libri, 10 ** (-30 / 20)),
              "LibriVox loud (x4, clipped)": (libri, 4.0)}
    for f in sorted((data / "speech/asterisk").rglob("*.wav"))[:2]:
        inputs[f"Asterisk 8 kHz {f.stem}"] = (f, 1.0)
    for f in sorted((data / "emodb").rglob("*.wav"))[:2]:
        inputs[f"EmoDB German {f.stem}"] = (f, 1.0)
    out = {}
    level = {}   # each setting's take of the plain LibriVox clip
    for label, (path, gain) in inputs.items():
        s = Speech.from_file(path)
        s = Speech(np.clip(s.samples * gain, -1, 1).astype(np.float32), s.sample_rate)
        a, b = (engines[m].animate(s, "neutral", fps=30, seed=0).weights for m in MEANS)
        if label == "LibriVox":
            level = {"utterance": lip_aperture(a), "running": lip_aperture(b)}
        elif path == libri:
            # gain: each setting against its own take at the plain level (first s, after)
            out[label + " vs plain level"] = {
                m: [round(float(np.corrcoef(lip_aperture(w)[sl], level[m][sl])[0, 1]), 3)
                    for sl in (slice(0, 30), slice(30, None))]
                for m, w in zip(MEANS, (a, b))}
        d = np.abs(a[:, chans] - b[:, chans])
        la, lb = lip_aperture(a), lip_aperture(b)
        out[label] = {"seconds": round(s.duration, 2), "max_diff_first_s": round(float(d[:30].max()), 3),
                      "mean_diff_first_s": round(float(d[:30].mean()), 4),
                      "max_diff_after": round(float(d[30:].max()), 3) if len(d) > 30 else None,
                      "mean_diff_after": round(float(d[30:].mean()), 4) if len(d) > 30 else None,
                      "lip_r_first_s": round(float(np.corrcoef(la[:30], lb[:30])[0, 1]), 3),
                      "lip_r_after": round(float(np.corrcoef(la[30:], lb[30:])[0, 1]), 3)
                      if len(d) > 31 else None}
        print("warm-up", label, out[label], flush=True)
    return out


def main() -> int:
    import emoface
    from emoface.paths import shared_data_dir

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid-cache", type=Path, help="real-motion landmark cache")
    ap.add_argument("--grid-clips", type=int, help="first N held-out GRID clips (default 100)")
    ap.add_argument("--skip", default="", help="comma list of probe,grid,warmup to skip")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    engines = {m: emoface.load_engine("neural", cepstral_mean=m) for m in MEANS}
    results = {"loadavg_before": open("/proc/loadavg").read().split()[:3]}
    t0 = time.time()
    if "warmup" not in skip:
        results["warm_up"] = warm_up(engines, shared_data_dir())
    if "probe" not in skip:
        results["probe"] = probe_sets(engines)
    if "grid" not in skip:
        results["grid"] = real_motion(engines, args.grid_cache, args.grid_clips)
    results["seconds"] = round(time.time() - t0, 1)
    results["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    print(json.dumps({k: results[k] for k in ("seconds", "loadavg_before", "loadavg_after")}))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
