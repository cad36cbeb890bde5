"""Export speed and file size: 60 s of animation at 30 fps on the default and ICT rigs.

    .venv/bin/python benchmarks/export_bench.py [--seconds 60] [--fps 30] [--repeat 3]

Prints one row per (rig, format): rig load time (once), the first write (which pays for
importing pxr and loading USD's plugins), the median write time over
--repeat later runs, file size, and the read-back time. Rigs that are not available here are reported as
skipped. The animation is smooth random curves with head motion; its content does not change
sizes (weights are stored densely as float32), only its length does.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.animation import Animation
from emoface.errors import UserError
from emoface.export import read, write
from emoface.rig import load_rig

FORMATS = (".glb", ".usd", ".usda")


def smooth_animation(seconds: float, fps: float, seed: int = 0) -> Animation:
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    keys = rng.random((n // 6 + 2, 52))
    t = np.linspace(0, len(keys) - 1, n)
    weights = np.stack([np.interp(t, np.arange(len(keys)), keys[:, j]) for j in range(52)], 1)
    head = np.stack([0.15 * np.sin(t / (3 + j)) for j in range(3)], 1)
    return Animation(weights, fps, head=head)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rigs", default="default,ict")
    args = ap.parse_args()
    anim = smooth_animation(args.seconds, args.fps)
    print(f"animation: {anim.num_frames} frames ({args.seconds:g} s at {args.fps:g} fps)")
    print(f"{'rig':8} {'vertices':>8} {'format':6} {'load s':>7} {'first s':>8} "
          f"{'write s':>8} {'size MB':>8} {'read s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.rigs.split(","):
            t0 = time.perf_counter()
            try:
                rig = load_rig(spec)
            except UserError as exc:
                print(f"{spec:8} skipped: {exc}")
                continue
            load_s = time.perf_counter() - t0
            for ext in FORMATS:
                out = Path(tmp) / f"{spec}{ext}"
                times = []
                for _ in range(args.repeat + 1):
                    t0 = time.perf_counter()
                    write(anim, out, rig=rig)
                    times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                back = read(out)
                read_s = time.perf_counter() - t0
                assert np.abs(back.weights - anim.weights).max() < 1e-6
                print(f"{spec:8} {rig.num_vertices:8d} {ext:6} {load_s:7.2f} {times[0]:8.2f} "
                      f"{statistics.median(times[1:]):8.2f} {out.stat().st_size / 1e6:8.2f} "
                      f"{read_s:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
