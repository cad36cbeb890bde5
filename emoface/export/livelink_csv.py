"""Live Link Face CSV (the iPhone app's take format; Unreal imports it).

Header: ``Timecode,BlendshapeCount,EyeBlinkLeft,...,TongueOut,HeadYaw,HeadPitch,HeadRoll,
LeftEyeYaw,...,RightEyeRoll``; 61 values per row after the timecode. Timecode is
``HH:MM:SS:FF.mmm``: frame ``FF`` within the second at the take's rate, ``.mmm`` the
fraction of a frame. Head and eye rotations are written in radians.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..arkit import INDEX, LIVE_LINK_EYES, LIVE_LINK_HEAD, LIVE_LINK_ORDER, pascal
from ..errors import UserError
from ..files import atomic_path
from .names import weights_by_name

HEADER = ("Timecode", "BlendshapeCount", *(pascal(n) for n in LIVE_LINK_ORDER),
          *LIVE_LINK_HEAD, *LIVE_LINK_EYES)
VALUES_PER_ROW = len(HEADER) - 2  # 61


def timecode(frame: int, fps: float) -> str:
    """Timecode of frame ``frame`` for a take starting at 00:00:00:00. Frames are counted
    at the nearest integer rate; a non-integer fps keeps the remainder in ``.mmm``."""
    rate = round(fps)
    t = round(frame / fps, 6)  # microseconds: keeps 2.9999999 from becoming frame 30
    whole = int(t)
    slot = round((t - whole) * rate, 3)
    ff = int(slot)
    frac = int(round((slot - ff) * 1000))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{ff:02d}.{frac:03d}"


_ROWS_PER_BLOCK = 4096  # rows formatted at a time: memory flat in the take's length


def write(anim: Animation, path: str | Path, **_options) -> None:
    cols = [INDEX[n] for n in LIVE_LINK_ORDER]
    n = anim.num_frames
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        for a in range(0, n, _ROWS_PER_BLOCK):
            b = min(n, a + _ROWS_PER_BLOCK)
            head = anim.head[a:b] if anim.head is not None else np.zeros((b - a, 3), np.float32)
            eyes = anim.eyes[a:b] if anim.eyes is not None else np.zeros((b - a, 6), np.float32)
            table = np.concatenate([anim.weights[a:b, cols], head, eyes], 1).astype(np.float64)
            for i, row in enumerate(table, a):
                f.write(f"{timecode(i, anim.fps)},{VALUES_PER_ROW},")
                f.write(",".join(f"{v:.9g}" for v in row) + "\n")


def _parse_timecode(tc: str) -> tuple[float, float]:
    """'HH:MM:SS:FF.mmm' -> (whole seconds, frame number with fraction)."""
    parts = tc.strip().split(":")
    if len(parts) != 4:
        raise ValueError(tc)
    h, m, s = (int(p) for p in parts[:3])
    return h * 3600 + m * 60 + s, float(parts[3])


def read(path: str | Path) -> Animation:
    """Read a Live Link Face CSV (ours or the app's). The frame rate is recovered from the
    timecodes; rows are resampled onto a uniform grid only if they are irregular."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise UserError(f"no such file: {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {str(path)!r} as a CSV ({exc.__class__.__name__})") from None
    if len(rows) < 2 or not rows[0] or rows[0][0].strip() != "Timecode":
        raise UserError(f"{str(path)!r} is not a Live Link Face CSV (no Timecode header)")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r and any(c.strip() for c in r)]
    try:
        stamps = [_parse_timecode(r[0]) for r in body]
        values = np.array([[float(x) for x in r[2:len(header)]] for r in body], np.float64)
    except (ValueError, IndexError):
        raise UserError(f"{str(path)!r}: malformed row in Live Link CSV") from None
    names = header[2:]
    if values.shape[1] != len(names):
        raise UserError(f"{str(path)!r}: rows have {values.shape[1]} values, header {len(names)}")
    # The timecode's frame rate is the number of distinct frame slots in a second.
    tc_rate = _timecode_rate([s[1] for s in stamps])
    t = np.array([sec + ff / tc_rate for sec, ff in stamps])
    t -= t[0]
    fps = _estimate_fps(t, tc_rate)
    weights = weights_by_name(values[:, : len(names)], names, str(path))
    col = {n: j for j, n in enumerate(names)}
    head = values[:, [col[n] for n in LIVE_LINK_HEAD]] if all(n in col for n in LIVE_LINK_HEAD) else None
    eyes = values[:, [col[n] for n in LIVE_LINK_EYES]] if all(n in col for n in LIVE_LINK_EYES) else None
    anim = Animation(weights, fps, head=head, eyes=eyes, meta={"source": str(path)})
    regular = np.allclose(t, np.arange(len(t)) / fps, atol=0.25 / fps)
    return anim if regular else _regrid(anim, t)


def _timecode_rate(frames: list[float]) -> float:
    top = int(max(frames)) + 1 if frames else 30
    for rate in (24, 25, 30, 48, 50, 60, 120):
        if top <= rate:
            return float(rate)
    return float(top)


def _estimate_fps(t: np.ndarray, tc_rate: float) -> float:
    if len(t) < 2:
        return tc_rate
    step = float(np.median(np.diff(t)))
    if step <= 0:
        return tc_rate
    fps = 1.0 / step
    for nice in (24.0, 25.0, 30.0, 50.0, 60.0, 120.0):
        if abs(fps - nice) / nice < 0.02:
            return nice
    return round(fps, 3)


def _regrid(anim: Animation, t: np.ndarray) -> Animation:
    """Captures drop and repeat frames; put them on a uniform grid at the nominal rate."""
    n = max(1, int(round(t[-1] * anim.fps)) + 1)
    dst = np.arange(n) / anim.fps
    keep = np.concatenate([[True], np.diff(t) > 0])  # interp needs increasing times
    t = t[keep]

    def interp(a):
        return None if a is None else np.stack(
            [np.interp(dst, t, a[keep][:, j]) for j in range(a.shape[1])], 1)

    return Animation(interp(anim.weights), anim.fps, interp(anim.head), interp(anim.eyes),
                     meta=anim.meta)
