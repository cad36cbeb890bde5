"""Render and export speed: what a preview video and an engine file cost here.

    emoface dev graphics render [--size 512] [--frames 150] [--rigs default,ict]
    emoface dev graphics export [--seconds 60] [--fps 30] [--rigs default,ict]
    emoface dev graphics all --json        (what ``emoface bench --suite full`` runs)

Render, per rig: set-up (mesh preparation, GL objects), then timed passes over the same
smooth random animation at ``--size`` x ``--size``:

* ``render``: rig evaluation, normals, upload, draw and read-back (what a video needs);
* ``draw``: the same without evaluating the rig (one posed mesh drawn again and again);
* ``video``: the whole ``.mp4`` path (render + H.264/AAC encoding by ffmpeg), frames of
  video per second of wall time, with a silent WAV of the same length as the audio.

Export, per rig and format (GLB, binary USD, USDA): the first write (which pays for
importing pxr and loading USD's plugins), the median of the later writes, the file size
and the time to read it back; the curves read back are compared with those written.

Timings are medians of ``--repeat`` passes; on a shared CPU they vary by 20-30 %. The
animation's content does not change sizes (weights are stored densely), only its length.
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..errors import UserError
from ..outputs import read, write
from ..render.scene import FaceRenderer
from ..render.video import write_mp4
from ..rig import load_rig

EXPORT_FORMATS = (".glb", ".usd", ".usda")
VIEW = "three-quarter"


def smooth_animation(frames: int, fps: float = 30.0, seed: int = 0) -> Animation:
    """Random key poses every 6 frames, linearly eased, with head and eye motion: every
    shape and both rotations move, as in real takes."""
    rng = np.random.default_rng(seed)
    keys = 0.6 * rng.random((frames // 6 + 2, 52))
    t = np.linspace(0, len(keys) - 1, frames)
    weights = np.stack([np.interp(t, np.arange(len(keys)), keys[:, j]) for j in range(52)], 1)
    head = np.stack([0.12 * np.sin(t / (3 + j)) for j in range(3)], 1)
    eyes = np.repeat(0.2 * np.sin(t / 2)[:, None], 6, 1)
    return Animation(weights.astype(np.float32), fps, head=head.astype(np.float32),
                     eyes=eyes.astype(np.float32))


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _load(spec: str):

    t0 = time.perf_counter()
    rig = load_rig(spec)
    return rig, time.perf_counter() - t0


def render_speed(spec: str, size: int = 512, frames: int = 150, repeat: int = 3,
                 video: bool = True) -> dict:
    """Frames per second of the offscreen renderer on rig ``spec`` (see the module)."""

    rig, load_s = _load(spec)
    anim = smooth_animation(frames)
    t0 = time.perf_counter()
    r = FaceRenderer(rig, size, VIEW)
    setup = time.perf_counter() - t0
    try:
        list(r.frames(anim, range(min(5, frames))))  # shader compile, first upload
        render_s = _median_seconds(lambda: sum(1 for _ in r.frames(anim)), repeat)
        pos = r.positions(anim.weights[0])

        def draw_only():
            for _ in range(frames):
                r.render_positions(pos)

        draw_s = _median_seconds(draw_only, repeat)
        triangles = len(r.mesh.triangles)
    finally:
        r.release()
    out = {"rig": spec, "vertices": int(rig.num_vertices), "triangles": int(triangles),
           "size": size, "frames": frames, "repeat": repeat, "load_s": load_s, "setup_s": setup,
           "render_fps": frames / render_s, "draw_fps": frames / draw_s}
    if video:
        out["video_fps"] = frames / _video_seconds(anim, rig, size)
    return out


def _video_seconds(anim: Animation, rig, size: int) -> float:
    import soundfile


    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "silence.wav"
        soundfile.write(wav, np.zeros(int(16000 * anim.duration), np.float32), 16000)
        start = time.perf_counter()
        write_mp4(anim, Path(tmp) / "take.mp4", audio=wav, rig=rig, size=size)
        return time.perf_counter() - start


def export_speed(spec: str, seconds: float = 60.0, fps: float = 30.0, repeat: int = 3,
                 formats=EXPORT_FORMATS) -> list[dict]:
    """One row per format: write and read-back seconds and file size for ``seconds`` of
    animation carrying rig ``spec``'s mesh."""

    rig, load_s = _load(spec)
    anim = smooth_animation(round(seconds * fps), fps)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ext in formats:
            out = Path(tmp) / f"take{ext}"
            row = {"rig": spec, "vertices": int(rig.num_vertices), "format": ext,
                   "seconds": seconds, "fps": fps, "frames": anim.num_frames, "load_s": load_s}
            try:
                t0 = time.perf_counter()
                write(anim, out, rig=rig)
                row["first_write_s"] = time.perf_counter() - t0
                row["write_s"] = _median_seconds(lambda out=out: write(anim, out, rig=rig), repeat)
                row["mb"] = out.stat().st_size / 1e6
                t0 = time.perf_counter()
                back = read(out)
                row["read_s"] = time.perf_counter() - t0
                n = min(back.num_frames, anim.num_frames)
                row["max_error"] = float(np.abs(back.weights[:n] - anim.weights[:n]).max())
                row["frames_read"] = int(back.num_frames)
            except (UserError, ImportError) as exc:
                row["error"] = str(exc)
            rows.append(row)
    return rows


def measure(rigs=("default", "ict"), size: int = 512, frames: int = 150, repeat: int = 3,
            export_seconds: float = 60.0, fps: float = 30.0, video: bool = True,
            render: bool = True, export: bool = True) -> dict:
    """Render and export rows for every rig; a rig or renderer that is not available here
    gives a row with ``error`` instead of sinking the rest."""
    out: dict = {"render": [], "export": []}
    for spec in rigs:
        if render:
            try:
                out["render"].append(render_speed(spec, size, frames, repeat, video))
            except (UserError, ImportError) as exc:
                out["render"].append({"rig": spec, "error": str(exc)})
            except Exception as exc:  # noqa: BLE001 - no GL context here, say so and go on
                out["render"].append({"rig": spec, "error": f"{exc.__class__.__name__}: {exc}"})
        if export:
            try:
                out["export"] += export_speed(spec, export_seconds, fps, repeat)
            except (UserError, ImportError) as exc:
                out["export"].append({"rig": spec, "error": str(exc)})
    return out


# ------------------------------------------------------------------ command line
def _print_render(rows: list[dict]) -> None:
    print(f"{'rig':8} {'vertices':>8} {'triangles':>9} {'setup s':>8} {'render fps':>10} "
          f"{'draw fps':>9} {'video fps':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['rig']:8} skipped: {r['error']}")
            continue
        print(f"{r['rig']:8} {r['vertices']:8d} {r['triangles']:9d} {r['setup_s']:8.2f} "
              f"{r['render_fps']:10.1f} {r['draw_fps']:9.1f} "
              f"{r.get('video_fps', float('nan')):9.1f}")


def _print_export(rows: list[dict]) -> None:
    print(f"{'rig':8} {'vertices':>8} {'format':6} {'load s':>7} {'first s':>8} "
          f"{'write s':>8} {'size MB':>8} {'read s':>7}")
    for r in rows:
        if "error" in r:
            print(f"{r['rig']:8} {r.get('format', ''):6} skipped: {r['error']}")
            continue
        print(f"{r['rig']:8} {r['vertices']:8d} {r['format']:6} {r['load_s']:7.2f} "
              f"{r['first_write_s']:8.2f} {r['write_s']:8.2f} {r['mb']:8.2f} {r['read_s']:7.2f}")


def run(what: str, rigs: list[str], size: int, frames: int, repeat: int, seconds: float,
        fps: float, *, video: bool = True, as_json: bool = False) -> int:
    """What ``emoface dev graphics`` prints: the render and/or export tables (``what``:
    render, export or all), or one JSON line with ``as_json``."""
    result = measure(rigs, size, frames, repeat, seconds, fps,
                     video=video, render=what in ("render", "all"),
                     export=what in ("export", "all"))
    if as_json:
        print(json.dumps(result))
        return 0
    if result["render"]:
        print(f"render: {frames} frames at {size}x{size}, median of {repeat}")
        _print_render(result["render"])
    if result["export"]:
        print(f"export: {round(seconds * fps)} frames ({seconds:g} s at "
              f"{fps:g} fps), median of {repeat} writes after the first")
        _print_export(result["export"])
    return 0
