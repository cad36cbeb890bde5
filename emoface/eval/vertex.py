"""Vertex metrics on a rig, in millimetres: LVE, EVE, MVE, FDD (docs/design.md, Evaluation protocol).

Two layers. The functions on vertex arrays (``(T, V, 3)`` positions, already in mm) are the
definitions, small enough to check by hand. :func:`vertex_metrics` drives a rig with two
ARKit animations and computes all four without ever holding a whole animation's meshes:
frames are processed in chunks, only the face vertices are touched, and the error is
formed from the weight difference (the neutral mesh cancels), so an hour of animation
costs no more memory than a few seconds.

    LVE  per frame the largest L2 error over the lip vertices, averaged over frames
    EVE  the same over the upper-face vertices
    MVE  mean L2 error over the face vertices
    FDD  mean over upper-face vertices of |std over time of the predicted displacement
         - std over time of the reference displacement|, where a vertex's displacement
         is its L2 distance from the rig's neutral position
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..animation import Animation
from ..rig.ict import load_ict_npz

# Enough frames per chunk to keep the matrix products efficient; small enough that a
# chunk of face vertices stays around 30 MB.
CHUNK_FRAMES = 256


def _per_vertex_error(pred: np.ndarray, ref: np.ndarray, idx=None) -> np.ndarray:
    p = np.asarray(pred, np.float64)
    r = np.asarray(ref, np.float64)
    if p.shape != r.shape or p.ndim != 3 or p.shape[2] != 3:
        raise ValueError(f"need two (T, V, 3) arrays of one shape, got {p.shape} and {r.shape}")
    if idx is not None:
        p, r = p[:, idx], r[:, idx]
    return np.linalg.norm(p - r, axis=2)  # (T, V)


def lve(pred: np.ndarray, ref: np.ndarray, lip_vertices=None) -> float:
    """Lip vertex error: mean over frames of the largest per-vertex L2 error on the lips."""
    return float(_per_vertex_error(pred, ref, lip_vertices).max(1).mean())


def eve(pred: np.ndarray, ref: np.ndarray, upper_face_vertices=None) -> float:
    """Upper-face (emotion) vertex error: LVE's definition on the upper-face vertices."""
    return float(_per_vertex_error(pred, ref, upper_face_vertices).max(1).mean())


def mve(pred: np.ndarray, ref: np.ndarray, face_vertices=None) -> float:
    """Mean vertex error: mean L2 error over face vertices and frames."""
    return float(_per_vertex_error(pred, ref, face_vertices).mean())


def fdd(pred: np.ndarray, ref: np.ndarray, neutral: np.ndarray,
        upper_face_vertices=None) -> float:
    """Upper-face dynamics deviation: mean over vertices of |std_t ||pred - neutral|| -
    std_t ||ref - neutral|| |. Same units as the inputs."""
    n = np.asarray(neutral, np.float64)[None]
    dp = np.linalg.norm(np.asarray(pred, np.float64) - n, axis=2)
    dr = np.linalg.norm(np.asarray(ref, np.float64) - n, axis=2)
    if upper_face_vertices is not None:
        dp, dr = dp[:, upper_face_vertices], dr[:, upper_face_vertices]
    return float(np.abs(dp.std(0) - dr.std(0)).mean())


@dataclass(frozen=True)
class VertexErrors:
    """All four metrics in millimetres over ``frames`` frames."""

    lve: float
    eve: float
    mve: float
    fdd: float
    frames: int

    def as_dict(self) -> dict:
        return asdict(self)


def _weights(anim) -> tuple[np.ndarray, float | None]:
    if isinstance(anim, Animation):
        return anim.weights, anim.fps
    return np.asarray(anim, np.float32), None


def paired_weights(pred, ref) -> tuple[np.ndarray, np.ndarray]:
    """Two animations (or (T, 52) arrays) on one time base: the prediction is resampled
    to the reference's frame rate, and both are cut to the shorter length."""
    if isinstance(pred, Animation) and isinstance(ref, Animation) and pred.fps != ref.fps:
        pred = pred.resample(ref.fps)
    p, _ = _weights(pred)
    r, _ = _weights(ref)
    n = min(len(p), len(r))
    return p[:n], r[:n]


def vertex_metrics(pred, ref, rig=None) -> VertexErrors:
    """LVE, EVE, MVE and FDD (mm) of ``pred`` against ``ref`` (Animations or (T, 52)
    weights) on ``rig`` (default: ICT FaceKit, the reference rig). The rig needs regions
    ``lips`` and ``upper_face``; ``face`` defaults to every vertex."""
    if rig is None:
        rig = reference_rig()
    p, r = paired_weights(pred, ref)
    if not len(p):
        raise ValueError("no frames to compare")
    lips = np.asarray(rig.regions["lips"])
    upper = np.asarray(rig.regions["upper_face"])
    face = np.asarray(rig.regions.get("face", np.arange(rig.num_vertices)))
    # Work on the union of the regions only, with region indices remapped into it.
    used = np.unique(np.concatenate([lips, upper, face]))
    where = {name: np.searchsorted(used, idx) for name, idx in
             (("lips", lips), ("upper", upper), ("face", face))}
    mm = rig.scale_to_mm()
    deltas = (rig.deltas[:, used].reshape(len(rig.deltas), -1) * mm).astype(np.float32)
    lve_sum = eve_sum = mve_sum = 0.0
    # Running sums of displacement magnitude per upper-face vertex give the std over time.
    moments = np.zeros((4, len(upper)), np.float64)
    for a in range(0, len(p), CHUNK_FRAMES):
        sp = rig.shape_weights(p[a:a + CHUNK_FRAMES])
        sr = rig.shape_weights(r[a:a + CHUNK_FRAMES])
        err = np.linalg.norm(((sp - sr) @ deltas).reshape(len(sp), -1, 3), axis=2)
        lve_sum += float(err[:, where["lips"]].max(1).sum())
        eve_sum += float(err[:, where["upper"]].max(1).sum())
        mve_sum += float(err[:, where["face"]].mean(1).sum())
        for k, s in enumerate((sp, sr)):
            disp = np.linalg.norm((s @ deltas).reshape(len(s), -1, 3)[:, where["upper"]], axis=2)
            moments[2 * k] += disp.sum(0)
            moments[2 * k + 1] += (disp.astype(np.float64) ** 2).sum(0)
    n = len(p)
    std = [np.sqrt(np.maximum(moments[2 * k + 1] / n - (moments[2 * k] / n) ** 2, 0.0))
           for k in range(2)]
    return VertexErrors(lve=lve_sum / n, eve=eve_sum / n, mve=mve_sum / n,
                        fdd=float(np.abs(std[0] - std[1]).mean()), frames=n)


_RIG = None


def reference_rig():
    """ICT FaceKit (loaded once per process): the protocol's reference rig."""
    global _RIG
    if _RIG is None:

        _RIG = load_ict_npz()
    return _RIG
