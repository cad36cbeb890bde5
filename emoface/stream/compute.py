"""Where the server's streams are computed: in worker processes (the default, one per
core), or on one thread of the server process.

The server's event loop only moves bytes; a stream's compute (features, network,
nonverbal layer, and the frames' JSON) holds Python's interpreter lock, so in one process
every stream shares one core whatever the thread count. :class:`ProcessCompute` runs
``workers`` processes, each with its own copy of the engine; a session stays on one
worker for its lifetime (the one with the fewest sessions when it opened), and each
worker computes its sessions in ticks (:mod:`.ticks`): one request per tick over a pipe,
carrying every waiting session's messages, answered with their encoded frames.
:class:`LocalCompute` does the same on one thread of the server process (no extra memory
or start-up; for few streams).

Both hand a session a :class:`Handle`: ``submit(ops)`` gives a future of an
:class:`~.ticks.Output`.
"""
from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import signal
from concurrent.futures import ThreadPoolExecutor

from ..engines import engine_class, load_engine
from ..engines.base import streaming_engine_names
from ..errors import UserError
from ..threads import one_maths_thread
from .protocol import StreamConfig
from .ticks import Output, Ticks, encoded_jobs

WORKER_START_S = 300.0       # a worker loading torch and the engine on a busy machine


def check_engine(name: str) -> None:
    """UserError unless ``name`` is an engine that streams and can run here."""
    cls = engine_class(name)
    if not cls.capabilities.streams:
        raise UserError(f"the {name} engine does not stream; engines that do: "
                        f"{', '.join(streaming_engine_names())}")
    reason = cls.unavailable_reason()
    if reason:
        raise UserError(f"the {name} engine cannot run here: {reason}")


class Handle:
    """One session's stream on a compute: its engine's name, its look-ahead, its jobs."""

    def __init__(self, ticks: Ticks, key, engine: str, lookahead_s: float, on_close=None):
        self.ticks, self.key = ticks, key
        self.engine, self.lookahead_s = engine, lookahead_s
        self._on_close = on_close

    def submit(self, ops: list) -> asyncio.Future:
        return self.ticks.submit(self.key, ops)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close(self)
            self._on_close = None


# ---------------------------------------------------------------------------- one process
class LocalCompute:
    """Streams computed on one thread of this process (``engines`` shared with the server)."""

    def __init__(self, engine_for):
        self.engine_for = engine_for
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="emoface-stream")
        self.ticks = Ticks(self.pool, 1, encoded_jobs)
        self.opened = itertools.count()

    async def open(self, cfg: StreamConfig, engine: str) -> Handle:
        eng = self.engine_for(engine)
        stream = eng.stream(cfg.sample_rate, cfg.emotion, cfg.fps, cfg.seed)
        stream.stagger(next(self.opened))
        return Handle(self.ticks, (stream, cfg.format), eng.name,
                      getattr(stream, "lookahead_s", 0.0))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------------- processes
def _worker_main(conn, engine: str) -> None:
    """A worker process: load the engine, then answer one request per tick until the
    server closes the pipe. Requests are lists of (session id, messages); a session's
    first job is ("open", config), its last ("close", None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # the server stops its workers
    with one_maths_thread(load_torch=True):
        engines = {engine: load_engine(engine)}
        conn.send(("ready", None))
        streams: dict[int, tuple] = {}
        while True:
            try:
                jobs = conn.recv()
            except (EOFError, OSError):
                return
            if jobs is None:
                return
            conn.send(_worker_tick(jobs, streams, engines))


def _portable(exc: BaseException) -> tuple[str, str]:
    """An exception as (kind, text), for the pipe (some do not pickle)."""
    return ("user" if isinstance(exc, UserError) else "internal",
            str(exc) if isinstance(exc, UserError) else repr(exc))


def _worker_tick(jobs: list, streams: dict, engines: dict) -> list:
    results: list = [None] * len(jobs)
    compute, where = [], []
    for i, (sid, ops) in enumerate(jobs):
        if ops and ops[0][0] == "open":
            cfg, name = ops[0][1]
            try:
                if name not in engines:
                    engines[name] = load_engine(name)
                stream = engines[name].stream(cfg.sample_rate, cfg.emotion, cfg.fps, cfg.seed)
                stream.stagger(sid)
            except Exception as exc:   # noqa: BLE001 - the session reports it
                results[i] = _portable(exc)
                continue
            streams[sid] = (stream, cfg.format)
            results[i] = ("opened", (engines[name].name, getattr(stream, "lookahead_s", 0.0)))
        elif ops and ops[0][0] == "close":
            streams.pop(sid, None)
            results[i] = ("closed", None)
        elif sid in streams:
            compute.append((streams[sid], ops))
            where.append(i)
        else:
            results[i] = ("internal", f"no stream {sid} on this worker")
    for i, out in zip(where, encoded_jobs(compute)):
        results[i] = _portable(out) if isinstance(out, BaseException) else ("ok", out)
    return results


def _from_worker(result):
    kind, value = result
    if kind == "user":
        return UserError(value)
    if kind == "internal":
        return RuntimeError(value)
    return value


class _Worker:
    def __init__(self, context, engine: str, number: int):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, engine), daemon=True,
                                       name=f"emoface-stream-{number}")
        self.process.start()
        child.close()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix=f"emoface-stream-{number}")
        self.ticks = Ticks(self.pool, 1, self._tick)
        self.sessions = 0

    def wait_ready(self) -> None:
        if not self.conn.poll(WORKER_START_S):
            raise UserError(f"a stream worker did not start within {WORKER_START_S:g} s")
        try:
            self.conn.recv()
        except EOFError:
            raise UserError("a stream worker failed to start (exit code "
                            f"{self.process.exitcode})") from None

    def _tick(self, jobs: list) -> list:
        """On this worker's own thread: one request, one answer (the lock is released
        while waiting, so the event loop runs)."""
        self.conn.send(jobs)
        return [_from_worker(r) for r in self.conn.recv()]

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.conn.close()


class ProcessCompute:
    """Streams computed in ``workers`` processes (see the module notes)."""

    def __init__(self, engine: str, workers: int):
        context = multiprocessing.get_context("spawn")   # never fork a threaded server
        self.workers = [_Worker(context, engine, i) for i in range(workers)]
        try:
            for w in self.workers:
                w.wait_ready()
        except BaseException:
            self.close()
            raise
        self.ids = itertools.count()

    async def open(self, cfg: StreamConfig, engine: str) -> Handle:
        check_engine(engine)
        alive = [w for w in self.workers if w.process.is_alive()]
        if not alive:
            raise RuntimeError("no stream worker is running (they exited: see the log)")
        worker = min(alive, key=lambda w: w.sessions)
        sid = next(self.ids)
        worker.sessions += 1
        try:
            opened = await worker.ticks.submit(sid, [("open", (cfg, engine))])
        except BaseException:
            worker.sessions -= 1
            raise
        name, lookahead = opened

        def close(handle):
            worker.sessions -= 1
            try:   # frees the stream with the worker's next tick
                fut = worker.ticks.submit(sid, [("close", None)])
            except RuntimeError:   # the server is shutting down: the worker goes too
                return
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        return Handle(worker.ticks, sid, name, lookahead, close)

    def close(self) -> None:
        for w in self.workers:
            w.stop()


__all__ = ["Handle", "LocalCompute", "Output", "ProcessCompute", "check_engine"]
