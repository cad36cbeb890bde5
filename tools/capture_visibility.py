"""Where render-and-recover loses a shape: in the render, in FaceMesh, or in the solve.

For each shape the recover check reports, on each rig, rendered from the front at 360 px
(the check's conditions) and tracked by FaceMesh one still at a time:

* ``vertex px``: the largest image displacement of a rig vertex at weight 1 (projected with
  the renderer's camera). Under about 3 px a viewer cannot see it either: (a).
* ``lm px``: the largest pose-free displacement of a FaceMesh point at weight 1, and
  ``snr``, that displacement over the point's tracking jitter (its spread over renders of
  the neutral face turned by up to 3 degrees). Small while the vertices move: FaceMesh
  does not follow the shape: (b).
* ``at 0.5``: the response at weight 0.5 as a share of the response at 1 (0.5 if linear).
* ``+jaw``: cosine between the response on top of jawOpen 0.5 and the response alone (1
  if FaceMesh adds the shape's motion whatever the mouth does).
* ``basis cos``: cosine between that response and the column of the rig's landmark basis
  (what the solve believes the shape does). Low while snr is high: the solve: (c).

    python tools/capture_visibility.py [--rig default ict] [--cache DIR]
"""
from __future__ import annotations

import argparse

import numpy as np

from emoface.arkit import ARKIT_NAMES, INDEX
from emoface.capture.basis import normalise, rig_basis
from emoface.capture.landmarks import EYE_OUTER, FaceTracker, quiet_native_stderr
from emoface.capture.recover import REPORTED
from emoface.capture.solve import align
from emoface.render.scene import FaceRenderer
from emoface.rig import load_rig

SIZE = 360
JITTER_TURN_DEG = 3.0
# Shown together with another shape (mouthClose only means something over an open jaw).
CONTEXT = {"mouthClose": {"jawOpen": 1.0}}


def weights(**named: float) -> np.ndarray:
    w = np.zeros(len(ARKIT_NAMES), np.float32)
    for name, value in named.items():
        w[INDEX[name]] = value
    return w


def report(rig_name: str, cache: str | None) -> list[dict]:
    rig = load_rig(rig_name)
    basis = rig_basis(rig, cache)  # before the renderer: building one uses its own context
    renderer = FaceRenderer(rig, SIZE, "front", samples=4)
    rows = []
    try:
        with quiet_native_stderr():
            tracker = FaceTracker(static=True)
            try:
                rows = _measure(renderer, tracker, basis)
            finally:
                tracker.close()
    finally:
        renderer.release()
    return rows


def _measure(renderer, tracker, basis) -> list[dict]:
    neutral_img = renderer.render(weights())
    raw0 = tracker(neutral_img)
    iod = float(np.linalg.norm(raw0[EYE_OUTER[0], :2] - raw0[EYE_OUTER[1], :2]))
    ref = normalise(raw0)

    def points(w: np.ndarray, head=None) -> np.ndarray:
        pts = tracker(renderer.render(w, head=head))
        if pts is None:
            return np.full((468, 3), np.nan)
        return align(pts[None], ref)[0][0][:468]

    rng = np.random.default_rng(0)
    turns = np.radians(rng.uniform(-JITTER_TURN_DEG, JITTER_TURN_DEG, (12, 3)))
    jitter = np.stack([points(weights(), h) for h in turns]).std(0)[:, :2].mean(1)
    vp = renderer._viewproj.astype(np.float64)

    def project(pos: np.ndarray) -> np.ndarray:
        p = np.c_[pos, np.ones(len(pos))] @ vp.T
        return (p[:, :2] / p[:, 3:4] + 1) / 2 * SIZE

    p0 = project(renderer.positions(weights()))
    rest = points(weights())
    jaw = points(weights(jawOpen=0.5))
    rows = []
    for name in REPORTED:
        ctx = CONTEXT.get(name, {})
        base = points(weights(**ctx)) if ctx else rest
        full = weights(**{**ctx, name: 1.0})
        moved = np.linalg.norm(project(renderer.positions(full)) - p0, axis=1).max()
        d1 = points(full) - base
        dist = np.linalg.norm(d1[:, :2], axis=1)
        half = points(weights(**{**ctx, name: 0.5})) - base
        v1 = d1.ravel()
        norm1 = float(v1 @ v1) or 1e-12
        row = {"shape": name, "vertex_px": float(moved), "lm_px": float(dist.max() * iod),
               "snr": float((dist / np.maximum(jitter, 1e-6)).max()),
               "half": float(half.ravel() @ v1 / norm1)}
        if not ctx and name != "jawOpen":
            with_jaw = (points(weights(jawOpen=0.5, **{name: 1.0})) - jaw).ravel()
            row["with_jaw_cos"] = _cos(with_jaw, v1)
        b = basis["basis"][INDEX[name]][:468].ravel()
        row["basis_cos"] = _cos(b, v1)
        rows.append(row)
    return rows


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    d = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / d) if d > 0 and np.isfinite(d) else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rig", nargs="+", default=["default", "ict"])
    ap.add_argument("--cache", default=None, help="cache folder for rig bases")
    args = ap.parse_args()
    for rig in args.rig:
        print(f"\n{rig} (front, {SIZE} px, weight 1)\n")
        print("| shape | vertex px | lm px | snr | at 0.5 | +jaw cos | basis cos |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in report(rig, args.cache):
            print(f"| {r['shape']} | {r['vertex_px']:.1f} | {r['lm_px']:.1f} | {r['snr']:.1f} | "
                  f"{r['half']:.2f} | {r.get('with_jaw_cos', float('nan')):.2f} | "
                  f"{r['basis_cos']:.2f} |")


if __name__ == "__main__":
    main()
