"""Files of a corpus: byte-for-byte reproducible npz and JSON, written atomically.

``numpy.savez`` stamps each member with the current time, so two builds of the same data
would differ on disk; :func:`save_npz` writes a fixed timestamp instead, which lets a
rebuild be checked by comparing files.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ..files import atomic_path

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], compress: bool = True) -> None:
    """Write ``arrays`` as an ``.npz`` (readable by ``numpy.load``), deterministic bytes."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=method) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_json(path: str | os.PathLike, obj) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def load_json(path: str | os.PathLike):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def remove_stale_temporaries(folder: Path) -> int:
    """Delete the hidden temporaries a killed writer leaves (``atomic_path`` names them
    ``.<name>.<random><ext>``); returns how many were removed."""
    removed = 0
    if not folder.is_dir():
        return 0
    for p in folder.rglob(".*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            removed += 1
    return removed
