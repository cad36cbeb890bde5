"""The rig's landmark-space basis: how FaceMesh's 478 points move for each ARKit shape.

We render the rig from the front (our renderer) through a known random take (every solved
shape in sparse bursts, the head turning; :func:`emoface.capture.takes.random_take`),
track the renders with FaceMesh as a video is tracked, remove the head pose, and fit by
ridge regression the displacement of every point per unit of each shape, plus the rest
shape (the intercept) and how the pose-free points drift with the head's turn (terms in
the true yaw, pitch, roll and their products: FaceMesh's points are not a rigid face
turning, and left in, that drift is read as expression). Fitting on combinations matches how FaceMesh reads a moving face
better than rendering one shape at a time. Points are normalised: centred on the rigid
points and scaled so the outer eye corners are 1 apart. The eyeLook shapes and tongueOut
are not solved from landmarks (gaze comes from the irises; the tongue is unseen).

Irises: still renders with the eyes rotated by known angles calibrate iris displacement
per radian of gaze.

Building takes one to four minutes for the bundled head, up to eight for ICT FaceKit (needs
moderngl and mediapipe); the result is cached as an npz keyed by a hash of the rig's
geometry (the bundled head's ships in emoface/assets).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_NAMES
from ..errors import UserError
from ..render.scene import FaceRenderer
from ..rig import load_rig
from .landmarks import (
    EYE_OUTER,
    IRIS_CENTRES,
    NUM_LANDMARKS,
    FaceTracker,
    quiet_native_stderr,
    track,
)
from .solve import RIGID, align, fill_missing, head_features
from .takes import random_take

BASIS_VERSION = 3
ASSET = Path(__file__).resolve().parents[1] / "assets" / "capture_basis_default.npz"
UNSOLVED = tuple(n for n in ARKIT_NAMES if n.startswith("eyeLook")) + ("tongueOut",)
TRAIN_FRAMES, TRAIN_SEED = 1600, 1000  # the recover check uses seeds far from this one
RIDGE = 1e-3
GAZE_TEST = 0.25  # radians of eye rotation rendered to calibrate the irises


def normalise(points: np.ndarray) -> np.ndarray:
    """Centre on the rigid points' mean and scale the outer-eye-corner distance to 1."""
    a, b = EYE_OUTER
    centre = points[list(RIGID)].mean(0)
    iod = np.linalg.norm(points[a, :2] - points[b, :2])
    return (points - centre) / iod


def rig_hash(rig) -> str:
    h = hashlib.sha1()
    for arr in (rig.neutral, rig.deltas, rig.mapping):
        h.update(np.ascontiguousarray(arr, np.float32).tobytes())
    h.update(str(BASIS_VERSION).encode())
    return h.hexdigest()[:16]


def build_basis(rig, frames: int = TRAIN_FRAMES, seed: int = TRAIN_SEED,
                size: int = 360) -> dict:
    """Render ``rig`` and measure its landmark basis (see module docstring)."""

    renderer = FaceRenderer(rig, size, "front", samples=4)
    quiet = quiet_native_stderr()
    quiet.__enter__()
    still = FaceTracker(static=True)
    try:
        def look(weights=None, eyes=None) -> np.ndarray:
            w = np.zeros(len(ARKIT_NAMES), np.float32) if weights is None else weights
            pts = still(renderer.render(w, eyes=eyes))
            if pts is None:
                raise UserError(f"FaceMesh finds no face on rig {rig.name!r} rendered from "
                                "the front; capture cannot solve for this rig")
            return pts

        reference = normalise(look())

        def pose_free(pts: np.ndarray) -> np.ndarray:
            return align(pts, reference)[0]

        # A known random take, tracked as a video is: weights -> pose-free points.
        take = random_take(frames, 25.0, seed)
        points, found = track(renderer.frames(take), progress=False, quiet=False)
        y = pose_free(fill_missing(points, found))[found].reshape(int(found.sum()), -1)
        solved = np.array([n not in UNSOLVED for n in ARKIT_NAMES])
        w = take.weights[found][:, solved].astype(np.float64)
        turn = head_features(take.head[found])
        design = np.concatenate([w, turn, np.ones((len(w), 1))], 1)
        ridge = RIDGE * len(w) * np.diag(np.r_[np.ones(w.shape[1] + turn.shape[1]), 0.0])
        coef = np.linalg.solve(design.T @ design + ridge, design.T @ y)
        k = int(solved.sum())
        basis = np.zeros((len(ARKIT_NAMES), NUM_LANDMARKS * 3))
        basis[solved] = coef[:k]
        pose_drift = coef[k:-1].reshape(turn.shape[1], NUM_LANDMARKS, 3)
        neutral = coef[-1].reshape(NUM_LANDMARKS, 3)

        gaze = np.zeros((2, 2))  # [eye (left, right)][yaw, pitch] iris shift per radian
        if renderer.mesh.eyes:
            iris = _iris_order(reference)
            for j, channel in enumerate((0, 1)):
                eyes = np.zeros(6)
                eyes[[channel, 3 + channel]] = GAZE_TEST
                plus = pose_free(look(eyes=eyes)[None])[0]
                eyes[[channel, 3 + channel]] = -GAZE_TEST
                minus = pose_free(look(eyes=eyes)[None])[0]
                for e, i in enumerate(iris):
                    gaze[e, j] = (plus[i, j] - minus[i, j]) / (2 * GAZE_TEST)
    finally:
        still.close()
        renderer.release()
        quiet.__exit__(None, None, None)
    return {"reference": reference.astype(np.float32), "neutral": neutral.astype(np.float32),
            "basis": basis.reshape(len(ARKIT_NAMES), NUM_LANDMARKS, 3).astype(np.float32),
            "pose_drift": pose_drift.astype(np.float32),
            "gaze_gain": gaze.astype(np.float32), "solved": solved,
            "rig_hash": np.array(rig_hash(rig)), "rig_name": np.array(rig.name)}


def _iris_order(points: np.ndarray) -> tuple[int, int]:
    """FaceMesh iris centres ordered (subject's left eye, right eye)."""
    left_corner = points[EYE_OUTER[1]]
    a, b = IRIS_CENTRES
    da = np.linalg.norm(points[a] - left_corner)
    db = np.linalg.norm(points[b] - left_corner)
    return (a, b) if da < db else (b, a)


def iris_indices(basis: dict) -> tuple[int, int]:
    return _iris_order(basis["reference"])


def _load(path: Path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _save(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **data)
    os.replace(tmp, path)


def rig_basis(rig="default", cache_dir: str | os.PathLike | None = None) -> dict:
    """The landmark basis of ``rig`` (a Rig or a load_rig spec): the bundled one for the
    default head, else from ``cache_dir``, else built now (and cached there)."""

    rig = load_rig(rig)
    key = rig_hash(rig)
    if ASSET.exists():
        data = _load(ASSET)
        if str(data["rig_hash"]) == key:
            return data
    cached = Path(cache_dir) / f"basis-{key}.npz" if cache_dir is not None else None
    if cached is not None and cached.exists():
        return _load(cached)
    data = build_basis(rig)
    if cached is not None:
        _save(data, cached)
    return data


def write_bundled(path: str | os.PathLike = ASSET) -> Path:
    """Build the default head's basis into emoface/assets (run by tools/capture_basis.py)."""

    data = build_basis(load_rig("default"))
    _save(data, Path(path))
    return Path(path)
