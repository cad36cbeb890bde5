"""Peak memory and wall time of ``emoface animate`` on long inputs, per engine.

    .venv/bin/python benchmarks/memory_bench.py [--minutes 20 120] [--engines neutral neural]
                                                [--json out.json] [--keep DIR]

Builds each long input by concatenating real speech from the shared data (LibriVox, the
Cathy corpus, EmoDB; 0.3 s pauses between clips, repeated in turn until the length is
reached), written as a 16 kHz wav to a temporary folder without holding it in memory.
Then runs ``python -m emoface animate LONG.wav -o out.csv --engine E --emotion auto`` for
each engine in a fresh process under ``/usr/bin/time -v`` and reports its peak resident
memory (maximum RSS) and wall time, and checks that the CSV has one row per frame.
Prints a markdown table (the one in BENCHMARKS.md, "Long inputs: peak memory").
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emoface.audio.io import SAMPLE_RATE, load_audio  # noqa: E402
from emoface.engines import list_engines  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402

PAUSE_S = 0.3
FPS = 30


def source_clips() -> list[Path]:
    data = shared_data_dir()
    librivox = sorted((data / "speech" / "librivox").glob("*.wav"))
    cathy = sorted((data / "speech" / "cathy" / "flac").glob("*.flac"))
    emodb = sorted((data / "emodb" / "wav").glob("*.wav"))
    if not (librivox or cathy or emodb):
        raise SystemExit(f"no speech found under {data}")
    # interleave the corpora so every stretch of the input mixes speakers and styles
    out, lists = [], [librivox, cathy, emodb]
    for i in range(max(len(x) for x in lists)):
        out.extend(x[i] for x in lists if i < len(x))
    return out


def build_input(path: Path, minutes: float) -> float:
    """Write ``minutes`` of concatenated speech to ``path`` (16 kHz PCM wav); seconds."""
    target = int(minutes * 60 * SAMPLE_RATE)
    clips = source_clips()
    cache: dict[Path, np.ndarray] = {}
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    written, i = 0, 0
    with sf.SoundFile(str(path), "w", SAMPLE_RATE, 1, subtype="PCM_16") as f:
        while written < target:
            clip = clips[i % len(clips)]
            if clip not in cache:
                cache[clip] = load_audio(clip)
            for piece in (cache[clip], pause):
                piece = piece[:target - written]
                f.write(np.clip(piece, -1, 1))
                written += len(piece)
            i += 1
    return written / SAMPLE_RATE


def run_one(wav: Path, engine: str, out_dir: Path) -> dict:
    out = out_dir / f"{wav.stem}-{engine}.csv"
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "emoface", "animate", str(wav),
           "-o", str(out), "--engine", engine, "--emotion", "auto"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    rows = sum(1 for _ in open(out)) - 1 if out.exists() else 0
    if out.exists():
        out.unlink()
    return {"engine": engine, "ok": proc.returncode == 0, "wall_s": round(wall, 1),
            "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None, "rows": rows,
            "error": "" if proc.returncode == 0 else proc.stderr.strip().splitlines()[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[20, 120])
    ap.add_argument("--engines", nargs="+", default=None, help="default: every engine")
    ap.add_argument("--json", default=None)
    ap.add_argument("--keep", default=None, help="folder for the inputs (kept)")
    args = ap.parse_args()
    engines = args.engines or list_engines()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="emoface-mem-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for minutes in args.minutes:
        wav = folder / f"long-{minutes:g}min.wav"
        seconds = build_input(wav, minutes) if not wav.exists() else sf.info(str(wav)).duration
        expected = round(seconds * FPS)
        for engine in engines:
            r = run_one(wav, engine, folder)
            r.update(minutes=minutes, seconds=round(seconds, 1),
                     rows_ok=r["rows"] == expected)
            results.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
        if not args.keep:
            wav.unlink()
    print(f"`{Path(sys.argv[0]).name} {' '.join(sys.argv[1:])}` on "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| input | engine | peak RSS (MB) | wall (s) | real-time factor | CSV rows = frames |")
    print("|---|---|---|---|---|---|")
    for r in results:
        rtf = r["wall_s"] / r["seconds"]
        status = ("yes" if r["rows_ok"] else f"no ({r['rows']})") if r["ok"] else f"failed: {r['error']}"
        print(f"| {r['minutes']:g} min | {r['engine']} | {r['peak_rss_mb']} | {r['wall_s']} | "
              f"{rtf:.4f} | {status} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
