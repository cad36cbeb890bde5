"""Compute cost of concurrent streams in one process, without the server: N neural
streams fed the same chunks, either all together (``feed_many``: one batch per network
layer and one acoustic-model call per tick, as ``emoface serve`` does) or one by one
(``stream.feed`` each: as the server did before batching).

    python benchmarks/stream_compute_bench.py                    # 50 streams, 20, 100 and 300 ms chunks
    python benchmarks/stream_compute_bench.py --streams 10 --chunks 320

Prints, per mode and chunk size, the process CPU seconds per second of audio per stream
(one BLAS/torch thread, as the server runs). Streams are ``emotion: auto`` on 4 s of
espeak-ng speech; N x that > 2 needs more than this machine's 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.stream_bench import speech_clip  # noqa: E402


def cpu_per_stream(engine, pcm, n: int, chunk: int, together: bool) -> float:
    from emoface.engines.streaming import feed_many

    streams = [engine.stream(16000, emotion="auto", seed=i) for i in range(n)]

    def tick(part):
        if together:
            feed_many(streams, [part] * n)
        else:
            for s in streams:
                s.feed(part)

    tick(pcm[:chunk])          # first call: lazy set-up out of the timing
    t0 = time.process_time()
    for i in range(chunk, len(pcm), chunk):
        tick(pcm[i:i + chunk])
    return (time.process_time() - t0) / (n * (len(pcm) - chunk) / 16000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=50)
    ap.add_argument("--chunks", default="320,1600,4800", help="samples per tick (16 kHz), comma-separated")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--batched-only", action="store_true", help="skip the one-by-one mode")
    args = ap.parse_args()
    from emoface.engines import load_engine
    from emoface.threads import one_maths_thread

    pcm = speech_clip()[:int(16000 * args.seconds)]
    print(json.dumps({"loadavg_before": os.getloadavg()}))
    with one_maths_thread(load_torch=True):
        engine = load_engine("neural")
        warm = engine.stream(16000, emotion="auto")   # lazy set-up (the emotion session)
        for i in range(0, min(len(pcm), 5 * 16000), 1600):
            warm.feed(pcm[i:i + 1600])
        for chunk in (int(c) for c in args.chunks.split(",")):
            for together in ((True,) if args.batched_only else (False, True)):
                cost = cpu_per_stream(engine, pcm, args.streams, chunk, together)
                print(json.dumps({"streams": args.streams, "chunk_ms": chunk / 16,
                                  "mode": "batched" if together else "one by one",
                                  "cpu_s_per_audio_s_per_stream": round(cost, 4),
                                  "cores_for_all": round(cost * args.streams, 2)}), flush=True)
    print(json.dumps({"loadavg_after": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
