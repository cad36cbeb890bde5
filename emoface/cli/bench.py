"""``emoface bench``: run a benchmark suite and write its report.

    emoface bench --suite quick                  fixed small inputs, a few minutes at most
    emoface bench --suite full                   every held-out set; rewrites BENCHMARKS.md
    emoface bench --engine rules --data DIR      your audio with reference curves beside it
"""
from __future__ import annotations

from pathlib import Path

from ..engines import engine_class
from ..errors import UserError
from ..eval import realmotion, report
from ..eval.runner import run_suite, systems_for, usable_systems
from ..eval.suites import SUITES, user_suite


def add_bench(sub) -> None:
    p = sub.add_parser(
        "bench", help="benchmark engines: lip sync, vertex, emotion, motion and speed metrics",
        description="Run a benchmark suite over every engine (or those named) and write a "
                    "markdown table, JSON and PNG figures. --suite full also rewrites "
                    "BENCHMARKS.md.")
    p.add_argument("--suite", choices=("quick", "full"), default="quick",
                   help="quick: fixed small inputs (default); full: every held-out set")
    p.add_argument("--engine", action="append", default=None, metavar="NAME",
                   help="benchmark this engine (repeatable; default: every installed engine)")
    p.add_argument("--data", default=None, metavar="DIR",
                   help="your own data: audio files with reference curves of the same name "
                        "(x.wav + x.npy (T, 52) at 30 fps, or x.csv / x.npz / x.json), "
                        "optional x.txt transcripts")
    p.add_argument("--out", default="bench-results", metavar="DIR",
                   help="results folder: JSON, figures, cache (default: bench-results)")
    p.add_argument("--markdown", default=None, metavar="PATH",
                   help="where the markdown report goes (default: BENCHMARKS.md for --suite "
                        "full, else OUT/SUITE.md)")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help="where the PNG figures go (default: docs/ for --suite full, else OUT)")
    p.add_argument("--no-cache", action="store_true", help="recompute everything")
    p.add_argument("--no-speed", action="store_true",
                   help="skip the timings: speed, the network alone, render and export")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run_bench)


def _run_bench(args) -> int:

    engines = args.engine
    for name in engines or []:
        engine_class(name)  # unknown: one line, before any work
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file; give a folder")
    if args.data:

        suite = user_suite(args.data)
        name = "data"
    else:

        suite = SUITES[args.suite]()
        name = args.suite
    full = name == "full"
    markdown = Path(args.markdown) if args.markdown else (
        Path("BENCHMARKS.md") if full else out / f"{name}.md")
    figures = Path(args.figures) if args.figures else (Path("docs") if full else out)
    for folder in (out, markdown.parent, figures):
        folder.mkdir(parents=True, exist_ok=True)
    report = run_and_report(suite, engines, out, markdown, figures, use_cache=not args.no_cache,
                            speed=not args.no_speed, show_progress=not args.quiet,
                            title="emoface benchmarks" if full else f"emoface bench: {suite.name}")
    print(report["table"])
    print(f"\nwrote {markdown}, {out / (name + '.json')} and {len(report['figures'])} figure(s) "
          f"in {figures}")
    return 0


def run_and_report(suite, engines, out: Path, markdown: Path, figures: Path, *,
                   use_cache: bool = True, speed: bool = True, show_progress: bool = True,
                   title: str = "emoface benchmarks") -> dict:
    """Run ``suite`` and write OUT/<suite>.json, the markdown and the figures. Returns the
    results, the summary, and the table as markdown."""
    import json


    systems, broken = usable_systems(systems_for(engines))
    if engines and broken:
        name, why = next(iter(broken.items()))
        raise UserError(f"engine {name!r} cannot run here: {why}")
    results = run_suite(suite, systems, out, use_cache=use_cache, show_progress=show_progress,
                        speed=speed)
    results["notes"] += [f"engine {name!r} not benchmarked: {why}" for name, why in broken.items()]
    if suite.name == "full":  # real motion: the GRID clips, when they and mediapipe are here
        reason = realmotion.unavailable_reason()
        if reason:
            results["notes"].append(f"real-motion rows skipped: {reason}")
        else:
            results["real_motion"] = realmotion.run(
                systems=systems, cache_dir=out / "cache" / "real-motion" if use_cache else None,
                progress=show_progress)
    agg = report.aggregate(results)
    info = report.machine_info()
    stem = "data" if suite.name.startswith("data:") else suite.name
    prefix = "bench_" if stem == "full" else f"{stem}_"
    paths = report.write_figures(results, agg, figures, prefix=prefix)
    md = report.render_markdown(results, agg, info, report.command_line(), paths,
                                markdown.parent, title)
    if markdown.exists():  # sections other commands measured stay
        md = report.keep_other_sections(markdown.read_text(), md)
    markdown.write_text(md)
    (out / f"{stem}.json").write_text(json.dumps(report.to_json(results, agg, info),
                                                 default=_plain))
    labels = [s.label for s in systems]
    table = report.markdown_table(["metric", "unit", "data (reference)", "reference"] + labels,
                                  report.table_rows(results, agg))
    return {"results": results, "summary": agg, "table": table, "figures": paths,
            "markdown": markdown}


def _plain(x):
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x))
