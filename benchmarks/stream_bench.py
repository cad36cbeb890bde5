"""Live streaming benchmark: latency, real-time factor and memory of ``emoface serve``.

    python benchmarks/stream_bench.py                       # 1, 10, 20, 50 streams, 30-min memory run
    python benchmarks/stream_bench.py --repeat 2            # each stream 28 s instead of 14
    python benchmarks/stream_bench.py --streams 1,50 --long-minutes 0
    python benchmarks/stream_bench.py --streams 50 --long-minutes 0 --server-args "--workers 0"

The server runs as its own process (``emoface serve --port 0``, with its worker
processes); the clients all run in this one process on one asyncio loop, cheap by design
(they share the cores with the server): the 20 ms PCM16 chunks are encoded once and
shared, a client only sends them on time and stamps each frame's arrival (no parsing,
no numpy per chunk). Chunks are paced in real time over loopback. Latency of a frame: from the
moment the chunk that completes the audio the frame needs was sent (loopback: its arrival)
to the moment the frame is received; which chunk completes it is read from a local
stream fed the same chunks (the server computes a frame as soon as that chunk is in).
"End to end" adds the model's look-ahead: from the chunk holding the frame's own time.
Server CPU: the server's and its workers' CPU seconds over the audio seconds of all
streams; the clients' CPU is printed beside it. Wall / audio: the run's wall time over
the audio's length (above 1.0 by the sessions' opening and the last frames' latency even
when every stream keeps up). Latency drift: how fast latency grows with audio time in
the stream where it grows fastest (0 when it keeps up, +10 % when it falls 10 % behind);
real time means a drift of at most 2 % for every stream. The JSON also gives latency p95 per 2 s of audio.
The load average before each run is printed: other work on the machine moves the rows.
The last lines are the markdown tables for BENCHMARKS.md ("Live streaming"): latency
and, with the memory run, memory by minute.
Memory: the server's resident set while one stream plays ``--long-minutes`` of speech as
fast as it is answered (the clip looped), sampled every simulated minute.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emoface.audio.speech import Speech  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402

CHUNK = 320          # samples: 20 ms at 16 kHz
SENTENCES = ["The quick brown fox jumps over the lazy dog.",
             "Please call Stella and ask her to bring these things with her from the store.",
             "Six spoons of fresh snow peas, five thick slabs of blue cheese.",
             "Maybe a snack for her brother Bob."]


def speech_clip() -> np.ndarray:
    parts = [Speech.synthesize(s, rate=160).samples for s in SENTENCES]
    gap = np.zeros(4000, np.float32)
    x = np.concatenate([np.concatenate([p, gap]) for p in parts])
    return (np.clip(x, -1, 1) * 32767).astype("<i2")


def completing_chunks(pcm: np.ndarray, emotion: str) -> np.ndarray:
    """For each 30 fps frame, the index of the 20 ms chunk after which it comes out."""
    from emoface.engines import load_engine
    from emoface.threads import one_maths_thread

    with one_maths_thread(load_torch=True):
        return _completing_chunks(load_engine("neural"), pcm, emotion)


def _completing_chunks(engine, pcm, emotion):
    stream = engine.stream(16000, emotion=emotion)
    out = []
    for i in range(0, len(pcm), CHUNK):
        out += [i // CHUNK] * len(stream.feed(pcm[i:i + CHUNK]))
    out += [len(pcm) // CHUNK] * len(stream.flush())
    return np.array(out)


class ServerProcess:
    def __init__(self, extra=()):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emoface", "serve", "--port", "0", "--max-sessions", "200",
             *extra], stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stderr.readline()
        if "ws://" not in line:
            raise RuntimeError(f"server did not start: {line}")
        self.url = line.split()[2]

    def pids(self) -> list[int]:
        """The server and its worker processes."""
        out = [self.proc.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if stat.read_text().rsplit(")", 1)[1].split()[1] == str(self.proc.pid):
                    out.append(int(stat.parent.name))
            except OSError:
                continue
        return out

    def rss_mb(self) -> float:
        """Resident memory of the server and its workers together."""
        total = 0.0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        return total

    def cpu_s(self) -> tuple[float, float]:
        """CPU seconds of the server process (its I/O, and with --workers 0 its compute)
        and of the server with its worker processes."""
        own = total = 0.0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            total += cpu
            own += cpu if pid == self.proc.pid else 0.0
        return own, total

    def stop(self):
        """Stop the server and wait for its workers to exit, so that the next run does
        not share the cores with their shutdown."""
        workers = [p for p in self.pids() if p != self.proc.pid]
        self.proc.terminate()
        self.proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(p) for p in workers):
            time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def paced_stream(url, chunks: list[bytes], emotion, start_delay):
    """One client: the pre-encoded 20 ms chunks in real time; returns (send times per
    chunk, receive times per frame)."""
    import websockets

    await asyncio.sleep(start_delay)
    sent, got = [], []
    clock = time.perf_counter
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        await ws.send(json.dumps({"sample_rate": 16000, "emotion": emotion}))
        await ws.recv()

        async def reader():
            async for msg in ws:
                if msg.startswith('{"event"'):
                    return
                got.append(clock())

        task = asyncio.create_task(reader())
        t0 = clock()
        for i, chunk in enumerate(chunks):
            delay = t0 + i * CHUNK / 16000 - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(clock())
            await ws.send(chunk)
        sent.append(clock())
        await ws.send('{"event": "end"}')
        await task
    return np.array(sent), np.array(got)


def latency_run(n_streams, pcm, emotion, done_by, server_args=()):
    chunks = [pcm[a:a + CHUNK].tobytes() for a in range(0, len(pcm), CHUNK)]
    server = ServerProcess(server_args)
    load = os.getloadavg()[0]
    try:
        cpu0 = server.cpu_s()

        async def main():
            rng = np.random.default_rng(0)
            return await asyncio.gather(*[
                paced_stream(server.url, chunks, emotion, float(rng.uniform(0, 0.02)))
                for _ in range(n_streams)])

        client0 = time.process_time()
        wall = time.perf_counter()
        results = asyncio.run(main())
        wall = time.perf_counter() - wall
        client = time.process_time() - client0
        main_cpu, cpu = np.subtract(server.cpu_s(), cpu0)
    finally:
        server.stop()
    lat, e2e = [], []
    own = (np.arange(len(done_by)) / 30 * 16000 // CHUNK).astype(int)
    for sent, got in results:
        assert len(got) == len(done_by), (len(got), len(done_by))
        lat.append(got - sent[done_by])
        e2e.append(got - sent[np.minimum(own, len(sent) - 1)])
    by_window = _p95_by_window(np.stack(lat) * 1000, len(done_by))
    drift = _latency_drift(np.stack(lat), done_by, len(chunks))
    lat, e2e = np.concatenate(lat) * 1000, np.concatenate(e2e) * 1000
    seconds = len(pcm) / 16000
    return {"streams": n_streams, "server_args": " ".join(server_args), "loadavg_1min": load,
            "audio_s": round(seconds, 1),
            "latency_p50_ms": round(float(np.percentile(lat, 50)), 1),
            "latency_p95_ms": round(float(np.percentile(lat, 95)), 1),
            "latency_max_ms": round(float(lat.max()), 1),
            "end_to_end_p50_ms": round(float(np.percentile(e2e, 50)), 1),
            "end_to_end_p95_ms": round(float(np.percentile(e2e, 95)), 1),
            "server_cpu_rtf_per_stream": round(cpu / (seconds * n_streams), 4),
            "server_cores": round(cpu / wall, 2), "server_main_cores": round(main_cpu / wall, 2),
            "client_cores": round(client / wall, 2),
            "wall_over_audio": round(wall / seconds, 3),
            "latency_p95_ms_by_2s": by_window, "latency_drift": drift}


def _latency_drift(lat: np.ndarray, done_by: np.ndarray, n_chunks: int) -> float:
    """How fast latency grows with audio time in the stream where it grows fastest
    (seconds per second; 0 when a stream keeps up, 0.1 when it falls 10 % behind): a line
    through each stream's frame latencies against the frames' audio times, leaving out the
    first 2 s (sessions opening) and the frames of the final flush."""
    t = np.arange(lat.shape[1]) / 30
    keep = (t >= 2.0) & (done_by < n_chunks)
    return round(float(max(np.polyfit(t[keep], row[keep], 1)[0] for row in lat)), 4)


def _p95_by_window(lat: np.ndarray, frames: int, window_s: float = 2.0) -> list[float]:
    """Latency p95 over all streams per ``window_s`` of audio (frames at 30 fps): whether
    a run settles after its start or falls further behind."""
    step = int(window_s * 30)
    return [round(float(np.percentile(lat[:, a:a + step], 95)), 1) for a in range(0, frames, step)]


MAX_DRIFT = 0.02     # real time: latency grows by at most 2 % of the audio's time


def real_time(drift: float) -> str:
    if drift <= MAX_DRIFT:
        return "yes"
    if drift < 0.05:
        return f"no ({drift * 100:.0f} % behind)"
    return f"**no** ({1 + drift:.2f}x)"


def markdown(rows: list[dict], memory: dict | None = None) -> str:
    """The rows as BENCHMARKS.md's tables ("Live streaming"): latency, then memory."""
    options = sorted({r["server_args"] for r in rows if r["server_args"]})
    lines = [f"(server options: {', '.join(options)})", ""] if options else []
    lines += ["| streams | load avg before | latency p50 / p95 / max (ms) | end to end p50 / p95 (ms) "
              "| server CPU s per audio s, per stream | server cores (its main process) "
              "| client cores | wall / audio | latency drift | real time |", "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['streams']} | {r['loadavg_1min']:.1f} | "
            f"{r['latency_p50_ms']:.1f} / {r['latency_p95_ms']:.1f} / {r['latency_max_ms']:.1f} | "
            f"{r['end_to_end_p50_ms']:.1f} / {r['end_to_end_p95_ms']:.1f} | "
            f"{r['server_cpu_rtf_per_stream']:.3f} | {r['server_cores']:.2f} "
            f"({r['server_main_cores']:.2f}) | {r['client_cores']:.2f} | "
            f"{r['wall_over_audio']:.3f} | {100 * r['latency_drift']:+.1f} % | "
            f"{real_time(r['latency_drift'])} |")
    if memory:
        marks = memory["rss_mb_by_minute"]
        lines += ["", "| audio (min) | " + " | ".join(f"{m:g}" for m, _, _ in marks) + " |",
                  "|---|" + "---|" * len(marks),
                  "| server + workers RSS (MB) | " + " | ".join(f"{r:.1f}" for _, r, _ in marks) + " |"]
    return "\n".join(lines)


def memory_run(minutes, pcm, emotion):
    import websockets

    server = ServerProcess()
    samples = []
    total = int(minutes * 60 * 16000)

    async def main():
        async with websockets.connect(server.url, max_size=None, compression=None) as ws:
            await ws.send(json.dumps({"sample_rate": 16000, "emotion": emotion}))
            await ws.recv()
            frames = 0

            async def reader():
                nonlocal frames
                async for msg in ws:
                    if msg.startswith('{"event"'):
                        return
                    frames += 1

            task = asyncio.create_task(reader())
            block = 16000                     # 1 s messages, as fast as the server reads
            sent, next_mark = 0, 0
            t0 = time.perf_counter()
            while sent < total:
                a = sent % len(pcm)
                piece = pcm[a:a + min(block, len(pcm) - a, total - sent)]
                await ws.send(piece.tobytes())
                sent += len(piece)
                if sent >= next_mark:
                    samples.append((round(sent / 16000 / 60, 1), round(server.rss_mb(), 1),
                                    round(time.perf_counter() - t0, 1)))
                    next_mark += 60 * 16000
                # Do not run ahead of the answers by more than 10 s of audio.
                while sent / 16000 * 30 - frames > 300:
                    await asyncio.sleep(0.01)
            await ws.send(json.dumps({"event": "end"}))
            await task
            samples.append((round(sent / 16000 / 60, 1), round(server.rss_mb(), 1),
                            round(time.perf_counter() - t0, 1)))
            return frames

    try:
        frames = asyncio.run(main())
    finally:
        server.stop()
    return {"minutes": minutes, "frames": frames, "rss_mb_by_minute": samples}


def offline_difference(data_dir: Path) -> dict:
    """The streamed take (running cepstral mean; it equals the default offline take)
    against the offline take with the whole input's mean (what training used), neutral, on
    5 LibriVox and 5 CMU ARCTIC clips of shared/data."""
    import emoface
    from emoface.arkit import INDEX, lip_aperture
    from emoface.engines.neural.config import PREDICTED_CHANNELS
    from emoface.threads import one_maths_thread

    chans = [INDEX[n] for n in PREDICTED_CHANNELS if not n.startswith("eyeWide")]
    files = (sorted((data_dir / "speech/librivox").glob("*.wav"))[:5]
             + sorted((data_dir / "speech/cathy/flac").glob("*.flac"))[:5])
    rows = []
    with one_maths_thread(load_torch=True):
        default = emoface.load_engine("neural", cepstral_mean="utterance")
        running = emoface.load_engine("neural")
        for f in files:
            speech = Speech.from_file(f)
            a = default.animate(speech, emotion="neutral").weights
            b = running.animate(speech, emotion="neutral").weights
            d = np.abs(a[:, chans] - b[:, chans])
            rows.append([d.max(), d[30:].mean(), np.percentile(d[30:].max(1), 95),
                         np.corrcoef(lip_aperture(a), lip_aperture(b))[0, 1]])
    m = np.mean(rows, 0)
    return {"clips": len(files), "max_abs_diff": round(float(m[0]), 4),
            "mean_abs_diff_after_1s": round(float(m[1]), 4),
            "p95_frame_max_diff": round(float(m[2]), 4), "lip_aperture_r": round(float(m[3]), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", default="1,10,20,50", help="comma-separated stream counts")
    ap.add_argument("--emotion", default="auto")
    ap.add_argument("--server-args", default="", help='more `emoface serve` options, e.g. "--workers 1"')
    ap.add_argument("--long-minutes", type=float, default=30.0,
                    help="minutes of audio for the memory run (0: skip)")
    ap.add_argument("--offline-diff", action="store_true",
                    help="only: streamed vs the whole-input-mean offline take on shared/data clips")
    ap.add_argument("--repeat", type=int, default=1,
                    help="play the 14 s clip this many times per stream (longer runs settle)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if args.offline_diff:
        print(json.dumps(offline_difference(shared_data_dir())))
        return 0
    pcm = np.tile(speech_clip(), args.repeat)
    done_by = completing_chunks(pcm, args.emotion)
    results = {"uptime": open("/proc/loadavg").read().split()[:3], "rows": []}
    for n in [int(s) for s in args.streams.split(",") if s]:
        row = latency_run(n, pcm, args.emotion, done_by, args.server_args.split())
        results["rows"].append(row)
        print(json.dumps(row), flush=True)
    if args.long_minutes:
        mem = memory_run(args.long_minutes, pcm, args.emotion)
        results["memory"] = mem
        print(json.dumps(mem), flush=True)
    results["uptime_after"] = open("/proc/loadavg").read().split()[:3]
    print(json.dumps({"loadavg_before": results["uptime"], "loadavg_after": results["uptime_after"]}))
    print(markdown(results["rows"], results.get("memory")))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
