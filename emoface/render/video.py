"""Preview videos: rendered frames piped to the ffmpeg that imageio-ffmpeg ships, H.264 video
with the speech muxed in as AAC.

The video lasts as long as the audio (within a frame): a shorter animation holds its last
frame, a longer one is cut. Several animations can share one video side by side
(:func:`write_comparison`), each panel labelled. Files are written atomically: a failed
render leaves no partial ``.mp4`` behind, and an interrupted one (an error, Ctrl-C, SIGTERM)
ends its ffmpeg child before the temporary file beside the output is removed.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..errors import UserError
from ..files import atomic_path, check_writable, signals_held
from ..rig import load_rig
from ..rig.model import Rig
from .labels import label_strip
from .scene import BACKGROUND, FaceRenderer

DEFAULT_SIZE = 512
MAX_COLUMNS = 4


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise UserError("video needs imageio-ffmpeg: pip install 'emoface[render]'") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def audio_duration(path: str | os.PathLike) -> float:
    """Seconds of audio in ``path``; UserError if it is missing or not audio."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no such audio file: {str(path)!r}")
    import soundfile

    try:
        info = soundfile.info(str(p))
    except (RuntimeError, OSError):  # formats libsndfile lacks (m4a...): ask ffmpeg below
        info = None
    if info is not None and info.frames > 0:
        return info.frames / info.samplerate
    seconds = stream_duration(p, "a")
    if seconds is None or seconds <= 0:
        raise UserError(f"{str(path)!r} is not a readable audio file")
    return seconds


def stream_duration(path: str | os.PathLike, kind: str) -> float | None:
    """Duration in seconds of the first video (``"v"``) or audio (``"a"``) stream, found
    by decoding it (container headers can disagree with the streams); None if absent."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
                           "-map", f"0:{kind}:0", "-f", "null", "-"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    times = re.findall(r"time=\s*(\d+):(\d+):(\d+(?:\.\d+)?)", proc.stderr)
    if not times:
        return None
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def probe(path: str | os.PathLike) -> dict:
    """Streams of a media file: {"video": codec or None, "audio": codec or None,
    "video_seconds": ..., "audio_seconds": ..., "size": (w, h) or None}."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, text=True, check=False)
    text = proc.stderr
    video = re.search(r"Stream #\S+.*?: Video: (\w+).*?, (\d+)x(\d+)", text)
    audio = re.search(r"Stream #\S+.*?: Audio: (\w+)", text)
    return {
        "video": video.group(1) if video else None,
        "audio": audio.group(1) if audio else None,
        "size": (int(video.group(2)), int(video.group(3))) if video else None,
        "video_seconds": stream_duration(path, "v") if video else None,
        "audio_seconds": stream_duration(path, "a") if audio else None,
    }


def resolve_rig(rig: Rig | str | os.PathLike | None, mapping=None) -> Rig:
    """A Rig from a Rig, ``"default"``, ``"ict"`` or a path (via :func:`emoface.rig.load_rig`)."""
    if isinstance(rig, Rig) and mapping is None:
        return rig

    return load_rig("default" if rig is None else rig, mapping)


def _even(n: int) -> int:
    return n + (n % 2)


def encode(frames, n_frames: int, width: int, height: int, fps: float,
           out: str | os.PathLike, audio: str | os.PathLike | None = None) -> None:
    """Pipe ``n_frames`` RGB frames (an iterable of (height, width, 3) uint8) into an H.264
    ``.mp4`` at ``out`` (written atomically), muxing ``audio`` as AAC if given."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
           "-framerate", f"{fps:.6f}", "-i", "-"]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-frames:v", str(n_frames)]
    if audio is not None:
        cmd += ["-c:a", "aac", "-b:a", "128k"]
    cmd += ["-movflags", "+faststart"]
    with atomic_path(out) as tmp, tempfile.TemporaryFile() as log:
        with _running(cmd + [str(tmp)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                      stderr=log) as proc:
            written = _feed(proc, frames, n_frames)
            code = proc.wait()
        if code != 0 or written != n_frames:
            log.seek(0)
            lines = log.read().decode("utf-8", "replace").strip().splitlines()
            why = lines[-1] if lines else f"exit code {code}"
            if audio is not None and str(audio) in "\n".join(lines):
                raise UserError(f"cannot use {str(audio)!r} as the video's audio ({why})")
            raise RuntimeError(f"ffmpeg failed: {why}")


def _feed(proc: subprocess.Popen, frames, n_frames: int) -> int:
    """Write up to ``n_frames`` frames to ffmpeg's stdin and close it; the count written."""
    written = 0
    try:
        for frame in frames:
            if written == n_frames:
                break
            proc.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
            written += 1
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped early; its log says why
    return written


@contextlib.contextmanager
def _running(cmd: list[str], **popen) -> Iterator[subprocess.Popen]:
    """ffmpeg started for the block; however the block ends (an error, Ctrl-C, SIGTERM) it
    has exited after it: killed if it still runs, and waited for, so no child outlives the
    write of its output. Signals wait while it starts, so none lands between the start
    and the clean-up taking charge of it."""
    proc = None
    try:
        with signals_held():
            proc = subprocess.Popen(cmd, **popen)
        yield proc
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            with contextlib.suppress(OSError):
                proc.stdin.close()


def _frame_plan(anim: Animation, fps: float, seconds: float | None) -> np.ndarray:
    """Which animation frame each video frame shows: the video follows the audio's length."""
    if seconds is None:
        return np.arange(anim.num_frames)
    n = max(1, round(seconds * fps))
    return np.minimum(np.arange(n), anim.num_frames - 1)


def _check_audio(audio, allow_silent: bool) -> float | None:
    if audio is None:
        if allow_silent:
            return None
        raise UserError("an .mp4 preview needs the speech it animates: give --audio AUDIO")
    return audio_duration(audio)


def write_mp4(anim: Animation, path: str | os.PathLike, audio: str | os.PathLike | None = None,
              rig: Rig | str | None = "default", size: int = DEFAULT_SIZE,
              view: str = "three-quarter", allow_silent: bool = False, mapping=None,
              **_options) -> None:
    """The ``.mp4`` writer: render ``anim`` on ``rig`` with ``audio`` muxed in.

    Registered for ``.mp4`` with :func:`emoface.export.register_writer`; ``audio`` is
    required unless ``allow_silent`` (a silent video then lasts as long as the animation)."""
    write_comparison([anim], path, audio=audio, rig=resolve_rig(rig, mapping), size=size,
                     view=view, labels=None, allow_silent=allow_silent)


def comparison_layout(n: int, size: int, labelled: bool) -> tuple[int, int, int, int]:
    """(columns, rows, panel height with label, label height) for ``n`` panels."""
    cols = min(n, MAX_COLUMNS)
    rows = math.ceil(n / cols)
    strip = _even(max(16, size // 12)) if labelled else 0
    return cols, rows, size + strip, strip


def write_comparison(anims: list[Animation], path: str | os.PathLike,
                     audio: str | os.PathLike | None, labels: list[str] | None = None,
                     rig: Rig | str | None = "default", size: int = DEFAULT_SIZE,
                     view: str = "three-quarter", allow_silent: bool = False) -> None:
    """Several animations side by side (up to 4 per row), each ``size`` pixels square with
    its label underneath, in one video with ``audio``. All must have the same frame count
    (after bringing them to the first one's frame rate)."""

    if not anims:
        raise UserError("nothing to render")
    check_writable(path)
    if Path(path).suffix.lower() != ".mp4":
        raise UserError(f"video output must end in .mp4, not {str(path)!r}")
    size = _even(int(size))
    if size < 64 or size > 4096:
        raise UserError(f"--size {size} is out of range (64 to 4096)")
    if labels is not None and len(labels) != len(anims):
        raise UserError(f"{len(labels)} labels for {len(anims)} animations")
    fps = anims[0].fps
    anims = [a.resample(fps) for a in anims]
    counts = {a.num_frames for a in anims}
    if len(counts) > 1:
        detail = ", ".join(str(a.num_frames) for a in anims)
        raise UserError(f"animations to compare must have the same number of frames "
                        f"at {fps:g} fps; got {detail}")
    seconds = _check_audio(audio, allow_silent)
    the_rig = resolve_rig(rig)
    plan = _frame_plan(anims[0], fps, seconds)
    cols, rows, panel_h, strip_h = comparison_layout(len(anims), size, labels is not None)
    width, height = cols * size, rows * panel_h
    strips = [label_strip(text, size, strip_h) for text in labels] if labels else None
    renderer = FaceRenderer(the_rig, size, view)
    try:
        if len(anims) == 1 and not strips:
            frames = renderer.frames(anims[0], plan)
        else:
            frames = _grid_frames(renderer, anims, plan, strips, cols, rows, size, panel_h)
        encode(frames, len(plan), width, height, fps, path, audio)
    finally:
        renderer.release()


def _grid_frames(renderer, anims, plan, strips, cols, rows, size, panel_h):

    bg = np.array([int(255 * c) for c in BACKGROUND], np.uint8)
    sources = [renderer.frames(a, plan) for a in anims]
    while True:
        canvas = np.empty((rows * panel_h, cols * size, 3), np.uint8)
        canvas[:] = bg
        try:
            for k, src in enumerate(sources):
                r, c = divmod(k, cols)
                y, x = r * panel_h, c * size
                canvas[y:y + size, x:x + size] = next(src)
                if strips:
                    canvas[y + size:y + panel_h, x:x + size] = strips[k]
        except StopIteration:
            return
        yield canvas


def write_still(anim: Animation | list[Animation], path: str | os.PathLike,
                frame: int | None = None, rig: Rig | str | None = "default",
                size: int = DEFAULT_SIZE, view: str = "three-quarter",
                labels: list[str] | None = None) -> None:
    """One frame (default: the middle one) as a PNG; of several animations, that frame of
    each side by side (laid out as :func:`write_comparison` does, at the first one's frame
    rate), each with its label underneath."""
    from PIL import Image

    anims = [anim] if isinstance(anim, Animation) else list(anim)
    if labels is not None and len(labels) != len(anims):
        raise UserError(f"{len(labels)} labels for {len(anims)} animations")
    anims = [a.resample(anims[0].fps) for a in anims]
    shortest = min(a.num_frames for a in anims)
    index = anims[0].num_frames // 2 if frame is None else int(frame)
    if not 0 <= index < shortest:
        raise UserError(f"--frame {index} is outside the animation (0 to {shortest - 1})")
    check_writable(path)
    size = _even(int(size))
    renderer = FaceRenderer(resolve_rig(rig), size, view, samples=4)
    try:
        if len(anims) == 1 and not labels:
            img = next(renderer.frames(anims[0], [index]))
        else:
            cols, rows, panel_h, strip_h = comparison_layout(len(anims), size, bool(labels))
            strips = [label_strip(text, size, strip_h) for text in labels] if labels else None
            img = next(_grid_frames(renderer, anims, [index], strips, cols, rows, size, panel_h))
    finally:
        renderer.release()
    with atomic_path(path) as tmp:
        Image.fromarray(img).save(tmp, format="PNG")
