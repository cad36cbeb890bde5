"""Read the variables of a CTranslate2 ``model.bin`` with numpy alone.

CTranslate2 runs Whisper's encoder end to end and returns only its last layer. The
weights file is a flat list of named arrays, so the encoder's intermediate layers can be
recomputed from the same numbers (:mod:`.layers`). Format (binary version 6, what the
converters write): version, spec name, spec revision, then ``count`` records of name,
rank, shape, dtype id, byte count and the raw little-endian data, then aliases.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..errors import UserError

# CTranslate2's DataType ids (include/ctranslate2/types.h).
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_BFLOAT16 = 5


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string(self) -> str:
        length = self.take("H")
        raw = bytes(self.data[self.pos:self.pos + length])
        self.pos += length
        return raw.rstrip(b"\0").decode("utf-8")


def read_variables(path: str | Path, prefix: str = "") -> dict[str, np.ndarray]:
    """The arrays of ``model.bin`` whose names start with ``prefix``, in their stored type (others are
    skipped without a copy: the file is memory-mapped)."""
    path = Path(path)
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    r = _Reader(memoryview(raw))
    version = r.take("I")
    if version < 5 or version > 6:
        raise UserError(f"{str(path)!r}: CTranslate2 model format version {version} is not "
                        "one emoface reads (5 or 6)")
    spec = r.string()
    if "Whisper" not in spec:
        raise UserError(f"{str(path)!r} holds a {spec}, not a Whisper model")
    r.take("I")  # spec revision
    out: dict[str, np.ndarray] = {}
    for _ in range(r.take("I")):
        name = r.string()
        rank = r.take("B")
        shape = tuple(r.take("I") for _ in range(rank))
        dtype_id = r.take("B")
        nbytes = r.take("I")
        start = r.pos
        r.pos += nbytes
        if not name.startswith(prefix):
            continue
        block = raw[start:start + nbytes]
        if dtype_id == _BFLOAT16:  # upper half of a float32
            bits = np.frombuffer(block, dtype=np.uint16).astype(np.uint32) << 16
            out[name] = bits.view(np.float32).reshape(shape)
        elif dtype_id in _DTYPES:
            out[name] = np.frombuffer(block, dtype=_DTYPES[dtype_id]).reshape(shape)
        else:
            raise UserError(f"{str(path)!r}: variable {name} has an unknown data type {dtype_id}")
    return out
