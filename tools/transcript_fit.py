"""Validate the transcript-fit check of forced alignment (docs/hardening.md).

Aligns correct and deliberately wrong transcripts (another clip's, a single word, the
first or last third, the transcript doubled) of LibriVox, the first CMU ARCTIC clips
(Cathy) and the first GRID talker s1 videos (fit side of the GRID split: noisy studio
audio, words from the alignments) and writes one JSON line per take: the clip, the
condition, the method used, why the transcript was dropped and the fit measures.

Synthetic voices (espeak-ng en-us and en-us+f3, Flite) read 8 evaluation sentences each:
their acoustic scores sit far below real voices' for correct transcripts.

    python tools/transcript_fit.py > fit.jsonl
    python tools/transcript_fit.py --table fit.jsonl     # judged with the current bounds
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "speech"
sys.path.insert(0, str(ROOT))

from emoface.audio import align as A  # noqa: E402
from emoface.audio.align import align_detailed  # noqa: E402
from emoface.audio.espeak import synthesize  # noqa: E402
from emoface.audio.io import load_audio, resample  # noqa: E402
from emoface.capture.video import extract_audio, probe  # noqa: E402
from emoface.eval.realmotion import grid_clips, grid_split, read_alignment, spoken  # noqa: E402
from emoface.eval.suites import EVAL_SENTENCES  # noqa: E402

CONDITIONS = ("correct", "other", "word", "first_third", "last_third", "doubled")
CATHY_CLIPS = 40
GRID_CLIPS = 40
SYNTHETIC_SENTENCES = 8
SYNTHETIC_VOICES = ("en-us", "en-us+f3", "flite")


def _recorded(path: Path):
    def load():
        if path.suffix != ".mp4":
            return load_audio(path)
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "a.wav"
            extract_audio(probe(path), wav)
            return load_audio(wav)
    return load


def _spoken(voice: str, text: str):
    def load():
        if voice == "flite":
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "a.wav"
                subprocess.run(["flite", "-t", text, "-o", str(wav)], check=True)
                return load_audio(wav)
        samples, sr, _ = synthesize(text, voice)
        return resample(samples, sr)
    return load


def clips(corpus: str = "all") -> list[tuple[str, object, str]]:
    """(clip name, a function returning its 16 kHz samples, correct transcript)."""
    out = []
    if corpus in ("all", "librivox"):
        librivox = DATA / "librivox"
        for line in (librivox / "transcription").read_text().splitlines():
            m = re.match(r"<s>(.*)</s> \((\S+)\)", line.strip())
            if m and (librivox / f"{m.group(2)}.wav").exists():
                out.append((m.group(2)[-4:], _recorded(librivox / f"{m.group(2)}.wav"),
                            m.group(1).strip()))
    if corpus in ("all", "cathy"):
        cathy = DATA / "cathy"
        rows = []
        for line in (cathy / "transcripts.txt").read_text().splitlines():
            name, _, text = line.partition(": ")
            if text and (cathy / name).exists():
                rows.append((Path(name).name, cathy / name, text.strip()))
        for name, path, text in sorted(rows)[:CATHY_CLIPS]:
            out.append((name.split("_")[1], _recorded(path), text))
    if corpus in ("all", "grid"):
        grid = DATA.parent / "video" / "grid-s1"
        for video in grid_split(grid_clips(grid))[0][:GRID_CLIPS]:
            words = [w.word for w in spoken(read_alignment(grid / "align" / f"{video.stem}.align"))]
            out.append((f"grid-{video.stem}", _recorded(video), " ".join(words)))
    if corpus in ("all", "synthetic"):
        for k, (text, _) in enumerate(EVAL_SENTENCES[:SYNTHETIC_SENTENCES]):
            out += [(f"tts-{voice}-{k}", _spoken(voice, text), text) for voice in SYNTHETIC_VOICES]
    return out


def variants(text: str, other: str) -> dict[str, str]:
    words = text.split()
    third = max(1, len(words) // 3)
    return {"correct": text, "other": other, "word": words[0],
            "first_third": " ".join(words[:third]), "last_third": " ".join(words[-third:]),
            "doubled": f"{text} {text}"}


def measure(corpus: str = "all") -> None:
    rows = clips(corpus)
    for k, (name, load, text) in enumerate(rows):
        x = load()
        other = rows[(k + 1) % len(rows)][2]
        for condition, variant in variants(text, other).items():
            result = align_detailed(x, variant)
            fit = result.fit
            print(json.dumps({"clip": name, "condition": condition, "method": result.method,
                              "dropped": result.dropped,
                              "fit": fit.as_dict() if fit else None}), flush=True)


def warns(record: dict) -> bool:
    """Whether the current bounds drop this take (an alignment that failed always does)."""
    fit = record["fit"]
    return fit is None or bool(A.Fit(**fit).problem())


def table(*paths: str) -> None:
    records = [json.loads(line) for path in paths for line in open(path)]
    print("| corpus | clips | " + " | ".join(CONDITIONS) + " |")
    print("|---|---|" + "---|" * len(CONDITIONS))
    for corpus, test in (("LibriVox", str.isdigit), ("Cathy", lambda c: c[0] == "a"),
                         ("GRID s1", lambda c: c.startswith("grid-")),
                         ("espeak-ng en-us", lambda c: c.startswith("tts-en-us-")),
                         ("espeak-ng en-us+f3", lambda c: c.startswith("tts-en-us+f3-")),
                         ("Flite", lambda c: c.startswith("tts-flite-"))):
        chosen = [r for r in records if test(r["clip"])]
        cells = []
        for condition in CONDITIONS:
            rs = [r for r in chosen if r["condition"] == condition]
            warned = sum(warns(r) for r in rs)
            cells.append(f"{warned}/{len(rs)} warn")
        print(f"| {corpus} | {len({r['clip'] for r in chosen})} | " + " | ".join(cells) + " |")
    print()
    print("| measure (bound) | " + " | ".join(CONDITIONS) + " |")
    print("|---|" + "---|" * len(CONDITIONS))
    for label, alone in MEASURES:
        cells = []
        for condition in CONDITIONS:
            rs = [r for r in records if r["condition"] == condition]
            cells.append(str(sum(alone(r["fit"]) if r["fit"] else False for r in rs)))
        print(f"| {label} | " + " | ".join(cells) + " |")
    cells = [str(sum(r["fit"] is None for r in records if r["condition"] == c))
             for c in CONDITIONS]
    print("| alignment failed | " + " | ".join(cells) + " |")


# each measure alone against its bound (emoface.audio.align), over every clip
MEASURES = (
    (f"score per frame < {A.MIN_SCORE_PER_FRAME:g}", lambda f: f["score"] < A.MIN_SCORE_PER_FRAME),
    (f"speech explained < {A.MIN_EXPLAINED:g}", lambda f: f["explained"] < A.MIN_EXPLAINED),
    (f"phones/s outside {A.MIN_PHONES_PER_SECOND:g}-{A.MAX_PHONES_PER_SECOND:g}",
     lambda f: not A.MIN_PHONES_PER_SECOND <= f["rate"] <= A.MAX_PHONES_PER_SECOND),
    (f"squeezed > {A.MAX_SQUEEZED:g}", lambda f: f["squeezed"] > A.MAX_SQUEEZED),
    (f"longest phone > {A.MAX_PHONE_SECONDS:g} s", lambda f: f["longest"] > A.MAX_PHONE_SECONDS),
)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", nargs="+", help="summarise JSON-lines files written before")
    parser.add_argument("--corpus", default="all",
                        choices=("all", "librivox", "cathy", "grid", "synthetic"))
    args = parser.parse_args()
    table(*args.table) if args.table else measure(args.corpus)
