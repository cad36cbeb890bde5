"""The corpus builder transcribes untranscribed speech (LibriSpeech) with Whisper, aligns
the words, records where each transcript came from, splits by speaker and resumes."""
from __future__ import annotations

import json

import pytest
from conftest import need

pytest.importorskip("faster_whisper", reason="the speech extra is not installed")

from emoface.data.build import BuildOptions, build  # noqa: E402
from emoface.errors import UserError  # noqa: E402

CLIPS = ("train-clean-100/1447-130550-0000.flac", "test-other/3005/3005-163389-0007.flac")


def test_librispeech_clips_get_whisper_transcripts(shared_data, tmp_path):
    root = tmp_path / "librispeech"
    for rel in CLIPS:  # a handful of files, laid out as the corpus has them
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(need(shared_data / "speech" / "librispeech" / rel))
    out = tmp_path / "corpus"
    options = BuildOptions(workers=1, progress=False, speech_model="tiny.en")
    report = build(out, [("librispeech", root)], options)
    assert report.built["librispeech"] + len(report.skipped) == 2 and not report.failed
    rows = {r["speaker"]: r for r in map(json.loads, (out / "manifest.jsonl").open())}
    assert rows, report.skipped
    for row in rows.values():
        assert row["extra"]["transcript_source"] == "whisper:tiny.en"
        assert row["phone_method"] == "alignment" and row["transcript"].strip()
        assert row["extra"]["transcript_words"] and row["source"] == "librispeech"
    if "librispeech-3005" in rows:
        assert rows["librispeech-3005"]["split"] == "test"   # test-other speakers held out
    again = build(out, [("librispeech", root)], options)
    assert sum(again.built.values()) == 0 and sum(again.reused.values()) == len(rows)


def test_unknown_speech_model_fails_before_any_clip(shared_data, tmp_path):
    root = need(shared_data / "speech" / "librispeech")
    with pytest.raises(UserError, match="unknown speech model"):
        build(tmp_path / "c", [("librispeech", root)],
              BuildOptions(workers=1, progress=False, speech_model="huge"))
