"""The ``emoface`` command line.

Each sub-command lives beside the code it drives and registers itself through a function
``add_command(subparsers)`` that adds its parser and sets ``func``; :data:`COMMANDS` lists
those functions by dotted path so start-up imports only light modules. Heavy imports
(numpy stacks, renderers, models) happen inside the ``func`` that needs them.

User mistakes raise :class:`~emoface.errors.UserError`: one line on stderr, exit code 2.
SIGINT and SIGTERM unwind the command (child processes are ended and temporary files
removed on the way out) and exit with one line and code 130 or 143.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator

from ..errors import Terminated, UserError
from ..version import __version__

# "module:function" adding one sub-command each; order is the order shown in --help.
COMMANDS: tuple[str, ...] = (
    "emoface.cli.core:add_animate",
    "emoface.cli.capture:add_capture",
    "emoface.cli.core:add_say",
    "emoface.cli.model:add_emotion",
    "emoface.cli.core:add_info",
    "emoface.cli.core:add_demo",
    "emoface.cli.model:add_train",
    "emoface.cli.model:add_export_onnx",
    "emoface.cli.export:add_export",
    "emoface.cli.serve:add_serve",
    "emoface.cli.live:add_live",
    "emoface.cli.bench:add_bench",
    "emoface.cli.render:add_render",
    "emoface.cli.render:add_plot",
    "emoface.cli.data:add_data",
    "emoface.cli.dev:add_dev",
)


def bounded(what: str, low: float, high: float, cast=float):
    """An argparse type: a number (``cast``) between ``low`` and ``high`` inclusive."""
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            kind = "whole number" if cast is int else "number"
            raise argparse.ArgumentTypeError(f"not a {kind}: {text!r}") from None
        if not low <= value <= high:
            shown = (str if cast is int else "{:g}".format)
            raise argparse.ArgumentTypeError(f"{what} must be between {shown(low)} and "
                                             f"{shown(high)}, got {shown(value)}")
        return value
    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit code 2 (the error contract)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:

    parser = _Parser(prog="emoface", description="Speech in, emotional 3D facial animation out.")
    parser.add_argument("--version", action="version", version=f"emoface {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for spec in COMMANDS:
        module, func = spec.split(":")
        getattr(importlib.import_module(module), func)(sub)
    return parser


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated` in the main thread,
    once: a second signal while the first unwinds is ignored, so the clean-up (ending
    ffmpeg, removing temporary files) is not cut short. The old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, _frame):
        if fired:
            return
        fired.append(signum)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with _signals_unwind():
            result = args.func(args)
    except UserError as exc:
        sys.stderr.write(f"emoface: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("emoface: interrupted\n")
        return 130
    except Terminated as exc:
        sys.stderr.write("emoface: terminated\n")
        return exc.exit_code
    except BrokenPipeError:  # e.g. `emoface emotion dir --json | head`
        return 0
    return int(result or 0)
