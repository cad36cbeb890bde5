"""glTF 2.0 containers at the byte level: read a .glb/.gltf into its JSON and buffers,
decode accessors, and write a GLB.

The rig loader and the GLB exporter both use this instead of a glTF object model so that
a user's file can be edited as plain JSON: every property we do not understand (extensions,
extras, skins, cameras) survives a read-modify-write untouched.
"""
from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from ..errors import UserError

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942

ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963

FLOAT = 5126
UNSIGNED_BYTE = 5121
UNSIGNED_SHORT = 5123
UNSIGNED_INT = 5125
COMPONENT_DTYPES = {
    5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32,
    5126: np.float32,
}
TYPE_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


@dataclass
class GltfDocument:
    """A glTF asset: its JSON tree and the bytes of each buffer (index = buffer index)."""

    json: dict
    buffers: list[bytes] = field(default_factory=list)
    source: str = "glTF"

    # ---------------------------------------------------------------- reading
    def accessor(self, index: int) -> np.ndarray:
        """Accessor ``index`` as a (count, width) array (float32 for normalized integers)."""
        try:
            acc = self.json["accessors"][index]
            ctype, width = acc["componentType"], TYPE_WIDTH[acc["type"]]
            dtype = np.dtype(COMPONENT_DTYPES[ctype]).newbyteorder("<")
            count = int(acc["count"])
            if "bufferView" in acc:
                out = self._view_elements(acc["bufferView"], acc.get("byteOffset", 0),
                                          dtype, count, width)
            else:  # spec: no bufferView means zeros, possibly patched by `sparse`
                out = np.zeros((count, width), dtype)
            sparse = acc.get("sparse")
            if sparse:
                n = int(sparse["count"])
                ix = sparse["indices"]
                idx = self._view_elements(ix["bufferView"], ix.get("byteOffset", 0),
                                          np.dtype(COMPONENT_DTYPES[ix["componentType"]]),
                                          n, 1)[:, 0].astype(np.int64)
                vals = sparse["values"]
                out = out.copy()
                out[idx] = self._view_elements(vals["bufferView"], vals.get("byteOffset", 0),
                                               dtype, n, width)
        except UserError:
            raise
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise UserError(f"{self.source}: broken accessor {index} ({exc.__class__.__name__}: "
                            f"{exc})") from None
        if acc.get("normalized") and ctype != FLOAT:
            # glTF's normalized-integer rule: signed types clamp at -1
            info = np.iinfo(dtype)
            out = np.maximum(out.astype(np.float32) / info.max, -1.0)
        return out

    def _view_elements(self, view_index: int, offset: int, dtype: np.dtype, count: int,
                       width: int) -> np.ndarray:
        view = self.json["bufferViews"][view_index]
        data = self.buffers[view["buffer"]]
        start = view.get("byteOffset", 0) + offset
        elem = dtype.itemsize * width
        stride = view.get("byteStride") or elem
        end = start + (count - 1) * stride + elem if count else start
        if end > view.get("byteOffset", 0) + view["byteLength"] or end > len(data):
            raise UserError(f"{self.source}: accessor data runs past its buffer (truncated file?)")
        if stride == elem:
            flat = np.frombuffer(data, dtype, count * width, start)
            return flat.reshape(count, width)
        rows = np.lib.stride_tricks.as_strided(
            np.frombuffer(data, np.uint8, end - start, start), (count, elem), (stride, 1))
        return np.ascontiguousarray(rows).view(dtype).reshape(count, width)

    def node_world_matrices(self) -> list[np.ndarray]:
        """4x4 world matrix of every node (column vectors, glTF convention)."""
        nodes = self.json.get("nodes", [])
        parent: dict[int, int] = {}
        for i, node in enumerate(nodes):
            for c in node.get("children", []):
                parent[c] = i
        world: list[np.ndarray | None] = [None] * len(nodes)

        def resolve(i: int, depth: int = 0) -> np.ndarray:
            if world[i] is None:
                if depth > len(nodes):
                    raise UserError(f"{self.source}: node hierarchy has a cycle")
                local = local_matrix(nodes[i])
                world[i] = local if i not in parent else resolve(parent[i], depth + 1) @ local
            return world[i]

        return [resolve(i) for i in range(len(nodes))]


def local_matrix(node: dict) -> np.ndarray:
    if "matrix" in node:
        return np.array(node["matrix"], np.float64).reshape(4, 4).T  # stored column-major
    t = np.array(node.get("translation", [0, 0, 0]), np.float64)
    r = np.array(node.get("rotation", [0, 0, 0, 1]), np.float64)
    s = np.array(node.get("scale", [1, 1, 1]), np.float64)
    m = np.eye(4)
    m[:3, :3] = quat_to_matrix(r) * s[None, :]
    m[:3, 3] = t
    return m


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(x, y, z, w) unit quaternion -> 3x3 rotation matrix."""
    x, y, z, w = np.asarray(q, np.float64) / max(np.linalg.norm(q), 1e-12)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def read_gltf(path: str | Path) -> GltfDocument:
    """Parse a .glb or .gltf (external and data-URI buffers resolved); UserError if broken."""
    path = Path(path)
    src = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"no such file: {src!r}") from None
    except OSError as exc:
        raise UserError(f"cannot read {src!r} ({exc.strerror or exc})") from None
    if raw[:4] == GLB_MAGIC:
        doc_json, bin_chunk = _parse_glb(raw, src)
    else:
        try:
            doc_json = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise UserError(f"{src!r} is neither a GLB nor glTF JSON") from None
        bin_chunk = None
    if not isinstance(doc_json, dict) or not str(doc_json.get("asset", {}).get("version", "")
                                                 ).startswith("2"):
        raise UserError(f"{src!r} is not a glTF 2.0 asset")
    buffers = []
    for i, buf in enumerate(doc_json.get("buffers", [])):
        uri = buf.get("uri")
        if uri is None:
            if bin_chunk is None or i != 0:
                raise UserError(f"{src!r}: buffer {i} has no data")
            data = bin_chunk
        elif uri.startswith("data:"):
            try:
                data = base64.b64decode(uri.split(",", 1)[1])
            except (IndexError, ValueError):
                raise UserError(f"{src!r}: buffer {i} has a malformed data URI") from None
        else:
            ext = path.parent / unquote(uri)
            try:
                data = ext.read_bytes()
            except OSError:
                raise UserError(f"{src!r}: its buffer file {str(ext)!r} is missing") from None
        if len(data) < buf.get("byteLength", 0):
            raise UserError(f"{src!r}: buffer {i} is shorter than declared (truncated file?)")
        buffers.append(data)
    return GltfDocument(doc_json, buffers, src)


def _parse_glb(raw: bytes, src: str) -> tuple[dict, bytes | None]:
    if len(raw) < 20:
        raise UserError(f"{src!r} is a truncated GLB")
    _magic, version, length = struct.unpack_from("<4sII", raw, 0)
    if version != 2:
        raise UserError(f"{src!r} is GLB version {version}; only glTF 2.0 is supported")
    if length > len(raw):
        raise UserError(f"{src!r} is a truncated GLB ({len(raw)} of {length} bytes)")
    pos, doc_json, bin_chunk = 12, None, None
    while pos + 8 <= length:
        size, kind = struct.unpack_from("<II", raw, pos)
        body = raw[pos + 8: pos + 8 + size]
        if len(body) < size:
            raise UserError(f"{src!r} is a truncated GLB")
        if kind == CHUNK_JSON and doc_json is None:
            try:
                doc_json = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise UserError(f"{src!r}: corrupt GLB (unreadable JSON chunk)") from None
        elif kind == CHUNK_BIN and bin_chunk is None:
            bin_chunk = bytes(body)
        pos += 8 + size + (-size % 4)
    if doc_json is None:
        raise UserError(f"{src!r}: corrupt GLB (no JSON chunk)")
    return doc_json, bin_chunk


class BinaryBuilder:
    """Appends arrays to one binary buffer and registers bufferViews/accessors for them."""

    def __init__(self, doc_json: dict, prefix: bytes = b"", buffer_index: int = 0):
        self.json = doc_json
        self.parts: list[bytes] = [prefix] if prefix else []
        self.size = len(prefix)
        self.buffer_index = buffer_index
        self.json.setdefault("bufferViews", [])
        self.json.setdefault("accessors", [])

    def view(self, data: bytes, target: int | None = None) -> int:
        pad = -self.size % 4  # every accessor component here is at most 4 bytes wide
        if pad:
            self.parts.append(b"\0" * pad)
            self.size += pad
        view = {"buffer": self.buffer_index, "byteOffset": self.size, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.parts.append(data)
        self.size += len(data)
        self.json["bufferViews"].append(view)
        return len(self.json["bufferViews"]) - 1

    def accessor(self, array: np.ndarray, kind: str, *, target: int | None = None,
                 minmax: bool = False, component: int | None = None, **extra) -> int:
        """Store ``array`` ((count,) or (count, width)) and return its accessor index."""
        array = np.ascontiguousarray(array)
        if component is None:
            component = {np.dtype(np.float32): FLOAT, np.dtype(np.uint32): UNSIGNED_INT,
                         np.dtype(np.uint16): UNSIGNED_SHORT,
                         np.dtype(np.uint8): UNSIGNED_BYTE}[array.dtype]
        acc = {"bufferView": self.view(array.astype(array.dtype.newbyteorder("<")).tobytes(),
                                       target),
               "componentType": component, "count": len(array), "type": kind, **extra}
        if minmax:
            flat = array.reshape(len(array), -1)
            acc["min"] = [_json_number(v) for v in flat.min(0)]
            acc["max"] = [_json_number(v) for v in flat.max(0)]
        self.json["accessors"].append(acc)
        return len(self.json["accessors"]) - 1

    def sparse_vec3(self, values: np.ndarray, tolerance: float) -> int:
        """A float VEC3 accessor of ``values`` (N, 3) stored sparsely when that is smaller:
        rows whose largest component is within ``tolerance`` of zero are left out (zero)."""
        values = np.asarray(values, np.float32)
        count = len(values)
        moving = np.flatnonzero(np.abs(values).max(1) > tolerance)
        dense = values.copy()
        dense[np.setdiff1d(np.arange(count), moving)] = 0.0
        lo = dense.min(0) if count else np.zeros(3, np.float32)
        hi = dense.max(0) if count else np.zeros(3, np.float32)
        acc: dict = {"componentType": FLOAT, "count": count, "type": "VEC3",
                     "min": [_json_number(v) for v in lo], "max": [_json_number(v) for v in hi]}
        index_type = np.uint16 if count < 65536 else np.uint32
        sparse_bytes = len(moving) * (np.dtype(index_type).itemsize + 12)
        if len(moving) and sparse_bytes < count * 12:
            acc["sparse"] = {
                "count": len(moving),
                "indices": {"bufferView": self.view(moving.astype(index_type).tobytes()),
                            "componentType": UNSIGNED_SHORT if index_type is np.uint16
                            else UNSIGNED_INT},
                "values": {"bufferView": self.view(dense[moving].tobytes())},
            }
        elif len(moving):
            acc["bufferView"] = self.view(dense.tobytes(), ARRAY_BUFFER)
        # else: no bufferView and no sparse = all zeros, which costs no bytes at all
        self.json["accessors"].append(acc)
        return len(self.json["accessors"]) - 1

    def data(self) -> bytes:
        return b"".join(self.parts)


def _json_number(v) -> float:
    # float32 -> Python float is exact, so min/max match the stored values bit for bit
    return float(v)


def glb_bytes(doc_json: dict, binary: bytes | None) -> bytes:
    """Serialise a GLB: header, JSON chunk (space padded), optional BIN chunk (zero padded)."""
    if binary is not None:
        doc_json["buffers"][0]["byteLength"] = len(binary)
    text = json.dumps(doc_json, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 4)
    chunks = [struct.pack("<II", len(text), CHUNK_JSON), text]
    if binary is not None:
        body = binary + b"\0" * (-len(binary) % 4)
        chunks += [struct.pack("<II", len(body), CHUNK_BIN), body]
    total = 12 + sum(len(c) for c in chunks)
    return b"".join([struct.pack("<4sII", GLB_MAGIC, 2, total), *chunks])
