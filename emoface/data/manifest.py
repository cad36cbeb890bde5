"""The corpus manifest: one JSON object per line, one line per clip.

A row says where a clip's audio, phone timings, features and target curves are, what is
known about it (language, speaker, transcript, emotion) and how it may be used (split,
licence, flags). Paths are relative to the corpus folder when the file lives inside it
(generated audio, targets, features) and absolute otherwise (audio read in place from
../shared/data, which is never copied).

Rows are validated on load: a bad manifest fails with one line naming the file, the line
and the field. Splits are by speaker, so a speaker found in two splits is an error too.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

from ..arkit import ARKIT_NAMES
from ..emotion import EMOTIONS
from ..errors import UserError
from ..files import atomic_path

MANIFEST_NAME = "manifest.jsonl"
SPLITS = ("train", "val", "test")
TARGET_KINDS = ("teacher", "captured")
# teacher/captured say where the target curves came from; the rest describe the audio:
# boredom   EmoDB boredom, labelled neutral at low intensity; voice classifiers leave it out
# telephone recorded at 8 kHz (nothing above 4 kHz)
# synthetic espeak-ng speech
# acted     an actor asked to portray the labelled emotion
FLAGS = ("teacher", "captured", "boredom", "telephone", "synthetic", "acted")

# field: (types allowed, may be null)
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((str,), False),
    "audio": ((str,), False),
    "sample_rate": ((int,), False),
    "duration": ((int, float), False),
    "language": ((str,), False),
    "speaker": ((str,), False),
    "transcript": ((str,), True),
    "phones": ((str,), False),
    "phone_method": ((str,), False),
    "emotion": ((str,), True),
    "intensity": ((int, float), True),
    "source": ((str,), False),
    "licence": ((str,), False),
    "split": ((str,), False),
    "targets": ((str,), False),
    "target_fps": ((int, float), False),
    "target_channels": ((list,), False),
    "target_kind": ((str,), False),
    "flags": ((list,), False),
    "features": ((str,), False),
    "group": ((str,), True),
    "extra": ((dict,), False),
}
FIELDS = tuple(_FIELDS)


class ManifestError(UserError):
    """A manifest row that breaks the schema (one line: file, line, field, problem)."""


def validate_row(row: dict, where: str = "row") -> dict:
    """Check one row against the schema; returns it unchanged or raises ManifestError."""
    if not isinstance(row, dict):
        raise ManifestError(f"{where}: expected a JSON object, got {type(row).__name__}")
    missing = [k for k in FIELDS if k not in row]
    if missing:
        raise ManifestError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key, (types, nullable) in _FIELDS.items():
        value = row[key]
        if value is None:
            if not nullable:
                raise ManifestError(f"{where}: field {key!r} may not be null")
            continue
        # bool is an int in Python; no field here means a flag by a number
        if isinstance(value, bool) or not isinstance(value, types):
            raise ManifestError(f"{where}: field {key!r} should be "
                                f"{' or '.join(t.__name__ for t in types)}, got {value!r}")
    rid = row["id"]
    if not rid or any(c in rid for c in "/\\ \t\n") or rid.startswith("."):
        raise ManifestError(f"{where}: id {rid!r} must be non-empty, without spaces or slashes")
    for key in ("audio", "phones", "targets", "features", "speaker", "language", "source"):
        if not row[key]:
            raise ManifestError(f"{where}: field {key!r} is empty")
    if row["sample_rate"] <= 0:
        raise ManifestError(f"{where}: sample_rate must be positive, got {row['sample_rate']}")
    for key in ("duration", "target_fps"):
        if not (math.isfinite(row[key]) and row[key] > 0):
            raise ManifestError(f"{where}: {key} must be a positive number, got {row[key]}")
    if row["split"] not in SPLITS:
        raise ManifestError(f"{where}: split must be one of {', '.join(SPLITS)}, "
                            f"got {row['split']!r}")
    if row["emotion"] is not None and row["emotion"] not in EMOTIONS:
        raise ManifestError(f"{where}: emotion {row['emotion']!r} is not one of "
                            f"{', '.join(EMOTIONS)} (or null for unknown)")
    if (row["emotion"] is None) != (row["intensity"] is None):
        raise ManifestError(f"{where}: emotion and intensity must both be set or both be null")
    if row["intensity"] is not None and not 0.0 <= row["intensity"] <= 1.0:
        raise ManifestError(f"{where}: intensity {row['intensity']} is outside [0, 1]")
    if row["target_kind"] not in TARGET_KINDS:
        raise ManifestError(f"{where}: target_kind must be one of {', '.join(TARGET_KINDS)}, "
                            f"got {row['target_kind']!r}")
    channels = row["target_channels"]
    if not channels or not all(isinstance(c, str) for c in channels) \
            or not set(channels) <= set(ARKIT_NAMES) or len(set(channels)) != len(channels):
        raise ManifestError(f"{where}: target_channels must be distinct ARKit names")
    flags = row["flags"]
    bad = [f for f in flags if f not in FLAGS]
    if bad:
        raise ManifestError(f"{where}: unknown flag(s) {bad}; known: {', '.join(FLAGS)}")
    if row["target_kind"] not in flags:
        raise ManifestError(f"{where}: flags must include the target kind "
                            f"{row['target_kind']!r}")
    return row


def check_speaker_disjoint(rows: Iterable[dict], where: str = "manifest") -> None:
    """Raise ManifestError when a speaker appears in more than one split. Clips split by
    sentence on purpose (``extra.split_by`` "sentence": one filmed speaker, the ``video``
    source, whose benchmark is that speaker's held-out sentences) are exempt."""
    seen: dict[str, str] = {}
    for row in rows:
        if (row.get("extra") or {}).get("split_by") == "sentence":
            continue
        first = seen.setdefault(row["speaker"], row["split"])
        if first != row["split"]:
            raise ManifestError(f"{where}: speaker {row['speaker']!r} is in both {first!r} and "
                                f"{row['split']!r} (splits must be by speaker; clip "
                                f"{row['id']!r})")


def dumps_row(row: dict) -> str:
    """One manifest line: keys in schema order, so files diff cleanly and compare equal."""
    return json.dumps({k: row[k] for k in FIELDS}, ensure_ascii=False, separators=(", ", ": "))


def write_manifest(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Validate and write rows (sorted by id), atomically; returns the number written."""
    rows = sorted(rows, key=lambda r: r["id"])
    ids = set()
    for row in rows:
        validate_row(row, f"row {row.get('id')!r}")
        if row["id"] in ids:
            raise ManifestError(f"duplicate clip id {row['id']!r}")
        ids.add(row["id"])
    check_speaker_disjoint(rows)
    text = "".join(dumps_row(r) + "\n" for r in rows)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return len(rows)


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Rows of a manifest file, validated; raises ManifestError (one line) when it is bad."""
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST_NAME
    if not p.is_file():
        raise ManifestError(f"no manifest at {str(p)!r} (build a corpus with 'emoface data build')")
    rows: list[dict] = []
    ids: set[str] = set()
    with open(p, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{p.name} line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ManifestError(f"{where}: not valid JSON ({exc.msg})") from None
            validate_row(row, where)
            if row["id"] in ids:
                raise ManifestError(f"{where}: duplicate clip id {row['id']!r}")
            ids.add(row["id"])
            rows.append(row)
    check_speaker_disjoint(rows, p.name)
    return rows


def resolve(corpus_dir: str | os.PathLike, path: str) -> Path:
    """A manifest path as a filesystem path (relative ones are inside the corpus)."""
    p = Path(path)
    return p if p.is_absolute() else Path(corpus_dir) / p
