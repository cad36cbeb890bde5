"""Files per second of a folder batch on one process and on a local pool of workers
(``emoface animate DIR`` and ``--workers N``), and what a worker costs to start.

    .venv/bin/python benchmarks/cluster_bench.py [--clips 200] [--workers 2] [--engine rules]

Cuts ``--clips`` pieces of 2.0 to 3.0 s from the Cathy corpus (../shared/data/speech/cathy)
into a temporary folder, then animates them with the batch's code (emoface.batch; the
default settings of `emoface animate`: emotion auto, 30 fps, .csv .json .npz per file):

- one process: the engine loaded and warmed up (timed: the start cost), then every file;
- a pool (emoface.cluster.Pool): started (timed: workers up, each engine loaded and warmed
  up), then every file;

checks that the two wrote the same bytes, and prints the rows of BENCHMARKS.md ("Batch
animation on a pool of workers") with the load average before and after. CPU s per file:
the CPU time the animating process(es) used per file (on one process, all its threads),
which with the wall-clock rate says how much of a core a worker really had.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil  # a dependency of distributed
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emoface import batch, cluster  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402


def cut_clips(folder: Path, count: int) -> float:
    """``count`` pieces of 2.0-3.0 s of real speech; their total seconds."""
    sources = sorted((shared_data_dir() / "speech" / "cathy" / "flac").glob("*.flac"))
    if len(sources) < count:
        sys.exit(f"need {count} clips in {shared_data_dir()}/speech/cathy/flac, found {len(sources)}")
    total = 0.0
    for i, source in enumerate(sources[:count]):
        samples, sr = sf.read(source, dtype="float32")
        piece = samples[: int((2.0 + (i % 11) / 10) * sr)]
        sf.write(folder / f"line{i:04d}.wav", piece, sr)
        total += len(piece) / sr
    return total


def workers_cpu() -> float:
    """CPU seconds used so far by this process's children (the pool's worker processes)."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", default=None, help="default: the default engine")
    args = parser.parse_args()
    settings = batch.Settings(engine=args.engine)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        seconds = cut_clips(folder, args.clips)
        load_before = load()

        one = batch.plan_folder(folder, f"{tmp}/one/")
        start = time.perf_counter()
        batch.warm_up(settings)        # this thread's engine, loaded and warmed up
        one_start = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        failed = [job for job in one if batch.animate_job(job, settings)]
        one_s = time.perf_counter() - start
        one_cpu = time.process_time() - cpu

        pool_jobs = batch.plan_folder(folder, f"{tmp}/pool/")
        start = time.perf_counter()
        with cluster.Pool(settings, workers=args.workers) as pool:
            ready_s = time.perf_counter() - start
            start, cpu = time.perf_counter(), workers_cpu()
            failed += [job for job, error in pool.animate(pool_jobs) if error]
            pool_s = time.perf_counter() - start
            pool_cpu = workers_cpu() - cpu
            worker_start = sorted(pool.start_s.values())
        load_after = load()
        if failed:
            sys.exit(f"{len(failed)} files failed: {[j.audio.name for j in failed[:5]]}")
        names = sorted(p.name for p in (Path(tmp) / "one").iterdir())
        _, mismatch, errors = filecmp.cmpfiles(Path(tmp) / "one", Path(tmp) / "pool", names,
                                               shallow=False)
        same = "yes" if not mismatch and not errors else f"NO ({len(mismatch + errors)} differ)"

    n = args.clips
    print(f"{n} clips, {seconds:.0f} s of speech; load average (1/5/15 min) {load_before} "
          f"before, {load_after} after; same bytes: {same}\n")
    print("| setting | start (s) | files/s | per worker (files/s) | audio s per s | CPU s per "
          "file | wall, start included (s) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| 1 process | {one_start:.1f} (engine load + warm-up) | {n / one_s:.2f} | "
          f"{n / one_s:.2f} | {seconds / one_s:.1f} | {one_cpu / n:.2f} | "
          f"{one_start + one_s:.1f} |")
    print(f"| {args.workers} workers (local Dask) | {ready_s:.1f} (pool ready; each worker's "
          f"engine {' / '.join(f'{s:.1f}' for s in worker_start)}) | {n / pool_s:.2f} | "
          f"{n / pool_s / args.workers:.2f} | {seconds / pool_s:.1f} | {pool_cpu / n:.2f} | "
          f"{ready_s + pool_s:.1f} |")


if __name__ == "__main__":  # the pool's workers are spawned: they import this file
    main()
