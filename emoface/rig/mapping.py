"""Retargeting: which ARKit channels drive each of a rig's own shapes.

By default a shape is driven by the ARKit channel its name normalises to (``JawOpen``,
``mouthSmile_L``, ``browInnerUp_R`` ...). A mapping file overrides that per shape, so a rig
with its own vocabulary can still be driven::

    {"Mouth_Open": {"jawOpen": 1.0, "mouthClose": -0.3},
     "Smile":      {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5}}

Each key is one of the rig's shape names; its value says how much of each ARKit channel
(any common spelling) goes into that shape's weight. Shapes the file does not name keep
their by-name mapping.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_NAMES, INDEX, normalize_name
from ..errors import UserError

UserMapping = dict[str, dict[str, float]]


def load_mapping(source: str | os.PathLike | dict | None) -> UserMapping | None:
    """A mapping from a JSON file path (or an already-parsed dict), validated."""
    if source is None:
        return None
    if isinstance(source, dict):
        data, where = source, "mapping"
    else:
        where = str(source)
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"no such mapping file: {where!r}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read mapping file {where!r} ({exc.__class__.__name__})") from None
        except json.JSONDecodeError as exc:
            raise UserError(f"mapping file {where!r} is not valid JSON (line {exc.lineno}: "
                            f"{exc.msg})") from None
    if not isinstance(data, dict) or not data:
        raise UserError(f"{where}: a mapping is a JSON object "
                        '{"rigShapeName": {"jawOpen": 1.0, ...}, ...}')
    out: UserMapping = {}
    for target, channels in data.items():
        if not isinstance(channels, dict):
            raise UserError(f"{where}: {target!r} must map to an object of ARKit weights, "
                            f"e.g. {{\"jawOpen\": 1.0}}")
        row: dict[str, float] = {}
        for name, weight in channels.items():
            arkit = normalize_name(str(name))
            if arkit is None:
                raise UserError(f"{where}: {name!r} (under {target!r}) is not an ARKit "
                                "blendshape name")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                    or not np.isfinite(weight):
                raise UserError(f"{where}: weight of {name!r} under {target!r} must be a number")
            row[arkit] = row.get(arkit, 0.0) + float(weight)
        out[str(target)] = row
    return out


def build_mapping(shape_names: list[str], user: UserMapping | None = None,
                  source: str = "rig", strict: bool = True) -> np.ndarray:
    """(S, 52) mapping for ``shape_names``: by name, overridden by ``user`` rows.

    With ``strict`` (the default), UserError when no shape ends up driven (no ARKit names and
    no usable mapping) or when the mapping names shapes the rig lacks (a typo would otherwise
    silently do nothing). Without it, both just leave rows at zero (used for one mesh among
    several, where the check is made over all of them)."""
    mapping = np.zeros((len(shape_names), len(ARKIT_NAMES)), np.float32)
    for s, name in enumerate(shape_names):
        arkit = normalize_name(name)
        if arkit is not None:
            mapping[s, INDEX[arkit]] = 1.0
    if user:
        exact = {n: s for s, n in enumerate(shape_names)}
        folded = {n.lower(): s for s, n in enumerate(shape_names)}
        unknown = []
        for target, row in user.items():
            s = exact.get(target, folded.get(target.lower()))
            if s is None:
                unknown.append(target)
                continue
            mapping[s] = 0.0
            for arkit, weight in row.items():
                mapping[s, INDEX[arkit]] = weight
        if unknown and strict:
            shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise UserError(f"mapping names shapes that {source} does not have: {shown}")
    if strict and not mapping.any():
        raise UserError(f"{source}: no shape has an ARKit name; give a mapping file "
                        '(--mapping, JSON {"rigShape": {"jawOpen": 1.0}})')
    return mapping
