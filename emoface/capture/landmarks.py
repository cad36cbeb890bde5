"""Face landmarks per video frame: MediaPipe FaceMesh, 478 points with the irises
(``refine_landmarks=True``), tracked through the video.

Points come back in a right-handed, y-up frame in pixels: x to the image right, y up,
z toward the camera (MediaPipe's z scaled like x). Landmarks of a video are cached in
``cache_dir`` (an npz named by the file's content hash) because FaceMesh is the slow part.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..files import file_digest
from . import video

NUM_LANDMARKS = 478
CACHE_VERSION = 1

# Indices into FaceMesh's topology.
EYE_OUTER = (33, 263)                              # the subject's right, left outer corners
EYE_INNER = (133, 362)
INNER_LIP_PAIRS = ((13, 14), (82, 87), (312, 317))  # upper, lower inner-lip points
IRIS_CENTRES = (468, 473)


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence what MediaPipe's C++ (glog, TFLite) writes straight to file descriptor 2,
    so the error contract's one line stays one line; yields a stream on the real stderr
    for progress bars."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreters): do nothing
        yield sys.stderr
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    stream = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        os.dup2(devnull, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protobuf deprecation notes from mediapipe
            yield stream
    finally:
        stream.flush()
        os.dup2(saved, 2)
        for fd in (saved, devnull):
            os.close(fd)
        stream.close()


def _face_mesh(static: bool):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mediapipe as mp
    except ImportError:
        raise UserError("capture needs mediapipe: pip install 'emoface[capture]'") from None
    return mp.solutions.face_mesh.FaceMesh(static_image_mode=static, max_num_faces=1,
                                           refine_landmarks=True, min_detection_confidence=0.5,
                                           min_tracking_confidence=0.5)


class FaceTracker:
    """FaceMesh over a sequence of frames (``static=True`` treats each frame alone)."""

    def __init__(self, static: bool = False):
        self._mesh = _face_mesh(static)

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """(H, W, 3) uint8 -> (478, 3) float32 points (see module docstring), or None."""
        h, w = rgb.shape[:2]
        result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([(p.x, p.y, p.z) for p in lm], np.float32)
        return np.stack([pts[:, 0] * w, -pts[:, 1] * h, -pts[:, 2] * w], 1)

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def track(frames, total: int | None = None, progress: bool = True,
          quiet: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of every frame: ((T, 478, 3) float32, (T,) bool found). Missing faces are NaN."""
    from tqdm import tqdm

    out, found = [], []
    silence = quiet_native_stderr() if quiet else contextlib.nullcontext(sys.stderr)
    with silence as err, FaceTracker() as tracker:
        for rgb in tqdm(frames, total=total, desc="tracking face", unit="frame", file=err,
                        disable=None if progress else True):
            pts = tracker(rgb)
            found.append(pts is not None)
            out.append(pts if pts is not None else np.full((NUM_LANDMARKS, 3), np.nan, np.float32))
    if not out:
        return np.zeros((0, NUM_LANDMARKS, 3), np.float32), np.zeros(0, bool)
    return np.stack(out), np.array(found)


def video_landmarks(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                    progress: bool = True):
    """(VideoInfo, landmarks (T, 478, 3), found (T,)) of a video, from ``cache_dir`` if there."""

    info = video.probe(path)
    cached = None
    if cache_dir is not None:
        cached = Path(cache_dir) / f"landmarks-v{CACHE_VERSION}-{file_digest(path, 'sha1')}.npz"
        if cached.exists():
            with np.load(cached) as z:
                return info, z["landmarks"], z["found"]
    n = int(round(info.duration * info.fps)) or None
    pts, found = track(video.frames(info), total=n, progress=progress)
    if cached is not None and len(pts):
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, landmarks=pts, found=found, fps=info.fps)
        os.replace(tmp, cached)
    return info, pts, found


def eye_corner_distance(pts: np.ndarray) -> np.ndarray:
    """Distance between the outer eye corners, (T,), in the image plane."""
    a, b = EYE_OUTER
    return np.linalg.norm(pts[..., a, :2] - pts[..., b, :2], axis=-1)


def inner_lip_opening(pts: np.ndarray) -> np.ndarray:
    """Raw inner-lip opening over the eye-corner distance, (T,): the mean image-plane gap
    between the upper and lower inner lip at the middle and both sides of the mouth."""
    gaps = [np.linalg.norm(pts[..., u, :2] - pts[..., lo, :2], axis=-1)
            for u, lo in INNER_LIP_PAIRS]
    return np.mean(gaps, 0) / eye_corner_distance(pts)
