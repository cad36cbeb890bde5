"""The server's ticks: the jobs of many sessions run as one batch, each in its own order,
one session's error its own."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from emoface.audio.speech import Speech  # noqa: E402
from emoface.engines import load_engine  # noqa: E402
from emoface.engines.neural.checkpoint import weights_available  # noqa: E402
from emoface.engines.streaming import Frames  # noqa: E402
from emoface.errors import UserError  # noqa: E402
from emoface.stream.ticks import run_jobs  # noqa: E402

pytestmark = pytest.mark.skipif(not weights_available(), reason="bundled weights absent")


def pcm_messages(x: np.ndarray, size: int) -> list:
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
    return [("audio", pcm[i:i + size].tobytes()) for i in range(0, len(pcm), size)]


def test_jobs_in_one_tick_equal_each_alone_and_errors_stay_their_own():
    from emoface.threads import one_maths_thread

    x = Speech.synthesize("Maybe a snack for her brother Bob.", rate=160).samples
    engine = load_engine("neural")
    msgs = pcm_messages(x, 640)
    half = len(msgs) // 2
    jobs_ops = [msgs[:half] + [("emotion", "sad")] + msgs[half:] + [("end", None)],
                msgs[:3] + [("emotion", "no-such-emotion")] + msgs[3:],
                pcm_messages(x[::-1].copy(), 1000)[:5]]
    with one_maths_thread():
        streams = [engine.stream(16000, emotion="happy", seed=i) for i in range(3)]
        results = run_jobs(list(zip(streams, jobs_ops)))
        assert isinstance(results[1], UserError)
        frames, ended = results[0]
        assert ended and not results[2][1]
        alone = engine.stream(16000, emotion="happy", seed=0)
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
        cut = sum(len(m[1]) // 2 for m in msgs[:half])
        parts = [alone.feed(pcm[:cut])]
        alone.set_emotion("sad")
        parts += [alone.feed(pcm[cut:]), alone.flush()]
    got = Frames.join([f for f in frames if len(f)])
    want = Frames.join([p for p in parts if len(p)])
    np.testing.assert_allclose(got.weights, want.weights, atol=1e-5)
    np.testing.assert_allclose(got.amounts, want.amounts, atol=1e-6)


def test_jobs_arriving_during_a_tick_make_the_next_tick_together():
    """A loaded server computes bigger batches: whatever waits when a tick ends is one tick."""
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from emoface.stream.ticks import Ticks

    release = threading.Event()
    batches: list[list] = []

    def run(jobs):
        batches.append([key for key, _ in jobs])
        release.wait(10)
        return [f"done {key}" for key, _ in jobs]

    async def main():
        with ThreadPoolExecutor(1) as pool:
            ticks = Ticks(pool, 1, run)
            first = ticks.submit("a", [])
            await asyncio.sleep(0.05)               # the first tick is running
            later = [ticks.submit(k, []) for k in "bcd"]
            release.set()
            return await asyncio.gather(first, *later)

    assert asyncio.run(main()) == ["done a", "done b", "done c", "done d"]
    assert batches == [["a"], ["b", "c", "d"]]


def test_jobs_resubmitted_as_a_tick_ends_make_one_tick():
    """Each session answered by a tick submits its next job from its own callback: those
    jobs are one tick, not the first session's alone and the others after it."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from emoface.stream.ticks import Ticks

    batches: list[list] = []

    def run(jobs):
        batches.append(sorted(key for key, _ in jobs))
        return [key for key, _ in jobs]

    async def main():
        with ThreadPoolExecutor(1) as pool:
            ticks = Ticks(pool, 1, run)
            again: list = []

            def resubmit(fut):      # what a session does when its job is answered
                again.append(ticks.submit(fut.result() + "2", []))

            first = [ticks.submit(k, []) for k in "abc"]
            for f in first:
                f.add_done_callback(resubmit)
            await asyncio.gather(*first)
            await asyncio.sleep(0)
            await asyncio.gather(*again)

    asyncio.run(main())
    assert batches == [["a", "b", "c"], ["a2", "b2", "c2"]]
