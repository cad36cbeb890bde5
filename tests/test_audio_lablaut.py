"""EmoDB lablaut phone labels: every file parses, maps to the canonical set and tiles time."""
from __future__ import annotations

import itertools
import logging

import pytest
from conftest import need

from emoface.audio.io import audio_duration
from emoface.audio.lablaut import SAMPA_TO_ARPABET, lablaut_path_for, read_lablaut, sampa_to_arpabet
from emoface.audio.phones import PHONE_SET
from emoface.errors import UserError

HEADER = "signal x\ntype 0\nnfields 1\n#\n"


def _write(tmp_path, body: str):
    path = tmp_path / "x.lablaut"
    path.write_text(HEADER + body)
    return path


def test_every_emodb_file_parses(shared_data, caplog):
    files = sorted(need(shared_data / "emodb" / "lablaut").glob("*.lablaut"))
    assert len(files) >= 408
    labelled = 0
    with caplog.at_level(logging.WARNING):
        for path in files:
            phones = read_lablaut(path)
            if not phones:  # a few EmoDB files hold a header only
                continue
            labelled += 1
            assert phones[0].start == 0
            for a, b in itertools.pairwise(phones):
                assert a.end == pytest.approx(b.start, abs=1e-9)
            assert all(p.end > p.start and p.phone in PHONE_SET for p in phones)
            clipped = read_lablaut(path, duration=2.0)
            assert clipped[-1].end == pytest.approx(2.0) and clipped[0].start == 0
    assert "unknown SAMPA" not in caplog.text   # the table covers every label in the corpus
    assert labelled >= 405


def test_known_file(shared_data):
    """03a01Fa: "Der Lappen liegt auf dem Eisschrank" (the labellers' first sentence)."""
    path = need(shared_data / "emodb" / "lablaut" / "03a01Faxx.lablaut")
    phones = read_lablaut(path)
    assert [p.phone for p in phones][:8] == ["T", "EH", "AH", "L", "AA", "P", "M", "L"]
    # closure _t (to 0.080109) + release !t (to 0.119160) are one T
    assert phones[0].end == pytest.approx(0.119160)
    assert phones[-1].is_silence and phones[-1].end == pytest.approx(1.841390)


def test_wav_and_labels_pair_up(shared_data):
    wav = need(shared_data / "emodb" / "wav" / "03a01Fa.wav")
    label = lablaut_path_for(wav)
    assert label is not None and label.name == "03a01Faxx.lablaut"
    phones = read_lablaut(label, duration=audio_duration(wav))
    assert phones[-1].end == pytest.approx(2.0)


def test_closure_release_aspiration_annotations(tmp_path):
    path = _write(tmp_path, "    0.10   -1 _t\n    0.15   -1 !t\t+asp\n    0.20   -1 tasp\n    0.30   -1 a\t\t2\n    0.35   -1 \t-lar\n    0.40   -1 4\t-sth\n    0.50   -1 E6\n    0.55   -1 d+nas\n    0.60   -1 (gef\n    0.70   -1 .")
    phones = read_lablaut(path)
    assert [(p.phone, round(p.start, 3), round(p.end, 3)) for p in phones] == [
        ("T", 0.0, 0.2), ("AA", 0.2, 0.35), ("R", 0.35, 0.4), ("EH", 0.4, 0.45),
        ("AH", 0.45, 0.5), ("D", 0.5, 0.55), ("SIL", 0.55, 0.7)]
    clipped = read_lablaut(path, duration=0.38)
    assert clipped[-1].phone == "R" and clipped[-1].end == pytest.approx(0.38)
    padded = read_lablaut(path, duration=1.0)
    assert padded[-1].is_silence and padded[-1].end == 1.0


def test_sampa_table_is_canonical():
    for label, phones in SAMPA_TO_ARPABET.items():
        assert phones and all(p in PHONE_SET for p in phones), label
    assert sampa_to_arpabet("y:") == ("UW",) and sampa_to_arpabet("9") == ("AO",)
    assert sampa_to_arpabet("!k") == ("K",) and sampa_to_arpabet("pasp") == ("P",)


def test_bad_label_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_lablaut(tmp_path / "missing.lablaut")
    no_header = tmp_path / "plain.lablaut"
    no_header.write_text("0.1 -1 a\n")
    with pytest.raises(UserError, match="xlabel"):
        read_lablaut(no_header)
    with pytest.raises(UserError, match="line 5"):
        read_lablaut(_write(tmp_path, "abc -1 a\n"))
