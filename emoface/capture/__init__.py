"""Capture: a talking-face video in, an ARKit take out (52 weights, head, gaze).

    from emoface.capture import capture
    anim = capture("talk.mp4")            # an emoface.Animation at the video's frame rate

Stages, one module each: :mod:`.video` (frames and sound via ffmpeg), :mod:`.landmarks`
(MediaPipe FaceMesh, 478 points, cached per video), :mod:`.basis` (how the rig's shapes
move those points, measured on renders of the rig), :mod:`.solve` (pose alignment and the
bounded least-squares solve), :mod:`.fit` (landmarks to an Animation), :mod:`.preview`
(the side-by-side video). mediapipe and moderngl load only when used.
"""
from __future__ import annotations

import os

from ..animation import Animation
from ..errors import UserError
from .basis import rig_basis
from .fit import fit_take
from .landmarks import inner_lip_opening, video_landmarks


def capture(path: str | os.PathLike, rig="default", cache_dir: str | os.PathLike | None = None,
            neutral: str = "video", smoothing_s: float = 0.04, progress: bool = True,
            contact_rule: bool = True) -> Animation:
    """The ARKit take of the face in the video at ``path``, at the video's frame rate.

    ``rig``: whose landmark basis the solve uses (default: the bundled head).
    ``cache_dir``: where landmarks per video (and bases of other rigs) are cached.
    ``neutral``: "video" estimates the person's rest face from the video; "rig" assumes
    the face at rest is the rig's (for renders of the rig itself).
    ``contact_rule``: close the take's lips on frames where the inner lips touch on video.
    UserError for a missing file, a file without video, or a video with no face."""

    info, points, found = video_landmarks(path, cache_dir, progress=progress)
    if len(points) == 0:
        raise UserError(f"{str(path)!r} has no video frames")
    if not found.any():
        raise UserError(f"no face found in {str(path)!r}")
    basis = rig_basis(rig, cache_dir)
    return fit_take(points, found, info.fps, basis, neutral=neutral, smoothing_s=smoothing_s,
                    contact_rule=contact_rule,
                    meta={"source_video": os.path.basename(str(path)),
                          "basis_rig": str(basis["rig_name"])})


def lip_opening(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                progress: bool = False):
    """Per-frame raw inner-lip opening over the outer-eye-corner distance of the face in
    a video, (T,) float (NaN where no face was found), and the video's fps."""
    import numpy as np


    info, points, found = video_landmarks(path, cache_dir, progress=progress)
    opening = inner_lip_opening(points) if len(points) else np.zeros(0)
    return np.where(found, opening, np.nan), info.fps


__all__ = ["capture", "lip_opening"]
