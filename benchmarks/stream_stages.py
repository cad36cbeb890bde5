"""Where a live stream's CPU goes, by stage: N neural streams (``emotion: auto``) fed the
same chunks together (``feed_many``, as a server tick), the process CPU time of each stage
timed around its function, per second of audio per stream.

    python benchmarks/stream_stages.py                          # 25 streams, 100 ms ticks, 8 s
    python benchmarks/stream_stages.py --chunk 4800             # 300 ms ticks
    python benchmarks/stream_stages.py --tree /path/to/other/checkout   # the same on another tree

Stages: ``features`` (log-mel, cepstra, the acoustic model, the phone loop), ``network``
(the incremental network), ``heard`` (the live `auto` emotion: ``praat`` its pitch and
loudness, ``estimate`` the emotion branch), ``frames`` (the nonverbal layer and the
frames), ``gate`` (the speech gate). One BLAS/torch thread, as the server's workers run.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=25)
    ap.add_argument("--chunk", type=int, default=1600, help="samples per tick (16 kHz)")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--tree", default=str(ROOT), help="the emoface checkout to measure")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.stream_bench import speech_clip

    pcm = speech_clip()[:int(16000 * args.seconds)]
    sys.path.insert(0, args.tree)
    for name in [m for m in sys.modules if m == "emoface" or m.startswith("emoface.")]:
        del sys.modules[name]           # speech_clip loaded this tree's: measure --tree's
    from emoface.engines import load_engine
    from emoface.engines.neural import incremental, streaming
    from emoface.engines.streaming import feed_many
    from emoface.threads import one_maths_thread

    spent: dict[str, float] = defaultdict(float)

    def timed(name, func):
        def wrapper(*a, **k):
            t0 = time.process_time()
            try:
                return func(*a, **k)
            finally:
                spent[name] += time.process_time() - t0
        return wrapper

    streaming.analyse = timed("heard: praat", streaming.analyse)
    streaming.features_many = timed("features", streaming.features_many)
    streaming.HeardEmotion.push = timed("heard", streaming.HeardEmotion.push)
    streaming.HeardEmotion._estimate = timed("heard: estimate", streaming.HeardEmotion._estimate)
    streaming.NeuralStream._frames = timed("frames", streaming.NeuralStream._frames)
    streaming.SpeechGate.push = timed("gate", streaming.SpeechGate.push)
    incremental.push_many = timed("network", incremental.push_many)
    n, chunk = args.streams, args.chunk
    with one_maths_thread(load_torch=True):
        engine = load_engine("neural")
        streams = [engine.stream(16000, emotion="auto", seed=i) for i in range(n)]
        feed_many(streams, [pcm[:chunk]] * n)          # lazy set-up out of the timing
        spent.clear()
        load = os.getloadavg()[0]
        t0 = time.process_time()
        for i in range(chunk, len(pcm), chunk):
            feed_many(streams, [pcm[i:i + chunk]] * n)
        total = time.process_time() - t0
    audio = n * (len(pcm) - chunk) / 16000
    print(f"{args.tree}: {n} streams, {chunk / 16:.0f} ms ticks, load average {load:.2f} before")
    print(f"  {'all':16s} {total / audio * 1000:6.2f} ms CPU per audio s per stream")
    for name, cpu in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:16s} {cpu / audio * 1000:6.2f} ms ({cpu / total * 100:4.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
