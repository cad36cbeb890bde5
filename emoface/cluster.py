"""A pool of workers for ``emoface animate DIR``: a local one (``--workers N``, Dask
distributed on loopback) or a running Dask scheduler (``--cluster ADDRESS``).

Each worker runs :func:`emoface.batch.animate_job`, the code a single process runs, and
keeps its engine loaded for every file it gets; it reads the audio and writes the outputs
itself (atomically), so the files must be reachable by the same path on every worker:
a shared folder on a cluster. Why Dask rather than Ray, and how to start a cluster:
docs/cluster.md. Only this module imports dask, and only ``--workers``/``--cluster``
import this module.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

import distributed

from .batch import Job, Settings, animate_job, warm_up
from .errors import UserError
from .version import __version__

# How long to try reaching a scheduler, and to wait for its first worker.
CONNECT_TIMEOUT_S = 10.0
FIRST_WORKER_TIMEOUT_S = 60.0


class Pool:
    """Workers with the engine loaded, as a context manager::

        with Pool(Settings(engine="rules"), workers=2) as pool:
            for job, error in pool.animate(jobs): ...

    ``ready_s`` is how long the pool took to start (workers up, each engine loaded and
    warmed up: :func:`emoface.batch.warm_up`) and ``start_s`` each worker's engine start,
    by worker address."""

    def __init__(self, settings: Settings, address: str | None = None,
                 workers: int | None = None):
        if (address is None) == (workers is None):
            raise ValueError("give a scheduler address or a number of local workers")
        self.settings, self.address, self.workers = settings, address, workers
        self.ready_s = 0.0
        self.start_s: dict[str, float] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Pool:
        start = time.perf_counter()
        try:
            self._stack.enter_context(_quiet_logs())
            self.client = self._stack.enter_context(self._connect())
            self._warm_up()
        except BaseException:
            self._stack.close()
            raise
        self.ready_s = time.perf_counter() - start
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _connect(self) -> distributed.Client:
        if self.workers is not None:
            # Processes, one thread each: the engines use numpy's and torch's own threads,
            # and a process per worker keeps the GIL out of the way. The scheduler's web
            # page (":0") takes a free port: a fixed one may be another user's.
            cluster = self._stack.enter_context(distributed.LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=":0", silence_logs=logging.CRITICAL))
            return distributed.Client(cluster)
        try:
            client = distributed.Client(self.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserError(f"cannot reach the Dask scheduler at {self.address!r} "
                            f"({_first_line(exc)})") from None
        try:
            client.wait_for_workers(1, timeout=FIRST_WORKER_TIMEOUT_S)
        except (OSError, TimeoutError):
            client.close()
            raise UserError(f"the Dask scheduler at {self.address!r} has no workers "
                            f"(none joined in {FIRST_WORKER_TIMEOUT_S:g} s)") from None
        return client

    def _warm_up(self) -> None:
        """Load the engine on every worker now, in the thread that will animate there, and
        check each runs this emoface (a worker of another version would write other bytes)."""
        addresses = sorted(self.client.scheduler_info()["workers"])
        futures = {addr: self.client.submit(warm_up, self.settings, workers=[addr],
                                            allow_other_workers=False, pure=False)
                   for addr in addresses}
        for addr, future in futures.items():
            report = future.result()
            if report["emoface"] != __version__:
                raise UserError(f"worker {addr} runs emoface {report['emoface']}, "
                                f"this is {__version__}; install the same on every worker")
            self.start_s[addr] = report["start_s"]

    def animate(self, jobs: list[Job]) -> Iterator[tuple[Job, str | None]]:
        """Spread the jobs over the workers: (job, reason it failed or None) in the order
        they finish. A bug in a worker is raised here, the remaining jobs cancelled."""
        if self.address is not None:
            jobs = [job.absolute() for job in jobs]
        futures = self.client.map(animate_job, jobs, settings=self.settings, pure=False)
        by_key = {f.key: job for f, job in zip(futures, jobs)}
        try:
            for future in distributed.as_completed(futures):
                yield by_key.pop(future.key), future.result()
                future.release()
        finally:
            if by_key:
                self.client.cancel(futures)


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Dask's own log (a slow event loop on a busy machine, a worker's last heartbeat
    racing the scheduler's close) is not ours to show: a batch reports its files on
    stderr, one line each, and a task's failure reaches us as its exception."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
