"""One client's stream on the server: its messages in order, its compute off the event
loop, its frames out through a bounded queue.

Compute runs in the server's ticks (:mod:`.ticks`, on a worker process or thread:
:mod:`.compute`), one job at a time per session; a job
takes every message that has arrived since the last one (audio joined into one block), so
a busy server answers in larger steps instead of falling behind in many small ones, and
the jobs of one tick are computed as one batch. Audio
waiting for compute is bounded (the session stops reading the socket above it: TCP then
slows the sender), and so are the frames waiting to be sent (a client that stops reading
is closed rather than buffered for).
"""
from __future__ import annotations

import asyncio
from collections import deque

from .compute import Handle
from .protocol import CLOSE_POLICY, ProtocolError, StreamConfig, end_message
from .ticks import Output


class Session:
    def __init__(self, handle: Handle, cfg: StreamConfig, max_pending_s: float, max_queued: int):
        self.handle, self.cfg = handle, cfg
        self.ops: deque = deque()
        self.pending_samples = 0
        self.max_pending = int(max_pending_s * cfg.sample_rate)
        self.room = asyncio.Event()
        self.room.set()
        self.out: asyncio.Queue = asyncio.Queue()
        self.max_queued = max_queued
        self.running = False
        self.ended = False
        self.failed: BaseException | None = None
        self.stop = asyncio.Event()      # set on failure: the server closes the connection
        self.frames_sent = 0

    # -------------------------------------------------------------- from the socket
    def add_audio(self, data: bytes) -> None:
        if len(data) % 2:
            raise ProtocolError("bad_audio", "binary messages are PCM16: an even number of bytes")
        self.ops.append(("audio", data))
        self.pending_samples += len(data) // 2
        if self.pending_samples > self.max_pending:
            self.room.clear()
        self._schedule()

    def set_emotion(self, emotion: str) -> None:
        self.ops.append(("emotion", emotion))
        self._schedule()

    def end(self) -> None:
        self.ops.append(("end", None))
        self._schedule()

    # -------------------------------------------------------------- compute
    def _schedule(self) -> None:
        if self.running or not self.ops or self.failed is not None:
            return
        batch = list(self.ops)
        self.ops.clear()
        self.running = True
        fut = self.handle.submit(batch)
        fut.add_done_callback(lambda f: self._done(f, batch))

    def _done(self, fut, batch) -> None:
        self.running = False
        self.pending_samples -= sum(len(v) // 2 for k, v in batch if k == "audio")
        if self.pending_samples <= self.max_pending:
            self.room.set()
        if fut.cancelled():                  # the server is stopping
            self.stop.set()
            return
        exc = fut.exception()
        if exc is not None:
            self.failed = exc
            self.stop.set()
            return
        out: Output = fut.result()
        if self.out.qsize() > self.max_queued:
            # The frames of earlier jobs are still there: the client does not read.
            self.failed = ProtocolError(
                "not_reading", f"over {self.max_queued} frames wait to be sent: the client "
                "does not read them", CLOSE_POLICY)
            while not self.out.empty():      # free them now: the connection is closing
                self.out.get_nowait()
            self.stop.set()
            return
        for m in out.messages:
            self.out.put_nowait(m)
        self.frames_sent += out.frames
        if out.ended:
            self.ended = True
            self.out.put_nowait(end_message(self.frames_sent, out.seconds))
            self.out.put_nowait(None)
            return
        self._schedule()
