"""The server's compute in ticks: every session's waiting messages taken together, the
audio of all of them fed as one batch (:func:`~emoface.engines.streaming.feed_many`:
one matrix product per network layer for all streams, not one per stream), so many
streams cost little more per tick than a few. A tick starts whenever a worker is free
and jobs wait; jobs arriving during a tick wait for the next one, so a loaded server
computes fewer, larger ticks (each stream's audio of the time the last tick took) rather
than falling behind in many small ones.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from ..engines.streaming import Frames, Stream, feed_many, pcm_to_float
from .protocol import frame_messages


@dataclass
class Output:
    """What one job gave a session: its frames as messages, ready to send."""

    messages: list            # str (JSON) or bytes (binary frames)
    frames: int
    ended: bool               # the stream was flushed: no more frames
    seconds: float            # audio received so far


def _steps(ops: list) -> list[tuple[str, object]]:
    """Messages in order, audio messages in a row joined into one block."""
    steps: list[tuple[str, object]] = []
    audio: list = []
    for kind, value in ops:
        if kind == "audio":
            audio.append(value)
            continue
        if audio:
            steps.append(("audio", np.concatenate([pcm_to_float(a) for a in audio])))
            audio = []
        steps.append((kind, value))
    if audio:
        steps.append(("audio", np.concatenate([pcm_to_float(a) for a in audio])))
    return steps


def run_jobs(jobs: list[tuple[Stream, list]]) -> list:
    """In a worker thread: each job's messages in order; the jobs' audio blocks at the
    same position fed together. Per job: (frames, ended) or the exception it raised (the
    other jobs go on)."""
    steps = [_steps(ops) for _, ops in jobs]
    out: list[list[Frames]] = [[] for _ in jobs]
    ended = [False] * len(jobs)
    failed: list[BaseException | None] = [None] * len(jobs)
    pos = [0] * len(jobs)
    while True:
        active = [i for i in range(len(jobs)) if failed[i] is None and pos[i] < len(steps[i])]
        if not active:
            break
        audio = [i for i in active if steps[i][pos[i]][0] == "audio"]
        if audio:
            try:
                frames = feed_many([jobs[i][0] for i in audio], [steps[i][pos[i]][1] for i in audio])
                for i, f in zip(audio, frames):
                    out[i].append(f)
            except Exception as exc:   # noqa: BLE001 - the sessions report it
                for i in audio:
                    failed[i] = exc
        for i in active:
            kind, value = steps[i][pos[i]]
            pos[i] += 1
            if kind == "audio" or failed[i] is not None:
                continue
            try:
                if kind == "emotion":
                    jobs[i][0].set_emotion(value)
                elif kind == "end":
                    out[i].append(jobs[i][0].flush())
                    ended[i] = True
            except Exception as exc:   # noqa: BLE001 - the session reports it
                failed[i] = exc
    return [failed[i] if failed[i] is not None else (out[i], ended[i]) for i in range(len(jobs))]


def encoded_jobs(jobs: list[tuple[tuple[Stream, str], list]]) -> list:
    """:func:`run_jobs` for ((stream, frame format), messages) jobs, each job's frames
    encoded as the protocol's messages (here, off the event loop): per job an
    :class:`Output` or the exception it raised."""
    results = run_jobs([(stream, ops) for (stream, _), ops in jobs])
    out: list = []
    for ((stream, fmt), _), result in zip(jobs, results):
        if isinstance(result, BaseException):
            out.append(result)
            continue
        frames, ended = result
        messages = [m for f in frames if len(f) for m in frame_messages(f, fmt)]
        out.append(Output(messages, sum(len(f) for f in frames), ended, stream.seconds))
    return out


# A tick costs about 0.6 ms of CPU per stream whatever its audio (per-stream set-up of
# every stage; 1 to 2 ms before the stages were batched across streams); audio costs
# about 14 ms per second per stream (benchmarks/stream_compute_bench.py, 50 streams, docs/
# live.md "Capacity"). Ticks of many streams are therefore spaced at
# least GAP_PER_JOB_S per stream apart, up to MAX_GAP_S: with many streams a tick waits
# for more audio rather than spending the core on set-up; one stream is not slowed.
GAP_PER_JOB_S = 0.004
MAX_GAP_S = 0.1


class Ticks:
    """Collects the sessions' jobs and runs them in batches, ``run(jobs)`` on ``workers``
    threads of ``pool`` at most at once; ``run`` takes [(key, messages)] and returns one
    result or exception per job. Ticks start at least ``GAP_PER_JOB_S`` per waiting job
    apart (at most ``MAX_GAP_S``)."""

    def __init__(self, pool: Executor, workers: int, run: Callable[[list], list] = run_jobs):
        self.pool, self.workers, self.run = pool, workers, run
        self.waiting: list[tuple[object, list, asyncio.Future]] = []
        self.running = 0
        self.last_start = float("-inf")
        self.timer: asyncio.TimerHandle | None = None
        self.start_soon = False

    def submit(self, key, ops: list) -> asyncio.Future:
        """A future of the result of ``ops`` run for ``key`` (a stream, a session) in the
        next tick."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.waiting.append((key, ops, fut))
        self._start_soon(loop)
        return fut

    def _start_soon(self, loop) -> None:
        # A tick starts after the loop's current round of callbacks, not at the first
        # submit: when a tick ends, every session it answered submits its next job from
        # its own callback, and those jobs belong in one tick (starting at the first would
        # compute that session alone, the others a tick later).
        if not self.start_soon:
            self.start_soon = True
            loop.call_soon(self._soon)

    def _soon(self) -> None:
        self.start_soon = False
        self._start()

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        while self.waiting and self.running < self.workers:
            gap = min(MAX_GAP_S, GAP_PER_JOB_S * len(self.waiting))
            wait = self.last_start + gap - loop.time()
            if wait > 0:
                if self.timer is None:
                    self.timer = loop.call_later(wait, self._timer_fired)
                return
            self.last_start = loop.time()
            jobs, self.waiting = self.waiting, []
            try:
                tick = loop.run_in_executor(self.pool, self.run,
                                            [(key, ops) for key, ops, _ in jobs])
            except RuntimeError:          # the pool is shut down: the server is stopping
                for _, _, fut in jobs:
                    fut.cancel()
                return
            self.running += 1
            tick.add_done_callback(lambda f, jobs=jobs: self._finished(f, jobs))

    def _timer_fired(self) -> None:
        self.timer = None
        self._start()

    def _finished(self, tick: asyncio.Future, jobs: list) -> None:
        self.running -= 1
        if tick.cancelled():
            results = [asyncio.CancelledError()] * len(jobs)
        elif tick.exception() is not None:
            results = [tick.exception()] * len(jobs)
        else:
            results = tick.result()
        for (_, _, fut), result in zip(jobs, results):
            if fut.done():
                continue
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result)
        self._start_soon(asyncio.get_running_loop())
