"""From tracked landmarks to an Animation: pose, the face's rest shape, bounded weights,
gaze from the irises, smoothing, and per-frame confidence.

The identity gap: a real person's resting face is not the rig's. With ``neutral="video"``
(the default) the rest shape is estimated from the video itself, as the per-point median
of the pose-free landmarks over the frames where the lips are most closed, and the
weights explain displacements from it; ``neutral="rig"`` uses the rig's own rest shape
(right when the video shows the rig itself, as in the render-and-recover check).
"""
from __future__ import annotations

import numpy as np

from ..animation import Animation
from ..arkit import ARKIT_NAMES, INDEX, lip_aperture
from .basis import iris_indices
from .landmarks import inner_lip_opening
from .solve import align, fill_missing, head_features, pose_generators, smooth, solve_bounded

SOLVE_POINTS = np.arange(468)          # every FaceMesh point but the irises
COORD_WEIGHT = np.array([1.0, 1.0, 0.5])  # MediaPipe's depth is noisier than x, y
REST_SHARE = 0.2                        # frames with the most closed lips define the rest
L2, L1 = 2e-3, 2e-3
# Radians of eye rotation per unit of eyeLook, measured on real Live Link captures
# (docs/calibration.md); the same figures the rules engine uses to drive eyeLook.
YAW_PER_LOOK, PITCH_UP_PER_LOOK, PITCH_DOWN_PER_LOOK = 0.624, 0.418, 0.641
IRIS_SHIFT_PER_RAD = 12.0 / 90.0        # eyeball radius over outer-eye-corner distance
GAZE_SMOOTHING_S = 0.08                 # iris centres jitter; fixations last much longer
GAZE_LIMIT = np.array([0.6, 0.45])      # yaw, pitch radians
CONFIDENCE_SCALE = 0.02                 # residual RMS (eye-corner distances) of confidence 1/e
# Inner-lip gap (over the eye-corner distance) under which the lips touch: the valley of
# the per-word minimum gap in b/p/m words of GRID's first 200 clips (tools/capture_grid.py).
CONTACT_GAP = 0.009
PARTING = [INDEX[n] for n in ("mouthFunnel", "mouthLowerDownLeft", "mouthLowerDownRight",
                              "mouthUpperUpLeft", "mouthUpperUpRight")]
MOUTH = [INDEX[n] for n in ("jawOpen", "mouthClose", "mouthFunnel", "mouthLowerDownLeft",
                            "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight")]


def rest_shape(aligned: np.ndarray, found: np.ndarray, raw_points: np.ndarray) -> np.ndarray:
    """The face's rest shape from the video: median over the most closed-lipped frames."""
    opening = inner_lip_opening(raw_points)
    good = np.flatnonzero(found)
    n = max(1, int(round(REST_SHARE * len(good))))
    pick = good[np.argsort(opening[good])[:n]]
    return np.median(aligned[pick], 0)


def gaze_from_irises(aligned, rest, basis, blink, anatomical: bool, fps: float) -> np.ndarray:
    """(T, 6) eye rotations (left yaw pitch roll, right yaw pitch roll) from the irises.

    One gaze for both eyes, from the mean shift of the two iris centres: each alone is too
    noisy. Shift per radian: on a real face the eyeball's radius (about 12 mm) over the
    outer-eye-corner distance (about 90 mm); on a render of the rig, what its basis measured."""
    gain = np.full(2, -IRIS_SHIFT_PER_RAD) if anatomical else basis["gaze_gain"].mean(0)
    eyes = np.zeros((len(aligned), 6))
    if not np.all(np.abs(gain) > 1e-4):
        return eyes
    iris = list(iris_indices(basis))
    shift = (aligned[:, iris, :2] - rest[iris, :2]).mean(1)
    gaze = shift / gain
    # A closing lid drags the iris points; hold the gaze of open-eyed frames instead.
    open_eyes = blink < 0.5
    if open_eyes.any() and not open_eyes.all():
        gaze = fill_missing(gaze, open_eyes)
    gaze = smooth(gaze, fps, GAZE_SMOOTHING_S)
    gaze = np.clip(gaze, -GAZE_LIMIT, GAZE_LIMIT)
    eyes[:, [0, 3]] = gaze[:, :1]
    eyes[:, [1, 4]] = gaze[:, 1:]
    return eyes


def eye_look_weights(eyes: np.ndarray) -> np.ndarray:
    """eyeLook* weights (T, 52) from the eye rotations, as ARKit couples them."""
    w = np.zeros((len(eyes), len(ARKIT_NAMES)))
    for e, side in enumerate(("Left", "Right")):
        yaw, pitch = eyes[:, 3 * e], eyes[:, 3 * e + 1]
        toward_right = np.clip(yaw / YAW_PER_LOOK, 0, 1)
        toward_left = np.clip(-yaw / YAW_PER_LOOK, 0, 1)
        # Looking toward the character's right: the right eye looks out, the left in.
        w[:, INDEX["eyeLookOut" + side]] = toward_right if side == "Right" else toward_left
        w[:, INDEX["eyeLookIn" + side]] = toward_left if side == "Right" else toward_right
        w[:, INDEX["eyeLookDown" + side]] = np.clip(pitch / PITCH_DOWN_PER_LOOK, 0, 1)
        w[:, INDEX["eyeLookUp" + side]] = np.clip(-pitch / PITCH_UP_PER_LOOK, 0, 1)
    return w


def fit_take(points: np.ndarray, found: np.ndarray, fps: float, basis: dict,
             neutral: str = "video", smoothing_s: float = 0.04, meta: dict | None = None,
             contact_rule: bool = True) -> Animation:
    """Landmarks (T, 478, 3) with ``found`` (T,) -> an Animation at ``fps``."""
    if neutral not in ("video", "rig"):
        raise ValueError(f"neutral must be 'video' or 'rig', not {neutral!r}")
    filled = fill_missing(points, found)
    aligned, head, _ = align(filled, basis["reference"])
    # What the head's turn alone does to the pose-free points (see basis) is not expression.
    aligned = aligned - np.einsum("tk,knc->tnc", head_features(head), basis["pose_drift"])
    rest = basis["neutral"] if neutral == "rig" else rest_shape(aligned, found, filled)
    solved = np.flatnonzero(basis["solved"])
    b = basis["basis"][solved][:, SOLVE_POINTS] * COORD_WEIGHT
    y = (aligned[:, SOLVE_POINTS] - rest[SOLVE_POINTS]) * COORD_WEIGHT
    y = y.reshape(len(y), -1)
    # Pose corrections are solved with the weights (unbounded), so what the rigid fit left
    # over is not read as expression.
    pose = (pose_generators(rest)[:, SOLVE_POINTS] * COORD_WEIGHT).reshape(7, -1)
    b = np.concatenate([pose, b.reshape(len(b), -1)])
    w_all = solve_bounded(y, b, l2=L2, l1=L1, free=len(pose))
    residual = y - w_all @ b
    w_solved = w_all[:, len(pose):]
    rms = np.sqrt((residual ** 2).mean(1) * 3 / COORD_WEIGHT.dot(COORD_WEIGHT))

    weights = np.zeros((len(points), len(ARKIT_NAMES)))
    weights[:, solved] = w_solved
    blink = weights[:, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]].max(1)
    eyes = gaze_from_irises(aligned, rest, basis, blink, neutral == "video", fps)

    # Lip contact: where the inner lips touch in the image the take's lips close, whatever
    # mix of jaw and lip shapes the solve found (it tends to leave a little jawOpen).
    contact = (inner_lip_opening(filled) < CONTACT_GAP) & found
    if contact_rule and contact.any():
        jaw = weights[contact, INDEX["jawOpen"]]
        weights[contact, INDEX["mouthClose"]] = np.maximum(weights[contact, INDEX["mouthClose"]], jaw)
        weights[np.ix_(contact, PARTING)] = 0.0
    closed = lip_aperture(weights) < 0.05
    weights = smooth(weights, fps, smoothing_s, keep=closed)
    head = smooth(head, fps, smoothing_s)
    look = eye_look_weights(eyes)
    looked = [INDEX[n] for n in ARKIT_NAMES if n.startswith("eyeLook")]
    weights[:, looked] = look[:, looked]

    confidence = np.exp(-rms / CONFIDENCE_SCALE) * found
    info = {"engine": "capture", "neutral": neutral, "source_fps": fps,
            "confidence": [round(float(c), 3) for c in confidence],
            "missing_frames": [int(i) for i in np.flatnonzero(~found)],
            "face_found_share": round(float(found.mean()), 4)}
    return Animation(np.clip(weights, 0, 1).astype(np.float32), fps=fps,
                     head=head.astype(np.float32), eyes=eyes.astype(np.float32),
                     meta={**info, **(meta or {})})
