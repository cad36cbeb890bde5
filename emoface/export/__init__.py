"""Writers and readers chosen by file extension.

``write(anim, "take.csv")`` picks the Live Link writer, ``.json`` the JSON one, ``.npz`` the
native format. Later stages register more (``.glb``, ``.usda``, ``.mp4``) with
:func:`register_writer`, so the CLI has a single way to save whatever ``-o`` names.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..animation import Animation
from ..errors import UserError
from . import json_io, livelink_csv

Writer = Callable[..., None]  # (anim, path, **options); options a format may ignore
Reader = Callable[[str | Path], Animation]

_WRITERS: dict[str, Writer] = {
    ".csv": livelink_csv.write,
    ".json": json_io.write,
    ".npz": lambda anim, path, **_options: anim.save(path),
}
_READERS: dict[str, Reader] = {
    ".csv": livelink_csv.read,
    ".json": json_io.read,
    ".npz": Animation.load,
}
# What a directory given as -o receives.
DEFAULT_SET = (".csv", ".json", ".npz")


def register_writer(ext: str, writer: Writer) -> None:
    _WRITERS[ext.lower()] = writer


def register_reader(ext: str, reader: Reader) -> None:
    _READERS[ext.lower()] = reader


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


def _lazy(module: str, name: str, extra: str = "export") -> Callable[..., object]:
    """A writer/reader that imports its module (and its heavy library) on first use."""
    def call(*args, **kwargs):
        import importlib

        try:
            return getattr(importlib.import_module(module, __package__), name)(*args, **kwargs)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing in ("pxr", "pygltflib", "moderngl", "imageio_ffmpeg"):
                raise UserError(f"{missing} is not installed; pip install 'emoface[{extra}]'"
                                ) from None
            raise
    return call


# Engine formats, whose modules load on first use: glTF (.glb binary, .gltf JSON with the
# buffer embedded) and USD (.usda text, .usd binary crate).
for _ext in (".glb", ".gltf"):
    register_writer(_ext, _lazy(".gltf", "write_glb"))
    register_reader(_ext, _lazy(".gltf", "read_glb_animation"))
for _ext in (".usda", ".usd"):
    register_writer(_ext, _lazy(".usd", "write_usd"))
    register_reader(_ext, _lazy(".usd", "read_usd_animation"))
# Preview video (renders the animation on a rig; needs the render extra and the audio).
register_writer(".mp4", _lazy("..render.video", "write_mp4", "render"))
