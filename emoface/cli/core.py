"""Core sub-commands: animate, say, info, demo.

Each ``add_*`` function registers one command (see :mod:`emoface.cli`). Parsers only
declare options; the work happens in ``_run_*`` with heavy imports inside.
"""
from __future__ import annotations

import argparse
import contextlib
import re
import sys
from pathlib import Path

from .. import batch, outputs, pipeline
from ..audio.io import save_wav
from ..demo import run_demo
from ..diagnostics import info_lines, self_check
from ..emotion import parse_emotion
from ..engines import MAX_SEED, default_engine_name, engine_class, list_engines, load_engine
from ..errors import UserError, note
from ..files import check_writable
from ..speech import DEFAULT_MODEL, ENV_VAR
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


LIVE_LINK_FPS = 60.0   # the iPhone app's rate: what a Live Link Face CSV normally holds


def frame_rate(fps: float | None, paths) -> float:
    """The rate to animate at: the one asked for; else 60 when every output is a Live Link
    CSV, else 30. A mixed set shares one rate so its files stay frame for frame the same."""
    if fps is not None:
        return fps
    csv_only = bool(paths) and all(Path(p).suffix.lower() == ".csv" for p in paths)
    return LIVE_LINK_FPS if csv_only else 30.0


def _common_animation_options(p: argparse.ArgumentParser, default_emotion: str = "auto") -> None:
    p.add_argument("--emotion", default=default_emotion,
                   help="auto (heard in the voice) | NAME | NAME:INTENSITY | mix a:0.6+b:0.3 | "
                        f"keyframes 0:neutral,1.5:happy:0.8 (default: {default_emotion})")
    p.add_argument("--intensity", type=bounded("intensity", 0.0, 1.0), default=None,
                   help="intensity in [0, 1] for emotions written without one (default 0.7)")
    p.add_argument("--engine", default=None,
                   help=f"{' | '.join(list_engines())} (default {default_engine_name()}; "
                        "`emoface info` says what each is)")
    p.add_argument("--fps", type=_fps, default=None,
                   help="30 or 60 (default: 60 when every output is a Live Link CSV, the "
                        "phone's rate that Unreal's importer expects; 30 otherwise)")
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
    p.add_argument("--no-text", dest="use_words", action="store_false",
                   help="the transcript (given or heard) places the phones only; its words "
                        "do not move the brows, lids and head (to compare with and without)")
    p.add_argument("--speech-model", default=None, metavar="MODEL",
                   help="Whisper model for --transcribe: tiny.en, base, or a CTranslate2 model "
                        f"folder (default ${ENV_VAR}, else {DEFAULT_MODEL})")
    p.add_argument("--format", default=None,
                   help="for folder input: output extensions, comma-separated (e.g. npz,csv)")
    p.add_argument("--resume", action="store_true",
                   help="for folder input: skip files whose outputs are all there already "
                        "(a stopped run goes on where it was)")
    pool = p.add_mutually_exclusive_group()
    pool.add_argument("--workers", metavar="N", type=bounded("workers", 1, 1024, int), default=None,
                      help="for folder input: animate on N local worker processes "
                           "(needs the cluster extra)")
    pool.add_argument("--cluster", metavar="ADDRESS", default=None,
                      help="for folder input: animate on the workers of the Dask scheduler "
                           "at ADDRESS (tcp://host:8786); files by the same path on every "
                           "worker (docs/cluster.md)")
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
        return _animate_folder(source, args)
    if args.format:
        raise UserError("--format is for folder input; for one file, name the output "
                        "with the extension you want")
    for option, value in (("--workers", args.workers), ("--cluster", args.cluster),
                          ("--resume", args.resume)):
        if value:
            raise UserError(f"{option} is for folder input")
    text = _read_text_file(args.text_file) if args.text_file else args.text
    paths = outputs.plan(args.output, source.stem)
    if not source.exists():
        raise UserError(f"no such file: {args.audio!r}")
    engine = load_engine(args.engine)
    engine.use_words = args.use_words
    hearing = batch.speech_model_for(engine, args.transcribe, args.speech_model)
    audio, words = batch.heard(source, hearing)
    anim = engine.animate(audio, spec, text=text, fps=frame_rate(args.fps, paths), seed=args.seed)
    batch.record_heard(anim, hearing, words)
    written = outputs.write_all(anim, paths, audio=str(source))
    _report(anim, written)
    return 0


def _animate_folder(folder: Path, args) -> int:
    from tqdm import tqdm

    if args.text or args.text_file:
        raise UserError("--text is for one file; in a folder, put NAME.txt beside NAME.wav")
    jobs = batch.plan_folder(folder, args.output, args.format)
    todo = [job for job in jobs if not (args.resume and job.done)]
    if len(todo) < len(jobs):
        note(f"{len(jobs) - len(todo)} of {len(jobs)} files already written; skipping them")
    if args.resume:
        for job in todo:
            job.remove_leftovers()
    settings = batch.Settings(engine=args.engine, emotion=args.emotion,
                              intensity=args.intensity,
                              fps=frame_rate(args.fps, jobs[0].outputs), seed=args.seed,
                              transcribe=args.transcribe, speech_model=args.speech_model,
                              use_words=args.use_words)
    # a missing weights package or a skipped --transcribe: said once, before any file
    batch.speech_model_for(engine_class(args.engine), args.transcribe, args.speech_model)
    with contextlib.ExitStack() as stack:
        if (args.workers or args.cluster) and todo:
            pool = stack.enter_context(_pool(args, settings))
            print(f"{len(pool.start_s)} workers ready in {pool.ready_s:.1f} s")
            results = pool.animate(todo)
        else:
            results = batch.animate_here(todo, settings)
        failed = 0
        # unit "file": the bar shows files/s and the time left
        for job, error in tqdm(results, total=len(todo), desc="animating", unit="file",
                               disable=None):
            if error:  # one bad file must not stop a batch
                failed += 1
                sys.stderr.write(f"emoface: skipped {job.audio.name}: {error}\n")
    done = len(todo) - failed
    print(f"animated {done} of {len(todo)} files into {args.output}"
          + (f" ({len(jobs) - len(todo)} already there)" if len(todo) < len(jobs) else ""))
    return 1 if failed else 0


def _pool(args, settings):
    """The pool of workers ``--workers``/``--cluster`` ask for; dask is imported here only."""
    try:
        from .. import cluster
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ("dask", "distributed"):
            raise UserError("--workers and --cluster need Dask distributed; "
                            "pip install 'emoface[cluster]'") from None
        raise
    return cluster.Pool(settings, address=args.cluster, workers=args.workers)


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
                                       voice=args.voice, engine=args.engine,
                                       fps=frame_rate(args.fps, paths),
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
