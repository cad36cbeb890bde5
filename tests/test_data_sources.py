"""Source plans and labels: TTS plan, sentence list, name parsers, shared-data listings,
stats and the data commands."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import need

from emoface.audio.flite import available as flite_available
from emoface.audio.flite import parse_segments
from emoface.cli import main
from emoface.data.sentences import load_sentences
from emoface.data.sources import SOURCES, captured, emodb, flite, tts
from emoface.data.sources.asterisk import spoken
from emoface.emotion import EMOTIONS

# the sentence-list generator lives outside the package, in tools/
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import sentences  # noqa: E402


def plan(hours: float, per: int = 2, seed: int = 1):
    return tts.plan(None, SimpleNamespace(tts_hours=hours, tts_clips_per_sentence=per,
                                          tts_seed=seed))


def test_tts_plan_is_stable_and_balanced():
    small, large = plan(0.2), plan(0.6)
    assert [i.params for i in small] == [i.params for i in large[:len(small)]]
    assert plan(0.2) == small
    est = sum(tts.estimate_seconds(i.params["text"], i.params["rate"]) for i in large)
    assert 0.6 * 3600 <= est < 0.6 * 3600 * 1.05
    assert set(Counter(i.params["emotion"] for i in large)) == set(EMOTIONS)
    assert all(0.3 <= i.params["intensity"] <= 1.0 for i in large)
    groups: dict[str, list] = {}
    for i in large:
        groups.setdefault(i.params["group"], []).append(i.params)
    for members in groups.values():   # a group: one sentence, one voice, different emotions
        assert len({m["text"] for m in members}) == 1 and len({m["speaker"] for m in members}) == 1
        assert len({m["emotion"] for m in members}) == len(members)
    splits = {tts.split_of(i.params["variant"]) for i in large}
    assert splits == {"train", "val", "test"}


def test_tts_presets_move_the_voice_the_documented_way():
    rng = lambda: np.random.default_rng(0)
    neutral = tts._style("neutral", 1.0, rng())
    angry, sad = tts._style("angry", 1.0, rng()), tts._style("sad", 1.0, rng())
    assert angry["rate"] > neutral["rate"] > sad["rate"]
    assert angry["volume"] > neutral["volume"] > sad["volume"]
    assert angry["pitch_range"] > neutral["pitch_range"] > sad["pitch_range"]
    assert angry["pitch"] > sad["pitch"]
    weak = tts._style("angry", 0.3, rng())
    assert neutral["rate"] < weak["rate"] < angry["rate"]


def test_tts_speakers_and_held_out_variants():
    variants = tts.installed_variants()
    assert not set(variants) & tts.EXCLUDED_VARIANTS
    names = [s for s, _, _ in tts.speakers()]
    assert len(names) == len(set(names))
    assert set(tts.VAL_VARIANTS).isdisjoint(tts.TEST_VARIANTS)


def test_flite_plan_follows_the_tts_plan_rules():
    def flite_plan(hours):
        return flite.plan(None, SimpleNamespace(flite_hours=hours, tts_clips_per_sentence=2))

    if not flite_available():
        pytest.skip("flite is not installed")
    small, large = flite_plan(0.05), flite_plan(0.2)
    assert [i.params for i in small] == [i.params for i in large[:len(small)]]
    assert {i.source for i in large} == {"flite"} and large[0].id == "flite-000000"
    assert {i.params["voice"] for i in large} == set(flite.VOICES)
    assert flite_plan(0.0) == []
    # the emotion's style reaches flite's settings: slower and lower when sad
    rng = lambda: np.random.default_rng(0)
    angry, _ = flite.style_params("slt", "angry", 1.0, rng())
    sad, _ = flite.style_params("slt", "sad", 1.0, rng())
    assert sad["stretch"] > 1.0 > angry["stretch"]
    assert angry["f0_mean"] > flite.VOICES["slt"][0] > sad["f0_mean"]
    assert angry["f0_std"] > sad["f0_std"] and angry["gain"] > sad["gain"]


def test_flite_segments_become_canonical_phones():
    phones = parse_segments("pau:0.184 dh:0.246 ax:0.276 b:0.345 oy:0.534 em:0.6 pau:0.7\n")
    assert [p.phone for p in phones] == ["SIL", "DH", "AH", "B", "OY", "M", "SIL"]
    assert phones[0].start == 0.0 and phones[2].start == pytest.approx(0.246)
    assert all(a.end == b.start for a, b in zip(phones, phones[1:]))


def test_flite_clip_has_phones_covering_its_audio():
    if not flite_available():
        pytest.skip("flite is not installed")
    item = flite.plan(None, SimpleNamespace(flite_hours=0.01))[0]
    clip = flite.load(item)
    duration = len(clip.samples) / clip.sample_rate
    assert clip.sample_rate == 16000 and clip.split == "train"
    assert clip.phones[0].start == 0.0 and clip.phones[-1].end == pytest.approx(duration, abs=0.01)
    assert sum(not p.is_silence for p in clip.phones) >= 5
    assert np.max(np.abs(clip.samples)) <= 1.0
    # the first speech phone starts where the audio gets loud (times are the audio's own)
    first = next(p for p in clip.phones if not p.is_silence)
    frame = int(0.01 * clip.sample_rate)
    energy = np.sqrt(np.mean(clip.samples[:len(clip.samples) // frame * frame]
                             .reshape(-1, frame) ** 2, axis=1))
    onset = np.argmax(energy > 0.1 * energy.max()) * 0.01
    assert abs(onset - first.start) < 0.08


def test_sentence_list():
    lines = load_sentences()
    assert len(lines) >= 3000 and len(set(lines)) == len(lines)
    words = np.array([len(sentences._words(s)) for s in lines])
    assert words.min() <= 3 and words.max() >= 25 and 6 <= np.median(words) <= 16
    phones = Counter(p for s in lines[:1500] for p in (sentences.phones_of(s) or []) if p != "#")
    from emoface.audio.phones import CONSONANTS, VOWELS
    assert set(VOWELS + CONSONANTS) <= set(phones)       # every English phone, often
    assert min(phones[p] for p in VOWELS + CONSONANTS) >= 20


def test_sentence_generator_is_deterministic():
    a = sentences.generate(candidates=1500, count=60, seed=3)
    assert a == sentences.generate(candidates=1500, count=60, seed=3)
    assert a[: len(sentences.HAND_WRITTEN.strip().splitlines())] == \
        [s.strip() for s in sentences.HAND_WRITTEN.strip().splitlines()]


def test_name_parsers():
    assert emodb.parse_name("03a01Fa") == ("03", "a01", "F")
    assert emodb.parse_name("readme") is None
    assert [emodb.split_of(s) for s in ("03", "13", "14")] == ["train", "val", "test"]
    rav = captured.etf_labels("01-01-06-01-02-01-24")
    assert (rav["emotion"], rav["intensity"], rav["split"], rav["text"]) == \
        ("fearful", 0.5, "test", "Dogs are sitting by the door.")
    assert captured.etf_labels("01-01-02-02-01-01-03")["emotion"] == "neutral"   # calm
    hdtf = captured.etf_labels("WRA_KellyAyotte_000")
    assert hdtf["speaker"] == "hdtf-WRA_KellyAyotte" and hdtf["emotion"] is None
    assert spoken("press * then # (beep)") == "press star then pound"


def test_shared_emodb_listing(shared_data):
    root = need(shared_data / "emodb")
    items = SOURCES["emodb"].plan(root, None)
    assert len(items) >= 408
    clip = SOURCES["emodb"].load(next(i for i in items if i.id == "emodb-03a01Fa"))
    assert clip.emotion == "happy" and clip.split == "train" and clip.language == "de"
    assert abs(len(clip.samples) / 16000 - 2.0) < 0.01 and clip.sample_rate == 22050
    bored = SOURCES["emodb"].load(next(i for i in items if i.id[11] == "L"))
    assert (bored.emotion, bored.intensity, "boredom" in bored.flags) == ("neutral", 0.2, True)


def test_shared_speech_listings(shared_data):
    ast = need(shared_data / "speech" / "asterisk")
    items = SOURCES["asterisk"].plan(ast, None)
    assert len(items) >= 558 and all(i.id.startswith("asterisk-") for i in items)
    lib = need(shared_data / "speech" / "librivox")
    items = SOURCES["librivox"].plan(lib, None)
    assert len(items) == 5 and all(i.params["text"] for i in items)


def test_stats_command(tmp_path, capsys):
    from test_data_manifest import row

    from emoface.data.manifest import write_manifest
    rows = [row(), row(id="tts-000001", source="tts", speaker="espeak-en-us+m3", split="val",
                       flags=["teacher", "synthetic"], emotion="angry", duration=3.5),
            row(id="emodb-03a01La", emotion="neutral", intensity=0.2,
                flags=["teacher", "acted", "boredom"])]
    write_manifest(tmp_path / "manifest.jsonl", rows)
    assert main(["data", "stats", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "speaker-disjoint splits: yes" in out and "neutral (boredom)" in out
    assert (tmp_path / "stats.png").stat().st_size > 10000
    assert main(["data", "stats", str(tmp_path), "--json", "--png", "none"]) == 0


@pytest.mark.parametrize("argv, message", [
    (["data", "build", "nosuch", "--out", "x"], "unknown corpus source 'nosuch'"),
    (["data", "build", "etf3d", "--out", "x"], "needs a folder"),
    (["data", "build", "etf3d=/no/such/folder", "--out", "x"], "does not exist"),
    (["data", "build", "tts=foo", "--out", "x"], "tts takes no path"),
    (["data", "build", "flite=foo", "--out", "x"], "flite takes no path"),
    (["data", "stats", "/no/such/corpus"], "does not exist"),
])
def test_bad_arguments_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_build_command_small(tmp_path, capsys):
    assert main(["data", "build", "tts", "--out", str(tmp_path), "--tts-hours", "0.001",
                 "--quiet", "--workers", "1"]) == 0
    assert "tts" in capsys.readouterr().out
    assert main(["data", "build", "tts", "--out", str(tmp_path), "--tts-hours", "0.001",
                 "--quiet"]) == 0
    assert "nothing to do" in capsys.readouterr().out
