"""Turning an ``-o`` argument into output files, and writing them all or none.

``-o take.csv`` writes one file in the format its extension names; ``-o outdir/`` (or an
existing folder) writes the default set named after the input. Every path is checked
before any work starts, and if one write fails the ones already written are removed.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .animation import Animation
from .errors import UserError
from .files import check_writable


def plan(out: str | os.PathLike, stem: str, default_set: tuple[str, ...] | None = None) -> list[Path]:
    """Output paths for ``out``; raises UserError for unknown formats or unwritable places.

    A name ending in a slash, an existing folder, or a name without an extension is a
    folder (created if its parent exists) that receives the default set."""
    from .export import DEFAULT_SET, writer_for

    out_str = str(out)
    path = Path(out_str)
    as_folder = out_str.endswith(("/", os.sep)) or path.is_dir() or not path.suffix
    if as_folder:
        if path.exists() and not path.is_dir():
            raise UserError(f"output {out_str!r} exists and is not a folder")
        if not path.exists():
            check_writable(path)  # the folder to be created must itself be creatable
        paths = [path / f"{stem}{ext}" for ext in (default_set or DEFAULT_SET)]
    else:
        paths = [path]
    for p in paths:
        writer_for(p)  # unknown extension -> UserError now, not after the work
        if p.parent.exists() or not as_folder:
            check_writable(p)
    return paths


def write_all(anim: Animation, paths: list[Path], **options) -> list[Path]:
    """Write every path (format by extension) or, on any failure, none of them."""
    from .export import write

    written: list[Path] = []
    made_dirs = [p.parent for p in paths if not p.parent.exists()]
    try:
        for d in dict.fromkeys(made_dirs):
            d.mkdir(parents=True, exist_ok=True)
        for p in paths:
            write(anim, p, **options)
            written.append(p)
    except BaseException:
        for p in written:
            with contextlib.suppress(OSError):
                p.unlink()
        for d in reversed(list(dict.fromkeys(made_dirs))):
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
    return written
