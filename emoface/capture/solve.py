"""Fitting the rig to landmarks: head pose by similarity alignment, then bounded ARKit
weights by least squares on the landmark displacements, then light temporal smoothing.

All of it is plain numpy: a similarity (Umeyama) fit per frame, and one accelerated
projected-gradient solve over every frame at once (weights stay inside [0, 1]).
"""
from __future__ import annotations

import numpy as np

# FaceMesh points that expressions barely move: forehead, nose bridge and tip, eye
# corners, temples. Head pose is fitted on these.
RIGID = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263, 234, 454, 127, 356,
         21, 251, 71, 301, 98, 327, 122, 351)


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R, t) minimising ||s R src + t - dst||^2 over points (N, 3) (Umeyama)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, 1.0, d])
    r = u @ fix @ vt
    s = float((sig * np.diag(fix)).sum() / (a ** 2).sum())
    return s, r, mu_d - s * r @ mu_s


def head_angles(r: np.ndarray) -> np.ndarray:
    """Live Link (yaw, pitch, roll) of a head rotation r = Rz(roll) Rx(pitch) Ry(-yaw), the
    convention of :func:`emoface.render.scene.rotation`."""
    pitch = np.arcsin(np.clip(r[2, 1], -1.0, 1.0))
    yaw = -np.arctan2(-r[2, 0], r[2, 2])
    roll = np.arctan2(-r[0, 1], r[1, 1])
    return np.array([yaw, pitch, roll])


def align(points: np.ndarray, reference: np.ndarray, rigid=RIGID, iterations: int = 2):
    """Per frame, remove head pose: returns (aligned (T, N, 3) in reference space,
    head (T, 3) radians, scale (T,)). Points far off after the first fit weigh less."""
    t_count = len(points)
    aligned = np.empty_like(points, dtype=np.float64)
    head = np.zeros((t_count, 3))
    scale = np.zeros(t_count)
    idx = np.asarray(rigid)
    ref = reference[idx].astype(np.float64)
    for i in range(t_count):
        p = points[i].astype(np.float64)
        keep = np.ones(len(idx), bool)
        for _ in range(iterations):
            s, r, t = similarity(ref[keep], p[idx][keep])
            err = np.linalg.norm((p[idx] - t) @ r / s - ref, axis=1)
            keep = err <= max(3.0 * np.median(err), 1e-9)
            if keep.sum() < 6:
                keep[:] = True
        aligned[i] = (p - t) @ r / s
        head[i] = head_angles(r)
        scale[i] = s
    return aligned, head, scale


def solve_bounded(y: np.ndarray, basis: np.ndarray, l2: float = 1e-3, l1: float = 0.0,
                  iterations: int = 400, upper: float = 1.0, free: int = 0) -> np.ndarray:
    """Weights (T, K) in [0, upper] minimising 0.5||w B - y||^2 + 0.5 l2 ||w||^2 + l1 sum w
    for every frame at once (FISTA with projection onto the box). y (T, M), basis (K, M).
    The first ``free`` rows of ``basis`` are unbounded and unpenalised (pose corrections)."""
    b = np.asarray(basis, np.float64)
    y = np.asarray(y, np.float64)
    gram = b @ b.T
    scale = float(np.trace(gram[free:, free:]) / max(len(gram) - free, 1)) or 1.0
    penalty = np.full(len(gram), l2 * scale)
    penalty[:free] = 0.0
    gram = gram + np.diag(penalty)
    rhs = y @ b.T - l1 * scale
    rhs[:, :free] += l1 * scale
    step = 1.0 / np.linalg.eigvalsh(gram)[-1]
    low = np.zeros(len(b))
    high = np.full(len(b), upper)
    low[:free], high[:free] = -np.inf, np.inf
    w = np.zeros((len(y), len(b)))
    z, t = w.copy(), 1.0
    for _ in range(iterations):
        w_next = np.clip(z - step * (z @ gram - rhs), low, high)
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        z = w_next + ((t - 1) / t_next) * (w_next - w)
        w, t = w_next, t_next
    return w


# Head angles (radians) over this scale feed the pose terms of the basis: about +-1 over
# the turns the basis is fitted on.
HEAD_FEATURE_SCALE = 0.2


def head_features(head: np.ndarray) -> np.ndarray:
    """(T, 9) yaw, pitch, roll, their squares and products (scaled): the terms in which
    FaceMesh's pose-free points still drift with the head's turn (its 2.5D points are not
    a rigid face turning), fitted per rig by :mod:`.basis` and removed before the solve."""
    y, p, r = (np.asarray(head, np.float64) / HEAD_FEATURE_SCALE).T
    return np.stack([y, p, r, y * y, p * p, r * r, y * p, y * r, p * r], 1)


def pose_generators(points: np.ndarray) -> np.ndarray:
    """(7, N, 3) first-order changes of ``points`` under small rotations about x, y, z,
    translations along x, y, z and a scale: solved with the weights, they absorb what the
    rigid alignment left."""
    p = points - points[list(RIGID)].mean(0)
    rot = [np.cross(axis, p) for axis in np.eye(3)]
    move = [np.broadcast_to(axis, p.shape) for axis in np.eye(3)]
    return np.stack(rot + move + [p])


def fill_missing(values: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Linear interpolation in time over frames where ``found`` is False (edges held)."""
    out = np.array(values, np.float64, copy=True)
    if found.all() or not found.any():
        return out
    t = np.arange(len(found))
    flat = out.reshape(len(found), -1)
    for j in range(flat.shape[1]):
        flat[~found, j] = np.interp(t[~found], t[found], flat[found, j])
    return flat.reshape(out.shape)


def smooth(x: np.ndarray, fps: float, cutoff_s: float = 0.04, keep: np.ndarray | None = None):
    """Gaussian smoothing in time (sigma ``cutoff_s`` seconds) of (T, ...) arrays; frames in
    ``keep`` (bool, T) keep their own value so that short lip closures stay closed."""
    x = np.asarray(x, np.float64)
    sigma = cutoff_s * fps
    if sigma < 0.3 or len(x) < 3:
        return x.copy()
    radius = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.concatenate([x[:1].repeat(radius, 0), x, x[-1:].repeat(radius, 0)])
    flat = padded.reshape(len(padded), -1)
    out = np.stack([np.convolve(flat[:, j], k, mode="valid") for j in range(flat.shape[1])], 1)
    out = out.reshape(x.shape)
    if keep is not None and keep.any():
        out[keep] = x[keep]
    return out
