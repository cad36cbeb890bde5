"""Every output format, registered by file extension in one place; and turning an ``-o``
argument into output files, written all or none.

``write(anim, "take.csv")`` picks the Live Link writer, ``.json`` the JSON one, ``.npz`` the
native format, ``.glb``/``.gltf`` glTF, ``.usda``/``.usd`` USD, ``.mp4`` a rendered preview.
``-o take.csv`` writes one file in the format its extension names; ``-o outdir/`` (or an
existing folder) writes the default set named after the input. Every path is checked
before any work starts, and if one write fails the ones already written are removed.
"""
from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path

from .animation import Animation
from .errors import UserError
from .export import gltf, json_io, livelink_csv, npz, usd
from .files import check_writable
from .render import video

Writer = Callable[..., None]  # (anim, path, **options); options a format may ignore
Reader = Callable[[str | Path], Animation]


def _needs_extra(func: Callable, extra: str) -> Callable:
    """``func``, but a missing optional library is a one-line UserError naming the extra."""
    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing in ("pxr", "pygltflib", "moderngl", "imageio_ffmpeg"):
                raise UserError(f"{missing} is not installed; pip install 'emoface[{extra}]'"
                                ) from None
            raise
    return call


_WRITERS: dict[str, Writer] = {
    ".csv": livelink_csv.write,
    ".json": json_io.write,
    ".npz": npz.write,
    ".glb": _needs_extra(gltf.write_glb, "export"),
    ".gltf": _needs_extra(gltf.write_glb, "export"),
    ".usda": _needs_extra(usd.write_usd, "export"),
    ".usd": _needs_extra(usd.write_usd, "export"),
    # a preview video: renders the animation on a rig, with the audio when given
    ".mp4": _needs_extra(video.write_mp4, "render"),
}
_READERS: dict[str, Reader] = {
    ".csv": livelink_csv.read,
    ".json": json_io.read,
    ".npz": npz.read,
    ".glb": _needs_extra(gltf.read_glb_animation, "export"),
    ".gltf": _needs_extra(gltf.read_glb_animation, "export"),
    ".usda": _needs_extra(usd.read_usd_animation, "export"),
    ".usd": _needs_extra(usd.read_usd_animation, "export"),
}
# What a directory given as -o receives.
DEFAULT_SET = (".csv", ".json", ".npz")


def writer_for(path: str | Path) -> Writer:
    ext = Path(path).suffix.lower()
    if ext not in _WRITERS:
        raise UserError(f"cannot write {str(path)!r}: unknown output extension {ext or '(none)'!r}; "
                        f"use one of {', '.join(sorted(_WRITERS))}")
    return _WRITERS[ext]


def write(anim: Animation, path: str | Path, **options) -> None:
    """Write ``anim`` in the format named by ``path``'s extension (atomically)."""
    writer_for(path)(anim, path, **options)


def read(path: str | Path) -> Animation:
    ext = Path(path).suffix.lower()
    if not Path(path).exists():
        raise UserError(f"no such file: {str(path)!r}")
    if ext not in _READERS:
        raise UserError(f"cannot read {str(path)!r}: unknown extension {ext or '(none)'!r}; "
                        f"use one of {', '.join(sorted(_READERS))}")
    return _READERS[ext](path)


def writable_extensions() -> list[str]:
    return sorted(_WRITERS)


def plan(out: str | os.PathLike, stem: str, default_set: tuple[str, ...] | None = None) -> list[Path]:
    """Output paths for ``out``; raises UserError for unknown formats or unwritable places.

    A name ending in a slash, an existing folder, or a name without an extension is a
    folder (created if its parent exists) that receives the default set."""
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
