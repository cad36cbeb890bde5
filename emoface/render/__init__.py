"""Rendering: rigs to pixels, preview videos and curve plots (the docs' contact sheets:
``tools/render_sheets.py``).

Importing this package is light (no OpenGL): the renderer loads on first use.
:mod:`emoface.outputs` registers :func:`write_mp4` for ``.mp4``.

    from emoface.render import render_frame, write_mp4
    img = render_frame(weights, rig="default", size=512)       # (512, 512, 3) uint8
    write_mp4(anim, "take.mp4", audio="speech.wav")            # H.264 + AAC
"""
from __future__ import annotations

from .plot import plot_animation
from .scene import FaceRenderer
from .video import resolve_rig, write_comparison, write_mp4


def render_frame(weights, rig="default", size: int = 512, view: str = "three-quarter",
                 head=None, eyes=None, samples: int = 4):
    """One (size, size, 3) uint8 image of ``rig`` posed by (52,) ARKit ``weights``."""
    renderer = FaceRenderer(resolve_rig(rig), size, view, samples=samples)
    try:
        return renderer.render(weights, head=head, eyes=eyes)
    finally:
        renderer.release()


__all__ = ["plot_animation", "render_frame", "write_comparison", "write_mp4"]
