"""``emoface info``: what is installed, and a self-check that exercises the main path."""
from __future__ import annotations

import importlib
import platform
import sys
import time

_PACKAGES = (
    ("numpy", "numpy"), ("scipy", "scipy"), ("soundfile", "soundfile"),
    ("praat-parselmouth", "parselmouth"), ("pocketsphinx", "pocketsphinx"),
    ("moderngl", "moderngl"), ("imageio-ffmpeg", "imageio_ffmpeg"), ("pygltflib", "pygltflib"),
    ("usd-core", "pxr"), ("torch", "torch"), ("onnxruntime", "onnxruntime"),
)


def _version(distribution: str, module_name: str) -> str:
    """Installed version of a package, or why it cannot be used."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version(distribution)
    except PackageNotFoundError:
        return "not installed"
    try:
        importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - installed but broken is worth saying
        return f"{found} (fails to import: {exc.__class__.__name__})"
    return found


def info_lines() -> list[str]:
    from . import __version__
    from .paths import shared_data_dir
    from .pipeline import engine_names

    lines = [f"emoface {__version__}",
             f"python {platform.python_version()} on {platform.platform()}"]
    for label, module in _PACKAGES:
        lines.append(f"  {label:18s} {_version(label, module)}")
    lines.append(f"  {'espeak-ng':18s} {_espeak_version()}")
    sf = sys.modules.get("soundfile")
    if sf is not None:
        lines.append(f"  {'libsndfile':18s} {sf.__libsndfile_version__}")
    lines.append(f"engines: {', '.join(engine_names())}")
    from .export import writable_extensions

    lines.append(f"output formats: {' '.join(writable_extensions())}")
    data = shared_data_dir()
    lines.append(f"shared data: {data} ({'found' if data.is_dir() else 'absent'})")
    return lines


def _espeak_version() -> str:
    try:
        from .audio.espeak import library_version

        return library_version()
    except Exception as exc:  # noqa: BLE001
        return f"unavailable ({exc})"


def self_check() -> tuple[bool, str]:
    """Speak a sentence, animate it, and check the contract; (ok, message)."""
    import numpy as np

    from .pipeline import speak

    start = time.perf_counter()
    try:
        anim, samples, sr = speak("Bob, please remember the map.", emotion="happy:0.5")
    except Exception as exc:  # noqa: BLE001 - report, do not crash `info`
        return False, f"FAILED: {exc.__class__.__name__}: {exc}"
    w = anim.weights
    problems = []
    if w.shape[1] != 52 or not np.isfinite(w).all() or w.min() < 0 or w.max() > 1:
        problems.append("weights outside the contract")
    expected = int(round(len(samples) / sr * anim.fps))
    if abs(anim.num_frames - expected) > 1:
        problems.append(f"{anim.num_frames} frames for {expected} expected")
    if problems:
        return False, "FAILED: " + "; ".join(problems)
    return True, f"ok (spoke and animated {len(samples) / sr:.1f} s in " \
                 f"{time.perf_counter() - start:.2f} s)"
