"""``emoface data build`` and ``emoface data stats``: the training corpus from the command
line (see :mod:`emoface.data.build` for what a corpus folder holds)."""
from __future__ import annotations

from pathlib import Path

from ..data.build import BuildOptions, build
from ..data.sources import DEFAULT_SOURCES, SOURCES
from ..data.stats import corpus_stats, format_text, plot
from ..errors import UserError
from . import bounded

FOLDER_SOURCES = ("livelink-take", "etf3d", "video")
SOURCE_HELP = ("sources to build, each NAME or NAME=PATH: librivox asterisk emodb librispeech "
               "(transcribed by Whisper) tts flite "
               "livelink-take=DIR etf3d=DIR video=DIR (or 'video DIR': talking-face videos, "
               "targets captured from the face), or 'default' (librivox asterisk emodb from "
               "../shared/data, tts and flite generated)")


def add_data(sub) -> None:
    p = sub.add_parser("data", help="build and inspect the training corpus",
                       description="Training corpus: build it from datasets and synthetic "
                                   "speech, or show what one holds.")
    data = p.add_subparsers(dest="data_command", metavar="ACTION",
                            parser_class=type(p))
    b = data.add_parser("build", help="build (or complete) a corpus; a rerun does only what "
                                      "is missing",
                        description="Build the training corpus: audio, phone timings, "
                                    "features and target curves per clip, and manifest.jsonl. "
                                    "Resumable: a rerun only does what is missing.")
    b.add_argument("sources", nargs="+", metavar="SOURCE", help=SOURCE_HELP)
    b.add_argument("--out", required=True, help="corpus folder (created if missing)")
    b.add_argument("--tts-hours", type=bounded("hours", 0.0, 1000.0), default=3.0,
                   help="hours of synthetic speech to plan (default 3)")
    b.add_argument("--tts-clips-per-sentence", type=int, default=2, choices=range(1, 9),
                   metavar="N", help="emotions each TTS sentence is spoken in by one voice "
                                     "(default 2)")
    b.add_argument("--tts-seed", type=bounded("seed", 0, 2**32 - 1, int), default=1, help="seed of the TTS plan (default 1)")
    b.add_argument("--flite-hours", type=bounded("hours", 0.0, 1000.0), default=2.0,
                   help="hours of Flite speech to plan (default 2; same emotions per "
                        "sentence as TTS)")
    b.add_argument("--workers", type=bounded("workers", 1, 64, int), default=2,
                   help="parallel processes (default 2)")
    b.add_argument("--speech-model", default=None, metavar="MODEL",
                   help="Whisper model that transcribes untranscribed speech (librispeech): "
                        "tiny.en, base or a model folder (default $EMOFACE_SPEECH_MODEL, else "
                        "the speech front-end's default)")
    b.add_argument("--retry-skipped", action="store_true",
                   help="try again the clips an earlier build skipped")
    b.add_argument("--prune", action="store_true",
                   help="remove clips of the named sources that the plan no longer holds")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_run_build)

    s = data.add_parser("stats", help="hours per source, speaker, language and emotion",
                        description="Summarise a corpus: hours per source, split, speaker, "
                                    "language and emotion; a duration histogram as PNG.")
    s.add_argument("corpus", metavar="DIR", help="corpus folder (holds manifest.jsonl)")
    s.add_argument("--png", default=None,
                   help="write the figure here (default DIR/stats.png; 'none' to skip)")
    s.add_argument("--json", action="store_true", help="print the numbers as JSON")
    s.set_defaults(func=_run_stats)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def parse_sources(specs: list[str]) -> list[tuple[str, Path | None]]:

    out: list[tuple[str, Path | None]] = []
    specs = list(specs)
    while specs:
        spec = specs.pop(0)
        name, eq, path = spec.partition("=")
        name = name.strip().lower()
        if not eq and name in FOLDER_SOURCES and specs and specs[0].partition("=")[0] \
                .strip().lower() not in (*SOURCES, "default", "all"):
            eq, path = "=", specs.pop(0)   # `video DIR`, as `video=DIR`
        if name in ("default", "all") and not eq:
            out.extend((n, None) for n in DEFAULT_SOURCES)
            continue
        if name not in SOURCES:
            raise UserError(f"unknown corpus source {name!r}; choose from "
                            f"{', '.join(SOURCES)} or default")
        if eq and not path.strip():
            raise UserError(f"empty path in {spec!r}; write {name}=PATH")
        if name in ("tts", "flite") and eq:
            raise UserError(f"{name} takes no path; size it with --{name}-hours")
        if not eq and name in FOLDER_SOURCES:
            raise UserError(f"source {name!r} needs a folder: write {name}=PATH")
        root = Path(path).expanduser() if eq else None
        if root is not None and not root.exists():
            raise UserError(f"source {name!r}: {str(root)!r} does not exist")
        out.append((name, root))
    seen: set[str] = set()
    for name, root in out:
        key = f"{name}={root}"
        if key in seen:
            raise UserError(f"source {name!r} given twice")
        seen.add(key)
    return out


def _run_build(args) -> int:

    sources = parse_sources(args.sources)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file, not a folder")
    options = BuildOptions(tts_hours=args.tts_hours,
                           tts_clips_per_sentence=args.tts_clips_per_sentence,
                           tts_seed=args.tts_seed, flite_hours=args.flite_hours,
                           workers=args.workers, speech_model=args.speech_model,
                           progress=not args.quiet, retry_skipped=args.retry_skipped,
                           prune=args.prune)
    report = build(out, sources, options)
    print(report.summary())
    if report.work_done == 0 and not report.manifest_written:
        print("nothing to do: every clip was already built")
    print(f"manifest: {out / 'manifest.jsonl'}   report: {out / 'build_report.json'}")
    return 1 if report.failed else 0


def _run_stats(args) -> int:
    import json


    folder = Path(args.corpus)
    if not folder.is_dir():
        raise UserError(f"corpus folder {str(folder)!r} does not exist")
    stats = corpus_stats(folder)
    if args.json:
        printable = {k: v for k, v in stats.items() if k != "durations"}
        print(json.dumps(printable, indent=1, sort_keys=True))
    else:
        print(format_text(stats))
    png = args.png if args.png is not None else str(folder / "stats.png")
    if png.lower() != "none":
        plot(stats, png)
        if not args.json:
            print(f"figure: {png}")
    return 0
