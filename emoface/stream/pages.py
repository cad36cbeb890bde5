"""What the browser viewer is made of, for a server to hand out: the page, its scripts, the
three.js files copied in by ``make viewer``, and the bundled head as a GLB.

``GET /`` is :data:`INDEX`, ``GET /viewer/<path>`` is :func:`viewer_file`, ``GET /head.glb``
is :func:`head_glb`. three.js is not committed: ``make viewer`` installs the pinned version
from npm (tools/viewer/package.json) and copies the few module files the page imports into
``viewer/vendor/``, which the package data ships, so a wheel built after it serves the page
with no network and no node at run time.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..arkit import NUM_BLENDSHAPES
from ..export.gltf import build_glb
from ..rig import load_rig
from ..rig.gltf_io import glb_bytes

VIEWER_DIR = Path(__file__).resolve().parent / "viewer"
INDEX = VIEWER_DIR / "index.html"
VENDOR_FILES = ("vendor/three.module.js", "vendor/three.core.js",
                "vendor/addons/loaders/GLTFLoader.js",
                "vendor/addons/utils/BufferGeometryUtils.js",
                "vendor/addons/utils/SkeletonUtils.js")
# what the page is made of; nothing else under viewer/ is handed out
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript",
          ".mjs": "text/javascript", ".css": "text/css", ".json": "application/json",
          ".glb": "model/gltf-binary", ".png": "image/png"}


def viewer_file(relative: str, root: Path = VIEWER_DIR) -> Path | None:
    """The file under ``root`` that ``/viewer/<relative>`` names, or None: missing, a
    folder, a type the page does not use, or a path that climbs out (``..``, absolute,
    backslashes, empty parts)."""
    parts = relative.split("/")
    if not relative or any(p in ("", ".", "..") for p in parts) or "\\" in relative \
            or "\0" in relative:
        return None
    path = (root / relative).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:   # a link out of the folder
        return None
    if not path.is_file() or path.suffix.lower() not in _TYPES:
        return None
    return path


def content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or "application/octet-stream"


def missing_vendor_files() -> list[str]:
    """three.js files the page needs that are not there (run ``make viewer``)."""
    return [f for f in VENDOR_FILES if not (VIEWER_DIR / f).is_file()]


@functools.lru_cache(maxsize=1)
def head_glb() -> bytes:
    """The bundled head with its 52 ARKit morph targets (named in ``extras.targetNames``)
    and the ``head`` node the viewer turns; built once per process (about 1 MB)."""
    still = Animation(np.zeros((1, NUM_BLENDSHAPES), np.float32), 30.0)
    doc, binary = build_glb(still, load_rig("default"))
    return glb_bytes(doc, binary)
