"""Rendering: rigs to pixels, preview videos and curve plots (the docs' contact sheets:
``tools/render_sheets.py``).

Importing this package is light (no OpenGL): it registers the ``.mp4`` writer with
:mod:`emoface.export`; the renderer loads on first use.

    from emoface.render import render_frame, write_mp4
    img = render_frame(weights, rig="default", size=512)       # (512, 512, 3) uint8
    write_mp4(anim, "take.mp4", audio="speech.wav")            # H.264 + AAC
"""
from __future__ import annotations

from ..export import register_writer


def write_mp4(anim, path, **options) -> None:
    """Render ``anim`` to an ``.mp4`` (see :func:`emoface.render.video.write_mp4`)."""
    from .video import write_mp4 as _write

    _write(anim, path, **options)


def write_comparison(anims, path, **options) -> None:
    """Several animations side by side in one video (see :mod:`emoface.render.video`)."""
    from .video import write_comparison as _write

    _write(anims, path, **options)


def render_frame(weights, rig="default", size: int = 512, view: str = "three-quarter",
                 head=None, eyes=None, samples: int = 4):
    """One (size, size, 3) uint8 image of ``rig`` posed by (52,) ARKit ``weights``."""
    from .scene import FaceRenderer
    from .video import resolve_rig

    renderer = FaceRenderer(resolve_rig(rig), size, view, samples=samples)
    try:
        return renderer.render(weights, head=head, eyes=eyes)
    finally:
        renderer.release()


def plot_animation(anim, path, **options) -> None:
    from .plot import plot_animation as _plot

    _plot(anim, path, **options)


register_writer(".mp4", write_mp4)

__all__ = ["plot_animation", "render_frame", "write_comparison", "write_mp4"]
