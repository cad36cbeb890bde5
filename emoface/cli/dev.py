"""``emoface dev ...``: measurements and retraining the project itself runs, and that a
user reruns to reproduce BENCHMARKS.md and docs/: speed, graphics, probe, emotion-folds,
train-expression, livelink-report, real-motion.

Parsers only declare options; each command calls one plain function of the library
module that does the work (imported inside, so ``emoface --help`` stays light).
"""
from __future__ import annotations

import argparse

from ..data import livelink_stats
from ..errors import UserError
from ..eval import graphics, probe, realmotion, speed, train_expression
from ..eval.emotion import EXPRESSION_ASSET
from ..train import emotion_folds


def add_dev(sub) -> None:
    p = sub.add_parser("dev", help="measurements and retraining behind BENCHMARKS.md and docs/",
                       description="Developer commands: the measurements behind BENCHMARKS.md "
                                   "and docs/, and retraining of bundled assets.")
    dev = p.add_subparsers(dest="dev_command", metavar="ACTION", parser_class=type(p))
    for add in (_add_speed, _add_graphics, _add_probe, _add_emotion_folds,
                _add_train_expression, _add_livelink_report, _add_real_motion):
        add(dev)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


# ----------------------------------------------------------------------------- speed
def _add_speed(dev) -> None:
    p = dev.add_parser("speed", help="real-time factor, latency, peak memory (one JSON line)",
                       description="Real-time factor, latency and peak memory of one system, "
                                   "printed as one JSON line. Run it in a fresh process so the "
                                   "peak memory is this system's alone.")
    p.add_argument("--engine", default="rules")
    p.add_argument("--transcript", action="store_true")
    p.add_argument("--emotion", default="neutral", help="neutral (default) or auto")
    p.add_argument("--seconds", type=float, default=60.0)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--model", action="store_true",
                      help="the neural network alone, per backend (torch, onnx)")
    what.add_argument("--cli", action="store_true",
                      help="`emoface animate` on a file, end to end, in a child process")
    p.set_defaults(func=_run_speed)


def _run_speed(args) -> int:
    import json


    result = speed.run(args.engine, args.transcript, args.seconds, args.emotion,
                       model=args.model, cli=args.cli)
    print(json.dumps(result))
    return 0


# -------------------------------------------------------------------------- graphics
def _add_graphics(dev) -> None:
    p = dev.add_parser("graphics", help="render fps and export time/size per rig",
                       description="Render and export speed: what a preview video and an "
                                   "engine file cost here.")
    p.add_argument("what", choices=("render", "export", "all"), nargs="?", default="all")
    p.add_argument("--rigs", default="default,ict", help="comma-separated rigs")
    p.add_argument("--size", type=int, default=512, help="render width and height")
    p.add_argument("--frames", type=int, default=150, help="frames per timed render pass")
    p.add_argument("--repeat", type=int, default=3, help="timed passes (median counts)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the exported take")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate of the exported take")
    p.add_argument("--no-video", action="store_true", help="skip the .mp4 pass")
    p.add_argument("--json", action="store_true", help="print one JSON line instead")
    p.set_defaults(func=_run_graphics)


def _run_graphics(args) -> int:

    rigs = [r for r in args.rigs.split(",") if r]
    return graphics.run(args.what, rigs, args.size, args.frames, args.repeat, args.seconds,
                        args.fps, video=not args.no_video, as_json=args.json)


# ----------------------------------------------------------------------------- probe
def _add_probe(dev) -> None:

    p = dev.add_parser("probe", help="held-out lip sync of weights files (LibriVox, EmoDB)",
                       description=probe.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("weights", nargs="*", help="weights files (default: the bundled model)")
    p.add_argument("--misses", action="store_true", help="list each missed /p b m/")
    p.set_defaults(func=_run_probe)


def _run_probe(args) -> int:

    return probe.run(args.weights, args.misses)


# --------------------------------------------------------------------- emotion-folds
def _add_emotion_folds(dev) -> None:
    p = dev.add_parser("emotion-folds",
                       help="voice emotion, EmoDB leave-one-speaker-out retraining (~1 h)",
                       description="Voice emotion on speakers never trained on: "
                                   "leave-one-speaker-out over EmoDB.")
    p.add_argument("--config", default="configs/emotion.toml")
    p.add_argument("--out", default="runs/folds")
    p.add_argument("--png", default="docs/voice_emotion_confusion.png")
    p.add_argument("--jobs", type=int, default=2,
                   help="folds trained at once (default 2: one per core here)")
    p.set_defaults(func=_run_emotion_folds)


def _run_emotion_folds(args) -> int:

    emotion_folds.run(args.config, args.out, args.png, jobs=args.jobs)
    return 0


# ------------------------------------------------------------------ train-expression
def _add_train_expression(dev) -> None:

    p = dev.add_parser("train-expression", help="retrain the bundled expression classifier",
                       description="Retrain the bundled expression classifier "
                                   "(emoface/assets/expression_classifier.json).")
    p.add_argument("--out", default=str(EXPRESSION_ASSET))
    p.add_argument("--captures", default=None, help="Live Link folder (default: shared)")
    p.set_defaults(func=_run_train_expression)


def _run_train_expression(args) -> int:

    train_expression.run(args.out, args.captures)
    return 0


# ------------------------------------------------------------------- livelink-report
def _add_livelink_report(dev) -> None:
    p = dev.add_parser("livelink-report",
                       help="blink, gaze, expression and smoothness statistics of captures",
                       description="Blink, gaze, expression-level and smoothness statistics "
                                   "of Live Link Face captures (one sub-folder per label).")
    p.add_argument("folder", nargs="?", help="captures (default: ../shared/data/livelink)")
    p.add_argument("--json", metavar="OUT", help="write every statistic as JSON")
    p.add_argument("--markdown", metavar="OUT",
                   help="write the tables as Markdown ('-' or absent: stdout)")
    p.add_argument("--plots", metavar="DIR",
                   help="write calibration_blinks.png and calibration_gaze.png there")
    p.add_argument("--baseline", default="idle", help="label the others are compared with")
    p.set_defaults(func=_run_livelink_report)


def _run_livelink_report(args) -> int:

    livelink_stats.report(args.folder, json_out=args.json, markdown=args.markdown,
                          plots=args.plots, baseline=args.baseline)
    return 0


# ----------------------------------------------------------------------- real-motion
def _add_real_motion(dev) -> None:
    p = dev.add_parser("real-motion",
                       help="every engine's lips against real video (GRID, held-out sentences)",
                       description="Lip aperture of every engine against lips captured from "
                                   "GRID talker s1's held-out clips: r, b/p/m closures, false "
                                   "closures, jitter; the captured take as the ceiling.")
    p.add_argument("--clips", type=int, default=None,
                   help="the first N held-out clips (default: all 100)")
    p.add_argument("--cache", metavar="DIR", default="runs/real-motion",
                   help="landmarks and per-clip results (default: runs/real-motion)")
    p.add_argument("--json", metavar="OUT", help="write every number as JSON")
    p.add_argument("--markdown", metavar="OUT",
                   help="write the table as Markdown ('-' or absent: stdout)")
    p.set_defaults(func=_run_real_motion)


def _run_real_motion(args) -> int:
    if args.clips is not None and args.clips < 1:
        raise UserError(f"--clips must be at least 1, got {args.clips}")
    held = realmotion.grid_split()[1]
    clips = held[:args.clips] if args.clips else held
    results = realmotion.run(clips if clips else None, cache_dir=args.cache)
    realmotion.write_outputs(results, json_out=args.json, markdown=args.markdown)
    return 0
