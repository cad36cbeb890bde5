"""The speech front-end's figures in BENCHMARKS.md ("Speech front-end"): word error rate
per Whisper model on held-out English clips, each model's size, load time, real-time
factors and peak memory, `emoface animate --transcribe` end to end on a 60 s file, and
what Whisper's transcripts buy the rules engine's lip sync.

    .venv/bin/python benchmarks/speech_bench.py [--parts wer frontend cli lipsync]
                                                [--models tiny.en base] [--json out.json]

Held-out English clips with true words (none of them is in any training split):
- LibriVox: all 5 clips (the corpus's test source);
- Cathy (CMU ARCTIC prompts, one speaker): the prompts whose id hashes to the test split
  (``split_by_hash`` of the prompt id: 29 of 378);
- GRID talker s1: the held-out sentences of the real-motion split (clips 201-300 by file
  name), words from the alignment files.
Text is normalised the way the aligner reads transcripts (lower case, digits spelled out,
punctuation dropped) plus the titles mr/mrs/dr spelled out; WER is word edits over
reference words, pooled per corpus.

Each model and each command runs in a fresh process so its peak memory (max RSS) is its
own. Other work on the machine changes timings: the load average is printed with them.
"""
from __future__ import annotations

import argparse
import json
import os
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
from emoface.audio.transcript import normalize_transcript  # noqa: E402
from emoface.data.sources.common import split_by_hash  # noqa: E402
from emoface.data.sources.librivox import read_transcription  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402

MODELS = ("tiny.en", "base")
TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


# ------------------------------------------------------------------------- clips
def heldout_clips() -> list[tuple[str, str, Path, str]]:
    """(corpus, id, audio, true text) of every held-out English clip with true words."""
    from emoface.eval.realmotion import grid_split, read_alignment, transcript

    data = shared_data_dir()
    out = []
    librivox = data / "speech" / "librivox"
    for fileid, text in sorted(read_transcription(librivox / "transcription").items()):
        out.append(("librivox", fileid, librivox / f"{fileid}.wav", text))
    cathy = data / "speech" / "cathy"
    for line in (cathy / "transcripts.txt").read_text(encoding="utf-8").splitlines():
        rel, _, text = line.partition(":")
        prompt = Path(rel.strip()).stem.rsplit("_", 1)[0]     # arctic_a0001
        if text.strip() and split_by_hash(prompt) == "test":
            out.append(("cathy", prompt, cathy / rel.strip(), text.strip()))
    for video in grid_split()[1]:
        words = read_alignment(video.parent / "align" / f"{video.stem}.align")
        out.append(("grid", video.stem, video, transcript(words)))
    return out


def words_of(text: str) -> list[str]:
    return [TITLES.get(w, w) for w in normalize_transcript(text)]


def word_errors(ref: list[str], hyp: list[str]) -> int:
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d = d, [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return d[-1]


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# ------------------------------------------------------------------- child jobs
def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child_wer(model_name: str) -> dict:
    from emoface.speech import load_speech_model

    model = load_speech_model(model_name)
    per: dict[str, list[int]] = {}
    compute = audio = 0.0
    examples = []
    for corpus, clip_id, path, text in heldout_clips():
        x = load_audio(path)
        t0 = time.perf_counter()
        heard = model.transcribe(x, language="en")
        compute += time.perf_counter() - t0
        audio += len(x) / SAMPLE_RATE
        ref, hyp = words_of(text), words_of(heard.text)
        errors = word_errors(ref, hyp)
        errs, total, n = per.setdefault(corpus, [0, 0, 0])
        per[corpus] = [errs + errors, total + len(ref), n + 1]
        if errors and len(examples) < 6:
            examples.append({"id": clip_id, "ref": " ".join(ref), "hyp": " ".join(hyp)})
    return {"model": model_name, "corpora": {c: {"wer": e / t, "errors": e, "words": t,
                                                 "clips": n} for c, (e, t, n) in per.items()},
            "wer": sum(e for e, _, _ in per.values()) / sum(t for _, t, _ in per.values()),
            "transcribe_rtf": compute / audio, "audio_s": audio, "examples": examples,
            "load": load_average()}


def sixty_seconds() -> tuple[np.ndarray, str]:
    from emoface.eval.speed import speech_clip

    return speech_clip(60.0)


def child_frontend(model_name: str) -> dict:
    t0 = time.perf_counter()
    from emoface.speech import load_speech_model

    model = load_speech_model(model_name)
    load_s = time.perf_counter() - t0
    x, _ = sixty_seconds()
    seconds = len(x) / SAMPLE_RATE
    model.encode(x[:SAMPLE_RATE])                     # first call warms the runtime
    t0 = time.perf_counter()
    feats = model.encode(x)
    encode_s = time.perf_counter() - t0
    mid = model.num_layers // 2
    model.encode(x[:SAMPLE_RATE], layer=mid)
    t0 = time.perf_counter()
    model.encode(x, layer=mid)
    layer_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    heard = model.transcribe(x)
    transcribe_s = time.perf_counter() - t0
    size = (model.path / "model.bin").stat().st_size
    return {"model": model_name, "dim": model.dim, "layers": model.num_layers,
            "size_mb": size / 1e6, "load_s": load_s, "audio_s": seconds,
            "encode_rtf": encode_s / seconds, "frames": int(feats.shape[0]),
            "layer": mid, "layer_encode_rtf": layer_s / seconds,
            "transcribe_rtf": transcribe_s / seconds, "language": heard.language,
            "peak_rss_mb": _peak_mb(), "load": load_average()}


# ---------------------------------------------------------------- the CLI, timed
def _timed(cmd: list[str]) -> tuple[float, float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), err.strip()


def cli_rows(models) -> list[dict]:
    from emoface.outputs import read

    x, text = sixty_seconds()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wav, take, txt = Path(tmp) / "speech.wav", Path(tmp) / "take.npz", Path(tmp) / "t.txt"
        sf.write(wav, x, SAMPLE_RATE)
        txt.write_text(text)
        base = [sys.executable, "-m", "emoface", "animate", str(wav), "-o", str(take)]
        runs = [("neural, no transcript", ["--engine", "neural"]),
                ("rules (the default engine), no transcript", ["--engine", "rules"]),
                ("rules, true transcript", ["--engine", "rules", "--text-file", str(txt)])]
        runs += [(f"rules --transcribe ({m})", ["--engine", "rules", "--transcribe",
                                                "--speech-model", m]) for m in models]
        for label, extra in runs:
            _timed(base + extra)                      # warm the file cache
            wall, rss, code, err = _timed(base + extra)
            meta = read(take).meta if code == 0 else {}
            rows.append({"run": label, "audio_s": len(x) / SAMPLE_RATE, "wall_s": wall,
                         "rtf": wall / (len(x) / SAMPLE_RATE), "peak_rss_mb": rss,
                         "exit": code, "phones": meta.get("phone_method"),
                         "stderr": err.splitlines()[-1] if err else "",
                         "load": load_average()})
            print(json.dumps(rows[-1]), flush=True)
    return rows


# ------------------------------------------------------------ lip sync it buys
def lipsync_rows(models) -> list[dict]:
    """Rules engine on the held-out clips, phones from: the phone loop, each Whisper's
    words aligned, the true words aligned. Reference: forced alignment of the true words."""
    from emoface.audio.align import METHOD_ALIGNMENT, align_detailed
    from emoface.audio.speech import Speech
    from emoface.engines import load_engine
    from emoface.eval.lipsync import bilabial_closure, viseme_accuracy
    from emoface.speech import load_speech_model

    rules = load_engine("rules")
    hearing = {m: load_speech_model(m) for m in models}
    conditions = ["phone loop"] + [f"whisper {m}" for m in models] + ["true words"]
    tally = {c: {corpus: [0, 0, 0, 0] for corpus in ("librivox", "cathy", "grid")}
             for c in conditions}
    used = 0
    for corpus, _, path, text in heldout_clips():
        x = load_audio(path)
        ref = align_detailed(x, text)
        if ref.method != METHOD_ALIGNMENT:
            continue
        used += 1
        texts = {"phone loop": None, "true words": text}
        for m, model in hearing.items():
            texts[f"whisper {m}"] = model.transcribe(x, language="en").text or None
        for cond, given in texts.items():
            anim = rules.animate(Speech(x, text=given), "neutral", fps=30.0, seed=0)
            closure = bilabial_closure(anim.weights, anim.fps, ref.phones)
            visemes = viseme_accuracy(anim.weights, anim.fps, ref.phones)
            t = tally[cond][corpus]
            t[0] += closure.closed
            t[1] += closure.total
            t[2] += visemes.correct
            t[3] += visemes.total
    rows = []
    for cond, per in tally.items():
        row = {"phones from": cond, "clips": used}
        for corpus, (closed, bil, correct, vis) in per.items():
            row[corpus] = {"closure": closed / max(bil, 1), "bilabials": bil,
                           "viseme": correct / max(vis, 1), "phones": vis}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


# ------------------------------------------------------------------------ main
def _in_child(part: str, model: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", part, model],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{part} {model} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", nargs="+", default=["wer", "frontend", "cli", "lipsync"],
                    choices=["wer", "frontend", "cli", "lipsync"])
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--json", default=None, help="write every figure here")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        part, model = args.child
        print(json.dumps(child_wer(model) if part == "wer" else child_frontend(model)))
        return 0
    results: dict = {"cpu": os.cpu_count()}
    if "wer" in args.parts:
        results["wer"] = [_in_child("wer", m) for m in args.models]
        for r in results["wer"]:
            print(json.dumps(r), flush=True)
    if "frontend" in args.parts:
        results["frontend"] = [_in_child("frontend", m) for m in args.models]
        for r in results["frontend"]:
            print(json.dumps(r), flush=True)
    if "cli" in args.parts:
        results["cli"] = cli_rows(args.models)
    if "lipsync" in args.parts:
        results["lipsync"] = lipsync_rows(args.models)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
