"""emoface: speech in, emotional 3D facial animation out.

Small public API::

    import emoface
    anim = emoface.animate("speech.wav", text="...", emotion="happy:0.7")
    emoface.save(anim, "take.csv")          # .csv .json .npz .glb .usda .mp4

    engine = emoface.load_engine("neural")  # load once, animate many
    for path in paths:
        emoface.save(engine.animate(path, emotion="auto"), path + ".csv")
"""
from __future__ import annotations

from .animation import Animation
from .arkit import ARKIT_NAMES
from .emotion import EMOTIONS
from .engines import Engine, list_engines, load_engine
from .outputs import read, write
from .pipeline import animate
from .version import __version__


def save(anim: Animation, path, **options) -> None:
    """Write ``anim`` in the format named by ``path``'s extension."""
    write(anim, path, **options)


def load(path) -> Animation:
    """Read an animation written by emoface (or a Live Link Face CSV)."""
    return read(path)


__all__ = ["Animation", "ARKIT_NAMES", "EMOTIONS", "Engine", "animate", "list_engines",
           "load", "load_engine", "save", "__version__"]
