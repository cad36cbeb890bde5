"""Model commands: ``emoface emotion``, ``emoface export-onnx``, ``emoface train``."""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

from ..audio.io import AUDIO_EXTENSIONS
from ..audio.speech import Speech
from ..engines.neural.checkpoint import BUNDLED_MODEL, load_network, read_metadata, save_checkpoint
from ..engines.neural.onnx_export import export
from ..engines.neural.voice_emotion import VoiceEmotion
from ..errors import UserError
from ..eval.heldout import record_path, training_data, write_record
from ..train.loop import train
from . import bounded


# --------------------------------------------------------------------------- emotion
def add_emotion(sub) -> None:
    p = sub.add_parser("emotion", help="say which emotion a voice carries (8 probabilities)",
                       description="Print the emotion the model hears per file (folders are "
                                   "searched for audio): the verdict, the most probable emotion "
                                   "and its calibrated probability, the calibrated intensity "
                                   "(how sure x how strong) and the 8 calibrated probabilities. "
                                   "When the model is unsure, or there is no voiced speech "
                                   "(silence, noise), the verdict is neutral at intensity 0.",
                       epilog="exit status: 0 every file heard; 1 several inputs were given and "
                              "some failed (each named on stderr); 2 a usage mistake, or the one "
                              "input given cannot be used")
    p.add_argument("inputs", nargs="+", help="audio files or folders")
    p.add_argument("--json", action="store_true",
                   help='one JSON object per line: {"file", "emotion", "top", "probability", '
                        '"intensity", "probs": {...}, "raw": {...}}')
    p.add_argument("--timeline", action="store_true", help="also per second (4-s windows)")
    p.add_argument("--model", default=None, help="weights (.safetensors; default: bundled)")
    p.set_defaults(func=_run_emotion)


def _audio_files(inputs: list[str]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(f for f in path.rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                raise UserError(f"no audio files in {item!r}")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"no such file: {item!r}")
    return files


def _finite(x):
    """``x`` with every non-finite float as None, so the JSON stays JSON."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def _emotion_record(f: Path, heard) -> dict:
    return _finite({
        "file": str(f), "emotion": heard.emotion, "top": heard.top,
        "probability": round(heard.probability, 4), "intensity": round(heard.intensity, 3),
        "probs": {k: round(v, 4) for k, v in heard.probs.items()},
        "raw": {"probs": {k: round(v, 4) for k, v in (heard.raw_probs or {}).items()},
                "intensity": round(heard.raw_intensity, 3)},
        "voiced": round(heard.voiced, 3)})


def _emotion_line(f: Path, heard) -> str:
    ranked = sorted(heard.probs.items(), key=lambda kv: -kv[1])
    top = "  ".join(f"{k} {v:.2f}" for k, v in ranked[:3])
    why = f", {heard.reason}" if heard.reason else ""
    return (f"{f}: {heard.emotion} (intensity {heard.intensity:.2f}; most probable "
            f"{heard.top}, p {heard.probability:.2f}{why})   {top}")


def _run_emotion(args) -> int:

    files = _audio_files(args.inputs)
    voice = VoiceEmotion(weights=args.model)   # loaded once for every file
    failed = 0
    for f in files:
        try:
            speech = Speech.from_file(f)
            if not len(speech.samples):
                raise UserError(f"audio {str(f)!r} is empty; speech is needed")
            heard = voice.hear(speech, timeline=args.timeline)   # silence: neutral, 0
        except UserError as exc:
            if len(files) == 1:
                raise
            failed += 1
            sys.stderr.write(f"emoface: skipped {f}: {exc}\n")
            continue
        if args.json:
            record = _emotion_record(f, heard)
            if args.timeline:
                record["timeline"] = _finite(heard.timeline)
            print(json.dumps(record, allow_nan=False), flush=True)
        else:
            print(_emotion_line(f, heard))
            for row in heard.timeline:
                print(f"    {row['time']:7.1f} s  {row['emotion']:9s} "
                      f"{row['intensity']:.2f}  ({row['top']} p {row['probability']:.2f})")
    return 1 if failed else 0


# ------------------------------------------------------------------------ export-onnx
def add_export_onnx(sub) -> None:
    p = sub.add_parser("export-onnx", help="export the model to ONNX (two graphs)",
                       description="Write emotion.onnx and decode.onnx for onnxruntime.")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--model", default=None, help="weights (.safetensors; default: bundled)")
    p.set_defaults(func=_run_export_onnx)


def _run_export_onnx(args) -> int:

    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UserError(f"{args.output!r} is a file; give a folder")
    if not out.parent.exists():
        raise UserError(f"folder {str(out.parent)!r} does not exist")
    for name, path in export(load_network(args.model), out).items():
        print(f"wrote {path}  ({path.stat().st_size / 2**20:.1f} MiB, {name} graph)")
    return 0


# ------------------------------------------------------------------------------ train
def add_train(sub) -> None:
    p = sub.add_parser("train", help="train the neural model on a corpus",
                       description="Train from a TOML recipe (see configs/model.toml). Runs on "
                                   "CPU, one GPU, or several with torchrun.")
    p.add_argument("config", help="training recipe (.toml)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log, loss.png)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--corpus", default=None, help="override the recipe's corpus folder")
    p.add_argument("--steps", type=bounded("steps", 1, 10**9, int), default=None, help="override the number of steps")
    p.add_argument("--bundle", action="store_true",
                   help="afterwards, copy the resulting weights (float16) into the package")
    p.set_defaults(func=_run_train)


def _run_train(args) -> int:

    best = train(args.config, args.out, resume=args.resume, corpus=args.corpus, steps=args.steps)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun: rank 0 reports and bundles
        return 0
    print(f"weights: {best}")
    if args.bundle:

        meta = {k: v for k, v in read_metadata(best).items() if k not in ("config", "format")}
        save_checkpoint(load_network(best), BUNDLED_MODEL, meta, half=True)
        print(f"bundled: {BUNDLED_MODEL} ({BUNDLED_MODEL.stat().st_size / 2**20:.1f} MiB)")

        heard = training_data(best)
        if heard is None:
            record_path(BUNDLED_MODEL).unlink(missing_ok=True)
            print("warning: the weights carry no readable training recipe; benchmarks will "
                  "not know which inputs are held out", file=sys.stderr)
        else:
            print(f"training record: {write_record(heard, BUNDLED_MODEL)}")
    return 0
