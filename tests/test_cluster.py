"""`emoface animate DIR` on a pool of workers (Dask distributed): the bytes one process
writes, a bad file reported while the rest are written, an interrupted run resumed without
redoing finished files, the skip rule itself, and the address errors."""
from __future__ import annotations

import logging
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import need
from test_cli import EMOFACE

from emoface import batch, cli

CLIPS = 8          # short clips: enough that an interrupt lands mid-run
CLIP_SECONDS = 2.0
# The single-process run, in a process that then says whether anything of dask was loaded.
SERIAL = ("import sys\nfrom emoface.cli import main\nrc = main(sys.argv[1:])\n"
          "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'})\n"
          "print('cluster modules loaded:', loaded or 'none')\nsys.exit(rc)\n")


def emoface(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*EMOFACE, *map(str, args)], capture_output=True, text=True)


def lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def folder(shared_data, tmp_path_factory) -> Path:
    """CLIPS pieces of real speech and one file that is not audio."""
    sources = sorted(need(shared_data / "speech" / "cathy" / "flac").glob("*.flac"))[:CLIPS]
    root = tmp_path_factory.mktemp("batch") / "in"
    root.mkdir()
    for i, source in enumerate(sources):
        samples, sr = sf.read(source, dtype="float32")
        sf.write(root / f"line{i:02d}.wav", samples[: int(CLIP_SECONDS * sr)], sr)
    (root / "bad.wav").write_text("not audio")
    return root


@pytest.fixture(scope="module")
def reference(folder) -> Path:
    """What one process writes for the folder (absolute paths, as a cluster is given)."""
    out = folder.parent / "single"
    result = subprocess.run([sys.executable, "-c", SERIAL, "animate", folder, "-o", f"{out}/"],
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "cluster modules loaded: none" in result.stdout
    assert lines(result.stderr) == [line for line in lines(result.stderr)
                                    if line.startswith("emoface: skipped bad.wav: ")], result.stderr
    assert len(list(out.iterdir())) == 3 * CLIPS
    return out


@pytest.fixture(scope="module")
def scheduler():
    """A Dask cluster the test starts itself, on loopback: a scheduler and 2 workers."""
    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0",
                                  silence_logs=logging.CRITICAL) as local:
        yield local.scheduler_address


def same_bytes(out: Path, reference: Path) -> None:
    names = sorted(p.name for p in reference.iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def test_a_local_cluster_writes_the_single_process_bytes_and_reports_the_bad_file(
        folder, reference, scheduler):
    out = folder.parent / "cluster"
    result = emoface("animate", folder, "-o", f"{out}/", "--cluster", scheduler)
    assert result.returncode == 1, result.stderr
    assert [line.split(":")[1] for line in lines(result.stderr)] == [" skipped bad.wav"]
    assert f"animated {CLIPS} of {CLIPS + 1} files" in result.stdout
    same_bytes(out, reference)


def test_an_interrupted_run_resumes_without_redoing_finished_files(folder, reference, scheduler):
    out = folder.parent / "interrupted"
    run = subprocess.Popen([*EMOFACE, "animate", str(folder), "-o", f"{out}/", "--cluster",
                            scheduler], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    jobs = batch.plan_folder(folder, f"{out}/")
    deadline = time.monotonic() + 120
    while not any(job.done for job in jobs) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert lines(stderr)[-1] == "emoface: interrupted"
    time.sleep(1.0)  # a task the workers had begun still ends (and writes whole files)
    finished = [job for job in jobs if job.done]
    assert 1 <= len(finished) < CLIPS, "the interrupt came after every file was done"
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for job in finished for p in job.outputs}
    # What a worker killed mid-write leaves: a temporary file beside an output; and a file
    # whose first output was written when the run stopped.
    undone = next(job for job in jobs if not job.done and job.audio.name != "bad.wav")
    leftover = undone.outputs[0].with_name(f".{undone.outputs[0].name}.k1ll3d{undone.outputs[0].suffix}")
    leftover.write_bytes(b"half a file")

    result = emoface("animate", folder, "-o", f"{out}/", "--resume", "--workers", "2")
    assert result.returncode == 1, result.stderr
    skipped = re.match(rf"emoface: note: (\d+) of {CLIPS + 1} files already written",
                       lines(result.stderr)[0])
    assert skipped and int(skipped[1]) >= len(finished), result.stderr
    assert [line.split(":")[1] for line in lines(result.stderr)[1:]] == [" skipped bad.wav"]
    after = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in before}
    assert after == before, "a finished file was written again"
    assert not leftover.exists()
    same_bytes(out, reference)


def test_a_job_is_done_when_every_output_is_there(tmp_path):
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16000)
    (job,) = batch.plan_folder(tmp_path, str(tmp_path / "out"), "csv,npz")
    assert [p.name for p in job.outputs] == ["a.csv", "a.npz"] and not job.done
    job.outputs[0].parent.mkdir()
    job.outputs[0].write_text("whole")          # written whole: outputs are renamed into place
    temporary = job.outputs[1].with_name(".a.npz.x7f2q.npz")
    temporary.write_bytes(b"half")               # the other one was being written
    assert not job.done
    job.remove_leftovers()
    assert not temporary.exists() and job.outputs[0].exists()
    job.outputs[1].write_bytes(b"whole")
    assert job.done


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    from emoface import cluster

    sf.write(tmp_path / "a.wav", np.zeros(1600, np.float32), 16000)
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    port = free_port()
    code = cli.main(["animate", str(tmp_path), "-o", str(tmp_path / "out/"),
                         "--cluster", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert lines(err) == [line for line in lines(err) if line.startswith(
        f"emoface: error: cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}'")]
    assert len(lines(err)) == 1 and not (tmp_path / "out").exists()


def test_without_dask_installed_a_pool_is_one_line_and_exit_2(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(1600, np.float32), 16000)
    hide = ("import sys\nsys.modules['distributed'] = None\nfrom emoface.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    result = subprocess.run([sys.executable, "-c", hide, "animate", str(tmp_path), "-o",
                             str(tmp_path / "out/"), "--workers", "2"], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert lines(result.stderr) == ["emoface: error: --workers and --cluster need Dask "
                                    "distributed; pip install 'emoface[cluster]'"]


@pytest.mark.parametrize("option", [["--workers", "2"], ["--cluster", "tcp://127.0.0.1:8786"],
                                    ["--resume"]])
def test_pool_options_are_for_folders(tmp_path, option, capsys):
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16000)
    assert cli.main(["animate", str(wav), "-o", str(tmp_path / "a.csv"), *option]) == 2
    assert lines(capsys.readouterr().err) == [f"emoface: error: {option[0]} is for folder input"]
    assert not (tmp_path / "a.csv").exists()
