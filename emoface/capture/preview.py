"""The capture's ``.mp4``: the source video beside our face driven by the capture, with
the video's sound. Written atomically by :func:`emoface.render.video.encode`."""
from __future__ import annotations

import os

import numpy as np

from ..animation import Animation
from ..render.scene import FaceRenderer
from ..render.video import encode, resolve_rig
from .video import VideoInfo, frames


def _even(n: int) -> int:
    return int(n) + (int(n) % 2)


def write_side_by_side(anim: Animation, info: VideoInfo, path: str | os.PathLike,
                       audio: str | os.PathLike | None = None, rig="default",
                       view: str = "front") -> None:
    """Source frames (left) and ``anim`` rendered on ``rig`` (right), same height."""
    from PIL import Image


    height = _even(min(max(info.height, 256), 720))
    width = _even(round(info.width * height / info.height))
    renderer = FaceRenderer(resolve_rig(rig), height, view)

    def panels():
        for src, face in zip(frames(info), renderer.frames(anim)):
            if src.shape[:2] != (height, width):
                src = np.asarray(Image.fromarray(src).resize((width, height), Image.BILINEAR))
            yield np.concatenate([src, face], 1)

    try:
        encode(panels(), anim.num_frames, width + height, height, anim.fps, path, audio)
    finally:
        renderer.release()
