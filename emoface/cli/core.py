"""Core sub-commands: animate, say, info, demo.

Each ``add_*`` function registers one command (see :mod:`emoface.cli`). Parsers only
declare options; the work happens in ``_run_*`` with heavy imports inside.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .. import outputs, pipeline
from ..audio.io import AUDIO_EXTENSIONS, audio_duration, save_wav
from ..audio.speech import Speech
from ..demo import run_demo
from ..diagnostics import info_lines, self_check
from ..emotion import parse_emotion
from ..engines import MAX_SEED, default_engine_name, engine_class, list_engines, load_engine
from ..engines.long_input import LONG_INPUT_S
from ..errors import UserError, note, warn
from ..files import check_writable
from ..speech import DEFAULT_MODEL, ENV_VAR, load_speech_model, transcribed, transcript_source
from . import bounded

BATCH_EXIT_STATUS = ("exit status: 0 everything written; 1 a folder was given and some of its "
                     "files failed (each named on stderr; every other file written); 2 a usage "
                     "mistake, or the one input given cannot be used (nothing written)")


def _fps(value: str) -> float:
    try:
        fps = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if fps not in (30.0, 60.0):
        raise argparse.ArgumentTypeError("fps must be 30 or 60")
    return fps


def _common_animation_options(p: argparse.ArgumentParser, default_emotion: str = "auto") -> None:
    p.add_argument("--emotion", default=default_emotion,
                   help="auto (heard in the voice) | NAME | NAME:INTENSITY | mix a:0.6+b:0.3 | "
                        f"keyframes 0:neutral,1.5:happy:0.8 (default: {default_emotion})")
    p.add_argument("--intensity", type=bounded("intensity", 0.0, 1.0), default=None,
                   help="intensity in [0, 1] for emotions written without one (default 0.7)")
    p.add_argument("--engine", default=None,
                   help=f"{' | '.join(list_engines())} (default {default_engine_name()}; "
                        "`emoface info` says what each is)")
    p.add_argument("--fps", type=_fps, default=30.0, help="30 or 60 (default 30)")
    p.add_argument("--seed", type=bounded("seed", 0, MAX_SEED, int), default=0,
                   help=f"seed for blinks, gaze, head: 0 to {MAX_SEED} (default 0)")


# ------------------------------------------------------------------------- animate
def add_animate(sub) -> None:
    p = sub.add_parser("animate", help="animate a speech recording (or a folder of them)",
                       description="Speech recording in, ARKit animation out. The format "
                                   "follows the extension of -o (.csv Live Link Face, .json, "
                                   ".npz, ...); a folder gets the default set.",
                       epilog=BATCH_EXIT_STATUS)
    p.add_argument("audio", help="wav/flac/ogg/mp3 (m4a, aac, opus or a video's sound through "
                                 "ffmpeg) file, or a folder of them")
    p.add_argument("-o", "--output", required=True, help="output file or folder")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--text", help="transcript (better lip sync via forced alignment)")
    text.add_argument("--text-file", help="file holding the transcript")
    text.add_argument("--transcribe", action="store_true",
                      help="no transcript? let Whisper hear the words, then align them like a "
                           "given transcript (English; other languages: audio alone)")
    p.add_argument("--speech-model", default=None, metavar="MODEL",
                   help="Whisper model for --transcribe: tiny.en, base, or a CTranslate2 model "
                        f"folder (default ${ENV_VAR}, else {DEFAULT_MODEL})")
    p.add_argument("--format", default=None,
                   help="for folder input: output extensions, comma-separated (e.g. npz,csv)")
    _common_animation_options(p)
    p.set_defaults(func=_run_animate)


def _read_text_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such transcript file: {path!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read transcript {path!r} ({exc.__class__.__name__})") from None


def _run_animate(args) -> int:

    spec = parse_emotion(args.emotion, args.intensity)  # bad emotion: fail before any work
    engine_class(args.engine)                              # unknown engine: likewise
    source = Path(args.audio)
    if source.is_dir():
        return _animate_folder(source, args, spec)
    if args.format:
        raise UserError("--format is for folder input; for one file, name the output "
                        "with the extension you want")
    text = _read_text_file(args.text_file) if args.text_file else args.text
    paths = outputs.plan(args.output, source.stem)
    if not source.exists():
        raise UserError(f"no such file: {args.audio!r}")
    engine = load_engine(args.engine)
    hearing = _speech_model_for(engine, args)
    audio, heard = _heard(source, hearing)
    anim = engine.animate(audio, spec, text=text, fps=args.fps, seed=args.seed)
    _record_heard(anim, hearing, heard)
    written = outputs.write_all(anim, paths, audio=str(source))
    _report(anim, written)
    return 0


def _speech_model_for(engine, args):
    """The Whisper model that --transcribe asks for, loaded before any work (a missing
    package fails first), or None when there is nothing to transcribe for."""
    if not args.transcribe:
        if args.speech_model:
            warn("--speech-model is used with --transcribe only; ignored")
        return None
    if not engine.capabilities.reads_transcript:
        warn(f"the {engine.name} engine does not read a transcript; --transcribe is skipped "
             "(animating from the audio alone)")
        return None
    return load_speech_model(args.speech_model)


def _heard(source: Path, model):
    """(what the engine animates, what Whisper heard): the path itself without a model,
    else the loaded speech carrying Whisper's words as its transcript."""
    if model is None:
        return source, None
    if audio_duration(source) > LONG_INPUT_S:
        note(f"--transcribe reads audio up to {LONG_INPUT_S / 60:g} min; {source.name} is "
             "longer and is animated from the audio alone, window by window")
        return source, None
    return transcribed(Speech.from_file(source), model)


def _record_heard(anim, model, heard) -> None:
    if heard is not None:
        anim.meta["transcript"] = {"source": transcript_source(model), "text": heard.text,
                                   "language": heard.language,
                                   "language_probability": round(heard.language_probability, 3)}


def _animate_folder(folder: Path, args, spec) -> int:
    from tqdm import tqdm


    if args.text or args.text_file:
        raise UserError("--text is for one file; in a folder, put NAME.txt beside NAME.wav")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise UserError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {str(folder)!r}")
    exts = None
    if args.format:
        exts = tuple("." + e.strip().lstrip(".").lower() for e in args.format.split(",") if e.strip())
    out = args.output if str(args.output).endswith("/") else str(args.output) + "/"
    plans = [(f, outputs.plan(out, f.stem, exts)) for f in files]
    engine = load_engine(args.engine)  # loaded once for the whole folder
    hearing = _speech_model_for(engine, args)
    failed = 0
    for f, paths in tqdm(plans, desc="animating", unit="file", disable=None):
        sidecar = f.with_suffix(".txt")
        try:
            text = sidecar.read_text(encoding="utf-8") if sidecar.exists() else None
            audio, heard = (f, None) if text else _heard(f, hearing)
            anim = engine.animate(audio, spec, text=text, fps=args.fps, seed=args.seed)
            _record_heard(anim, hearing, heard)
            outputs.write_all(anim, paths, audio=str(f))
        except UserError as exc:  # one bad file must not stop a batch
            failed += 1
            sys.stderr.write(f"emoface: skipped {f.name}: {exc}\n")
    print(f"animated {len(files) - failed} of {len(files)} files into {args.output}")
    return 1 if failed else 0


def _report(anim, written) -> None:
    method = anim.meta.get("phone_method", "-")
    heard = anim.meta.get("transcript")
    if heard:
        method += f" of {heard['source']}'s words"
    for p in written:
        print(f"wrote {p}  ({anim.num_frames} frames, {anim.duration:.2f} s at {anim.fps:g} fps, "
              f"engine {anim.meta.get('engine')}, phones: {method})")


# ----------------------------------------------------------------------------- say
def add_say(sub) -> None:
    p = sub.add_parser("say", help="speak text with espeak-ng and animate it",
                       description="Synthesise TEXT in the emotion's speaking style and animate "
                                   "it with espeak's exact phoneme times. Writes the speech as a "
                                   "wav beside the animation.")
    p.add_argument("text", help="what to say")
    p.add_argument("-o", "--output", required=True, help="output file or folder")
    p.add_argument("--voice", default="en-us", help="espeak-ng voice (default en-us)")
    p.add_argument("--wav", default=None, help="where to write the speech (default: beside -o)")
    _common_animation_options(p, default_emotion="neutral")
    p.set_defaults(func=_run_say)


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:5]
    return "_".join(words) or "speech"


def _run_say(args) -> int:

    paths = outputs.plan(args.output, _slug(args.text))
    wav = Path(args.wav) if args.wav else paths[0].with_suffix(".wav")
    if wav in paths:
        raise UserError(f"{str(wav)!r} is the speech; name an animation output (.csv .json .npz ...)")
    if wav.parent.exists():
        check_writable(wav)
    anim, samples, sr = pipeline.speak(args.text, emotion=args.emotion, intensity=args.intensity,
                                       voice=args.voice, engine=args.engine, fps=args.fps,
                                       seed=args.seed)
    wav.parent.mkdir(parents=True, exist_ok=True)
    save_wav(wav, samples, sr)
    try:
        written = outputs.write_all(anim, paths, audio=str(wav))
    except BaseException:
        wav.unlink(missing_ok=True)
        raise
    print(f"wrote {wav}  ({len(samples) / sr:.2f} s of speech)")
    _report(anim, written)
    return 0


# ---------------------------------------------------------------------------- info
def add_info(sub) -> None:
    p = sub.add_parser("info", help="versions, what is installed, and a self-check")
    p.set_defaults(func=_run_info)


def _run_info(args) -> int:

    for line in info_lines():
        print(line)
    ok, message = self_check()
    print(f"self-check: {message}")
    return 0 if ok else 1


# ---------------------------------------------------------------------------- demo
def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="animate bundled sentences in several emotions",
                       description="Speaks a few bundled sentences with espeak-ng in different "
                                   "emotions and writes every output format for each.")
    p.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    p.add_argument("--fps", type=_fps, default=30.0)
    p.set_defaults(func=_run_demo)


def _run_demo(args) -> int:

    run_demo(Path(args.out), fps=args.fps)
    return 0
