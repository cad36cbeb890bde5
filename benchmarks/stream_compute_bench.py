"""Compute cost of concurrent streams in one process, without the server: N neural
streams fed the same chunks, either all together (``feed_many``: one batch per network
layer and one acoustic-model call per tick, as ``emoface serve`` does) or one by one
(``stream.feed`` each: as the server did before batching).

    python benchmarks/stream_compute_bench.py                    # 50 streams, 20, 100 and 300 ms chunks
    python benchmarks/stream_compute_bench.py --streams 10 --chunks 320
    python benchmarks/stream_compute_bench.py --uneven --batched-only   # chunks as a server's ticks
    python benchmarks/stream_compute_bench.py --tree /path/to/other/checkout   # another tree's code

Prints, per mode and chunk size, the process CPU seconds per second of audio per stream
(one BLAS/torch thread, as the server runs). With ``--uneven`` each stream's chunk of a
tick is drawn between 0.6 and 1.4 times the size, and one in 50 is a second of audio (a
stream catching up), as a loaded server's ticks are; the draws are seeded, the same for
every tree. Streams are ``emotion: auto`` on 4 s of
espeak-ng speech; N x that > 2 needs more than this machine's 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.stream_bench import speech_clip  # noqa: E402


def cpu_per_stream(engine, pcm, n: int, chunk: int, together: bool, uneven: bool = False) -> float:
    from emoface.engines.streaming import feed_many

    streams = [engine.stream(16000, emotion="auto", seed=i) for i in range(n)]
    rng = np.random.default_rng(0)

    def tick(parts):
        if together:
            feed_many(streams, parts)
        else:
            for s, part in zip(streams, parts):
                s.feed(part)

    tick([pcm[:chunk]] * n)    # first call: lazy set-up out of the timing
    if not uneven:
        t0 = time.process_time()
        for i in range(chunk, len(pcm), chunk):
            tick([pcm[i:i + chunk]] * n)
        return (time.process_time() - t0) / (n * (len(pcm) - chunk) / 16000)
    pos = np.full(n, chunk)
    fed = 0
    t0 = time.process_time()
    while pos.min() < len(pcm) - 16000:
        sizes = np.where(rng.random(n) < 0.02, 16000,
                         rng.integers(int(0.6 * chunk), int(1.4 * chunk) + 1, n))
        tick([pcm[p:p + k] for p, k in zip(pos, sizes)])
        fed += int(sizes.sum())
        pos += sizes
    return (time.process_time() - t0) / (fed / 16000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=50)
    ap.add_argument("--chunks", default="320,1600,4800", help="samples per tick (16 kHz), comma-separated")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--batched-only", action="store_true", help="skip the one-by-one mode")
    ap.add_argument("--uneven", action="store_true", help="chunks of a tick differ between streams")
    ap.add_argument("--tree", default=str(ROOT), help="the emoface checkout to measure")
    args = ap.parse_args()
    pcm = speech_clip()[:int(16000 * args.seconds)]
    sys.path.insert(0, args.tree)
    for name in [m for m in sys.modules if m == "emoface" or m.startswith("emoface.")]:
        del sys.modules[name]           # speech_clip loaded this tree's: measure --tree's
    from emoface.engines import load_engine
    from emoface.threads import one_maths_thread

    print(json.dumps({"tree": args.tree, "loadavg_before": os.getloadavg()}))
    with one_maths_thread(load_torch=True):
        engine = load_engine("neural")
        warm = engine.stream(16000, emotion="auto")   # lazy set-up (the emotion session)
        for i in range(0, min(len(pcm), 5 * 16000), 1600):
            warm.feed(pcm[i:i + 1600])
        for chunk in (int(c) for c in args.chunks.split(",")):
            for together in ((True,) if args.batched_only else (False, True)):
                cost = cpu_per_stream(engine, pcm, args.streams, chunk, together, args.uneven)
                print(json.dumps({"streams": args.streams, "chunk_ms": chunk / 16,
                                  "uneven": args.uneven,
                                  "mode": "batched" if together else "one by one",
                                  "cpu_s_per_audio_s_per_stream": round(cost, 4),
                                  "cores_for_all": round(cost * args.streams, 2)}), flush=True)
    print(json.dumps({"loadavg_after": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
