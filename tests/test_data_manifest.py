"""Manifest schema: rows round-trip, bad rows fail with one line naming where."""
from __future__ import annotations

import json

import pytest

from emoface.arkit import ARKIT_NAMES
from emoface.data.manifest import (
    FIELDS,
    ManifestError,
    dumps_row,
    read_manifest,
    validate_row,
    write_manifest,
)


def row(**changes) -> dict:
    base = {
        "id": "emodb-03a01Fa", "audio": "/data/emodb/wav/03a01Fa.wav", "sample_rate": 22050,
        "duration": 2.0, "language": "de", "speaker": "emodb-03",
        "transcript": "Der Lappen liegt auf dem Eisschrank.", "phones": "phones/emodb/x.json",
        "phone_method": "lablaut", "emotion": "happy", "intensity": 0.8, "source": "emodb",
        "licence": "CC0-1.0", "split": "train", "targets": "targets/emodb/x.npz",
        "target_fps": 30.0, "target_channels": list(ARKIT_NAMES), "target_kind": "teacher",
        "flags": ["teacher", "acted"], "features": "features/ab/abcd.npz",
        "group": "emodb-03-a01", "extra": {"text_code": "a01"},
    }
    base.update(changes)
    return base


def test_round_trip(tmp_path):
    rows = [row(), row(id="tts-000001", speaker="espeak-en-us+m3", split="val", emotion=None,
                       intensity=None, transcript=None, group=None, flags=["teacher", "synthetic"],
                       extra={}),
            row(id="asterisk-a", speaker="asterisk-allison", sample_rate=8000,
                flags=["teacher", "telephone"], emotion="neutral", intensity=0.2)]
    path = tmp_path / "manifest.jsonl"
    assert write_manifest(path, rows) == 3
    back = read_manifest(tmp_path)
    assert back == sorted(rows, key=lambda r: r["id"])
    assert [list(r) for r in back] == [list(FIELDS)] * 3
    write_manifest(tmp_path / "again.jsonl", back)
    assert (tmp_path / "again.jsonl").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("changes, message", [
    ({"split": "dev"}, "split must be one of"),
    ({"emotion": "bored"}, "is not one of"),
    ({"intensity": 1.5}, "outside [0, 1]"),
    ({"intensity": None}, "both be set or both be null"),
    ({"duration": 0}, "duration must be a positive"),
    ({"sample_rate": "16k"}, "should be int"),
    ({"id": "a/b"}, "without spaces or slashes"),
    ({"flags": ["teacher", "shiny"]}, "unknown flag"),
    ({"flags": ["acted"]}, "must include the target kind"),
    ({"target_channels": ["jawOpen", "notAShape"]}, "distinct ARKit names"),
    ({"target_kind": "magic"}, "target_kind must be"),
])
def test_bad_rows_name_the_problem(changes, message):
    with pytest.raises(ManifestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_row(row(**changes))


def test_missing_and_unknown_fields():
    broken = row()
    del broken["licence"]
    with pytest.raises(ManifestError, match="missing field.*licence"):
        validate_row(broken)
    with pytest.raises(ManifestError, match="unknown field.*colour"):
        validate_row(row(colour="red"))


def test_read_reports_file_and_line(tmp_path):
    path = tmp_path / "manifest.jsonl"
    path.write_text(dumps_row(row()) + "\n" + "{not json\n")
    with pytest.raises(ManifestError, match="manifest.jsonl line 2: not valid JSON"):
        read_manifest(path)
    path.write_text(dumps_row(row()) + "\n" + json.dumps(row(split="nope")) + "\n")
    with pytest.raises(ManifestError, match="line 2: split"):
        read_manifest(path)
    path.write_text(dumps_row(row()) + "\n" + dumps_row(row()) + "\n")
    with pytest.raises(ManifestError, match="duplicate clip id"):
        read_manifest(path)
    with pytest.raises(ManifestError, match="no manifest"):
        read_manifest(tmp_path / "elsewhere")
    # the error is one line, as the CLI contract wants
    try:
        read_manifest(path)
    except ManifestError as exc:
        assert "\n" not in str(exc)


def test_splits_must_be_by_speaker(tmp_path):
    rows = [row(), row(id="emodb-03a02Nc", split="test")]
    with pytest.raises(ManifestError, match="speaker 'emodb-03' is in both"):
        write_manifest(tmp_path / "m.jsonl", rows)
