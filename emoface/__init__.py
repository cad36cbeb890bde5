"""emoface: speech in, emotional 3D facial animation out.

Small public API::

    import emoface
    anim = emoface.animate("speech.wav", text="...", emotion="happy:0.7")
    emoface.save(anim, "take.csv")          # .csv .json .npz (+ more as installed)
"""
from __future__ import annotations

__version__ = "0.1.0"

from .animation import Animation  # noqa: E402
from .arkit import ARKIT_NAMES  # noqa: E402
from .emotion import EMOTIONS  # noqa: E402


def animate(audio, **kwargs):
    """Animate speech; see :func:`emoface.pipeline.animate`."""
    from .pipeline import animate as _animate

    return _animate(audio, **kwargs)


def save(anim: Animation, path, **options) -> None:
    """Write ``anim`` in the format named by ``path``'s extension."""
    from .export import write

    write(anim, path, **options)


def load(path) -> Animation:
    """Read an animation written by emoface (or a Live Link Face CSV)."""
    from .export import read

    return read(path)


__all__ = ["Animation", "ARKIT_NAMES", "EMOTIONS", "animate", "save", "load", "__version__"]
