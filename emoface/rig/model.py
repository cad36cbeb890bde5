"""The Rig value type: a neutral mesh plus per-shape vertex deltas, driven by ARKit weights.

A rig's own shapes need not be ARKit's: ``mapping`` (S, 52) says how much of each ARKit
channel drives each of its S shapes, so split shapes (ICT's ``browInnerUp_L/_R``) take
the same weight on both halves and a user mapping can blend several channels into one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..arkit import ARKIT_NAMES, INDEX, normalize_name
from ..errors import UserError


@dataclass
class Rig:
    name: str
    neutral: np.ndarray                 # (V, 3) float32, in `units`
    deltas: np.ndarray                  # (S, V, 3) float32
    shape_names: list[str]              # the rig's own names for its S shapes
    triangles: np.ndarray               # (F, 3) int32
    mapping: np.ndarray                 # (S, 52) float32: shape weight = mapping @ arkit
    regions: dict[str, np.ndarray] = field(default_factory=dict)  # name -> vertex indices
    units: str = "cm"
    normals: np.ndarray | None = None   # (V, 3) of the neutral mesh, if the source had them
    uvs: np.ndarray | None = None       # (V, 2)
    triangle_material: np.ndarray | None = None  # (F,) small ints: skin, eye, mouth, ...
    meta: dict = field(default_factory=dict)

    @property
    def num_vertices(self) -> int:
        return len(self.neutral)

    def shape_weights(self, arkit_weights: np.ndarray) -> np.ndarray:
        """(T, 52) ARKit weights -> (T, S) weights of this rig's shapes."""
        return np.asarray(arkit_weights, np.float32) @ self.mapping.T

    def evaluate(self, arkit_weights: np.ndarray) -> np.ndarray:
        """(T, 52) or (52,) weights -> (T, V, 3) or (V, 3) vertex positions."""
        w = np.asarray(arkit_weights, np.float32)
        single = w.ndim == 1
        sw = self.shape_weights(w[None] if single else w)
        flat = self.deltas.reshape(len(self.deltas), -1)
        verts = (sw @ flat).reshape(len(sw), -1, 3) + self.neutral[None]
        return verts[0] if single else verts

    def scale_to_mm(self) -> float:
        """Factor that turns this rig's units into millimetres (the evaluation unit)."""
        factors = {"mm": 1.0, "cm": 10.0, "m": 1000.0}
        if self.units not in factors:
            raise ValueError(f"unknown rig units {self.units!r}")
        return factors[self.units]


def mapping_by_name(shape_names: list[str], source: str = "rig") -> np.ndarray:
    """Mapping for shapes named in any common ARKit spelling; UserError if none match."""
    mapping = np.zeros((len(shape_names), len(ARKIT_NAMES)), np.float32)
    for s, name in enumerate(shape_names):
        arkit = normalize_name(name)
        if arkit is not None:
            mapping[s, INDEX[arkit]] = 1.0
    if not mapping.any():
        raise UserError(f"{source}: no shape has an ARKit name; give a mapping file")
    return mapping
