"""Reading a talking-face video: its frames (RGB, any size and frame rate ffmpeg reads)
and its soundtrack, through the ffmpeg that imageio-ffmpeg ships.

A file that is missing, not a video, or audio only is a user mistake (UserError).
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..render.video import ffmpeg_exe


@dataclass(frozen=True)
class VideoInfo:
    path: str
    fps: float
    width: int
    height: int
    duration: float       # seconds, from the container (frame count comes from decoding)
    has_audio: bool


def _check_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise UserError(f"no such file: {str(path)!r}")
    if p.is_dir():
        raise UserError(f"{str(path)!r} is a folder; give one video file")
    if not os.access(p, os.R_OK):
        raise UserError(f"cannot read {str(path)!r} (permission denied)")
    return p


def _meta(path: Path) -> dict:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(gen)
    except (OSError, RuntimeError, StopIteration):
        meta = None
    finally:
        gen.close()
    return meta


def probe(path: str | os.PathLike) -> VideoInfo:
    """Frame rate, size, duration of ``path``; UserError unless it holds a video stream."""
    p = _check_file(path)
    ffmpeg_exe()
    meta = _meta(p)
    if not meta or not meta.get("size"):
        has_audio = _has_audio(p)
        if has_audio:
            raise UserError(f"{str(path)!r} holds audio only; capture needs a video of a face")
        raise UserError(f"{str(path)!r} is not a readable video")
    fps = float(meta.get("fps") or 0)
    if not fps > 0:
        raise UserError(f"{str(path)!r} has no frame rate; is it a still image?")
    w, h = meta["size"]
    return VideoInfo(str(p), fps, int(w), int(h), float(meta.get("duration") or 0.0),
                     meta.get("audio_codec") is not None)


def _has_audio(path: Path) -> bool:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, text=True, check=False)
    return ": Audio:" in proc.stderr


def frames(info: VideoInfo):
    """Yield (height, width, 3) uint8 RGB frames of the video."""
    import imageio_ffmpeg
    import numpy as np

    gen = imageio_ffmpeg.read_frames(info.path, pix_fmt="rgb24")
    try:
        meta = next(gen)
        w, h = meta["size"]
        for raw in gen:
            yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)
    finally:
        gen.close()


def extract_audio(info: VideoInfo, wav: str | os.PathLike) -> bool:
    """Write the video's first audio stream to ``wav`` (16-bit PCM); False if it has none."""
    if not info.has_audio:
        return False
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                           "-i", info.path, "-map", "0:a:0", "-vn", "-c:a", "pcm_s16le",
                           str(wav)], capture_output=True, text=True, check=False)
    return proc.returncode == 0 and Path(wav).stat().st_size > 44
