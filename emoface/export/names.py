"""Matching foreign channel lists to ARKit order by name."""
from __future__ import annotations

import numpy as np

from ..arkit import INDEX, NUM_BLENDSHAPES, normalize_name
from ..errors import UserError


def weights_by_name(values: np.ndarray, names: list[str], source: str) -> np.ndarray:
    """Reorder columns named ``names`` into ARKit order; channels absent stay 0.

    Raises UserError when no column is an ARKit name (the file is not blendshape data)."""
    values = np.asarray(values, np.float32)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise UserError(f"{source}: {values.shape[1] if values.ndim == 2 else '?'} columns "
                        f"but {len(names)} names")
    out = np.zeros((len(values), NUM_BLENDSHAPES), np.float32)
    found = 0
    for j, name in enumerate(names):
        arkit = normalize_name(name)
        if arkit is not None:
            out[:, INDEX[arkit]] = values[:, j]
            found += 1
    if found == 0:
        raise UserError(f"{source}: none of its channels is an ARKit blendshape name")
    return out
