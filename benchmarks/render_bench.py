"""Render speed: frames per second of the offscreen renderer on the default and ICT rigs.

    .venv/bin/python benchmarks/render_bench.py [--size 512] [--frames 120] [--rigs default,ict]

For each rig: vertices and visible triangles, set-up time (mesh preparation, GL objects),
then three timed passes over the same smooth random animation at --size x --size:

* ``render``: rig evaluation, normals, upload, draw and read-back (what a video needs);
* ``draw``: the same without evaluating the rig (normals, upload, draw, read-back);
* ``video``: the whole ``.mp4`` path (render + H.264/AAC encoding by ffmpeg), as frames of
  video per second of wall time, with a matching silent WAV as the audio.

Timings are medians of --repeat runs; on a shared CPU they vary by 20-30 %.
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
from emoface.render.scene import FaceRenderer
from emoface.render.video import write_mp4
from emoface.rig import load_rig


def smooth_animation(frames: int, fps: float = 30.0, seed: int = 0) -> Animation:
    rng = np.random.default_rng(seed)
    keys = 0.6 * rng.random((frames // 6 + 2, 52))
    t = np.linspace(0, len(keys) - 1, frames)
    weights = np.stack([np.interp(t, np.arange(len(keys)), keys[:, j]) for j in range(52)], 1)
    head = np.stack([0.12 * np.sin(t / (3 + j)) for j in range(3)], 1)
    eyes = np.repeat(0.2 * np.sin(t / 2)[:, None], 6, 1)
    return Animation(weights, fps, head=head, eyes=eyes)


def _median_fps(fn, frames: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return frames / statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rigs", default="default,ict")
    ap.add_argument("--no-video", action="store_true", help="skip the .mp4 pass")
    args = ap.parse_args()
    anim = smooth_animation(args.frames)
    print(f"{args.frames} frames at {args.size}x{args.size}, median of {args.repeat}")
    print(f"{'rig':8} {'vertices':>8} {'triangles':>9} {'setup s':>8} {'render fps':>10} "
          f"{'draw fps':>9} {'video fps':>9}")
    for spec in args.rigs.split(","):
        try:
            rig = load_rig(spec)
        except UserError as exc:
            print(f"{spec:8} skipped: {exc}")
            continue
        t0 = time.perf_counter()
        r = FaceRenderer(rig, args.size, "three-quarter")
        setup = time.perf_counter() - t0
        list(r.frames(anim, range(5)))  # warm-up: shader compile, first upload

        render_fps = _median_fps(lambda r=r: sum(1 for _ in r.frames(anim)), args.frames,
                                 args.repeat)
        pos = r.positions(anim.weights[0])

        def draw_only(r=r, pos=pos):
            for _ in range(args.frames):
                r.render_positions(pos)

        # Rig evaluation excluded: reuse one posed mesh.
        draw_fps = _median_fps(draw_only, args.frames, args.repeat)
        r.release()
        video_fps = float("nan")
        if not args.no_video:
            import soundfile

            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "a.wav"
                soundfile.write(wav, np.zeros(int(16000 * anim.duration), np.float32), 16000)
                out = Path(tmp) / "a.mp4"
                video_fps = _median_fps(
                    lambda out=out, wav=wav, rig=rig: write_mp4(anim, out, audio=wav, rig=rig,
                                                                size=args.size),
                    anim.num_frames, 1)
        print(f"{spec:8} {rig.num_vertices:8d} {len(r.mesh.triangles):9d} {setup:8.2f} "
              f"{render_fps:10.1f} {draw_fps:9.1f} {video_fps:9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
