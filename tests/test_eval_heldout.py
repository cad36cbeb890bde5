"""Which inputs a trained model heard, from a tiny fake corpus and fake checkpoints."""
from __future__ import annotations

import json

import numpy as np
import pytest

from emoface.arkit import ARKIT_NAMES
from emoface.eval.heldout import recipe_of, training_data, training_rows
from emoface.eval.suites import Item


def _row(clip_id, source, speaker, split, audio):
    return {"id": clip_id, "audio": str(audio), "sample_rate": 16000, "duration": 2.0,
            "language": "en", "speaker": speaker, "transcript": None, "phones": "p.json",
            "phone_method": "espeak", "emotion": None, "intensity": None, "source": source,
            "licence": "test", "split": split, "targets": "t.npz", "target_fps": 30.0,
            "target_channels": list(ARKIT_NAMES), "target_kind": "teacher",
            "flags": ["teacher"], "features": "f.npz", "group": None, "extra": {}}


@pytest.fixture()
def corpus(tmp_path):
    """A corpus in tmp/corpus whose shared-data audio lives in tmp/data."""
    from emoface.data.manifest import write_manifest

    data = tmp_path / "data"
    rows = [
        _row("tts-1", "tts", "espeak-en-US", "train", "audio/tts-1.flac"),
        _row("tts-2", "tts", "espeak-en+f5", "test", "audio/tts-2.flac"),
        _row("asterisk-a", "asterisk", "asterisk-allison", "train", data / "asterisk" / "a.wav"),
        _row("emodb-03a", "emodb", "emodb-03", "train", data / "emodb" / "03a01Fa.wav"),
        _row("emodb-08a", "emodb", "emodb-08", "train", data / "emodb" / "08a01Na.wav"),
        _row("emodb-13a", "emodb", "emodb-13", "val", data / "emodb" / "13a01Wa.wav"),
        _row("emodb-14a", "emodb", "emodb-14", "test", data / "emodb" / "14a01Ta.wav"),
        _row("librivox-1", "librivox", "librivox-book", "test", data / "librivox" / "1.wav"),
    ]
    (tmp_path / "corpus").mkdir()
    write_manifest(tmp_path / "corpus" / "manifest.jsonl", rows)
    return tmp_path


def _recipe(**over) -> str:
    fields = {"corpus": "corpus", "source_weights": {"tts": 0.5, "asterisk": 0.2, "emodb": 0.3},
              "fold_speaker": "", "train_parts": "animation",
              "init_from": ""}
    fields.update(over)
    lines = ["[data]"]
    for key in ("corpus", "source_weights", "fold_speaker"):
        v = fields[key]
        if isinstance(v, dict):
            v = "{ " + ", ".join(f"{k} = {json.dumps(x)}" for k, x in v.items()) + " }"
        else:
            v = json.dumps(v)
        lines.append(f"{key} = {v}")
    lines += ["", "[train]", f"train_parts = {json.dumps(fields['train_parts'])}",
              f"init_from = {json.dumps(fields['init_from'])}", "", "[model]", ""]
    return "\n".join(lines)


def _checkpoint(path, recipe: str | None):
    from safetensors.numpy import save_file

    meta = {"format": "emoface-model-1"}
    if recipe is not None:
        meta["train_config"] = recipe
    save_file({"w": np.zeros(1, np.float32)}, str(path), metadata=meta)
    return path


def _items(root):
    data = root / "data"

    def emodb(name):
        return Item(f"emodb/{name}", "emodb", "hand", audio=str(data / "emodb" / f"{name}.wav"),
                    speaker=name[:2])

    return {
        "emodb 03 clip": emodb("03a01Fa"),
        "emodb 03 other clip": emodb("03b09Wa"),
        "emodb 13": emodb("13a01Wa"),
        "emodb 14": emodb("14a01Ta"),
        "librivox": Item("librivox/1", "librivox", "alignment",
                         audio=str(data / "librivox" / "1.wav"), speaker="librivox"),
        "asterisk other prompt": Item("asterisk/b", "asterisk", "alignment",
                                      audio=str(data / "asterisk" / "b.wav"), speaker="asterisk"),
        "espeak training voice": Item("espeak/01", "espeak", "exact", speaker="espeak-en-us"),
        "espeak test voice": Item("espeak/02", "espeak", "exact", speaker="espeak-en+f5"),
    }


def _statuses(data, root):
    return {name: data.status(item) for name, item in _items(root).items()}


def test_a_two_stage_recipe_holds_out_only_what_neither_stage_heard(corpus, monkeypatch):
    monkeypatch.chdir(corpus)
    stage1 = _checkpoint(corpus / "stage1.safetensors", _recipe())
    stage2 = _checkpoint(corpus / "stage2.safetensors", _recipe(
        source_weights={"emodb": 0.6, "tts": 0.4}, train_parts="emotion",
        init_from="stage1.safetensors"))
    data = training_data(stage2, bases=(corpus,))
    assert [s.parts for s in data.stages] == ["emotion", "animation"]
    assert data.stages[0].sources == ["emodb", "tts"]      # stage 2 samples no Asterisk ...
    assert _statuses(data, corpus) == {
        "emodb 03 clip": "clip trained on",
        "emodb 03 other clip": "speaker trained on",       # a new sentence by a known speaker
        "emodb 13": None,
        "emodb 14": None,
        "librivox": None,
        "asterisk other prompt": "speaker trained on",     # ... but stage 1 did
        "espeak training voice": "voice trained on",       # espeak voice names ignore case
        "espeak test voice": None,
    }
    assert data.validation_speakers == {"emodb-13"}
    assert stage1.exists()


def test_folds_follow_the_recipe(corpus):
    # A leave-one-speaker-out fold trains on the fold source's other speakers, test split too.
    fold = _checkpoint(corpus / "fold.safetensors", _recipe(fold_speaker="emodb-13"))
    st = _statuses(training_data(fold, bases=(corpus,)), corpus)
    assert st["emodb 13"] is None
    assert st["emodb 14"] == "clip trained on"
    assert st["librivox"] is None                          # other sources keep their split


def test_unknowable_training_is_never_called_held_out(corpus):
    assert training_data(_checkpoint(corpus / "bare.safetensors", None), bases=(corpus,)) is None
    elsewhere = _checkpoint(corpus / "x.safetensors", _recipe(corpus="no-such-corpus"))
    assert training_data(elsewhere, bases=(corpus,)) is None
    # A first stage that is not here: its part of the data is taken as the whole train split.
    orphan = _checkpoint(corpus / "orphan.safetensors", _recipe(
        source_weights={"emodb": 1.0}, init_from="runs/gone.safetensors"))
    data = training_data(orphan, bases=(corpus,))
    assert any("gone.safetensors" in n for n in data.notes)
    st = _statuses(data, corpus)
    assert st["asterisk other prompt"] == "speaker trained on"
    assert st["emodb 14"] is None


def test_recipe_of_reads_the_stored_toml():
    recipe = recipe_of({"train_config": _recipe(fold_speaker="emodb-03")})
    assert recipe["fold_speaker"] == "emodb-03" and recipe["train_parts"] == "animation"
    assert recipe_of({}) is None
    assert recipe_of({"train_config": "not = [toml"}) is None


def test_training_rows_match_the_training_loops_own_selection(corpus, monkeypatch):
    """The filter mirrors emoface.train.loop.load_clips: pin the two together."""
    from emoface.data.manifest import read_manifest
    from emoface.train import loop
    from emoface.train.loop import TrainConfig, load_clips

    monkeypatch.setattr(loop, "load_clip", lambda corpus, row, keep_audio, phonetic=False: row)
    rows = read_manifest(corpus / "corpus")
    every = {"tts": 1, "asterisk": 1, "emodb": 1, "librivox": 1}
    for over in ({}, {"fold_speaker": "emodb-14"}, {"fold_speaker": "emodb-03"},
                 {"source_weights": {"tts": 1, "asterisk": 0.5, "emodb": 0}},
                 {"source_weights": {"emodb": 1}, "fold_speaker": "emodb-14"}):
        over = {"source_weights": every, **over}
        cfg = TrainConfig(corpus=str(corpus / "corpus"), **over)
        mine = training_rows(over, rows)
        theirs = load_clips(cfg, "train", keep_audio=False, quiet=True)
        assert sorted(r["id"] for r in mine) == sorted(r["id"] for r in theirs), over
        assert {r["source"] for r in theirs} <= {s for s, w in over["source_weights"].items()
                                                 if w > 0}


def test_a_frozen_record_answers_like_the_recipe_without_the_corpus(corpus, monkeypatch):
    """Bundled weights carry what they heard: a checkout without corpus/ or runs/ must
    still tell held-out inputs, and a record of other weights must not be trusted."""
    import shutil

    from emoface.eval.heldout import read_record, record_path, write_record

    monkeypatch.chdir(corpus)
    monkeypatch.setenv("EMOFACE_SHARED_DATA", str(corpus / "data"))
    _checkpoint(corpus / "stage1.safetensors", _recipe())
    stage2 = _checkpoint(corpus / "stage2.safetensors", _recipe(
        source_weights={"emodb": 0.6, "tts": 0.4}, train_parts="emotion",
        init_from="stage1.safetensors"))
    live = training_data(stage2, bases=(corpus,))
    write_record(live, stage2)
    assert record_path(stage2).name == "stage2.training.json"

    shutil.rmtree(corpus / "corpus")                     # as on a fresh clone
    (corpus / "stage1.safetensors").unlink()
    assert training_data(stage2, bases=(corpus,)) is None
    frozen = read_record(stage2)
    assert _statuses(frozen, corpus) == _statuses(live, corpus)
    assert frozen.summary() == live.summary()            # the tts clip still counts

    _checkpoint(stage2, _recipe(fold_speaker="emodb-03"))   # retrained weights
    assert read_record(stage2) is None
    record_path(stage2).write_text("{not json")
    assert read_record(stage2) is None


def test_the_bundled_model_ships_the_record_of_its_own_weights():
    from emoface.engines.neural.checkpoint import BUNDLED_MODEL
    from emoface.eval.heldout import model_training_data, read_record

    if not BUNDLED_MODEL.exists():
        pytest.skip("no bundled model")
    frozen = read_record(BUNDLED_MODEL)
    assert frozen is not None, "emoface/assets/model.training.json is missing or stale"
    assert frozen.stages and frozen.speakers and frozen.summary()["clips"] > 0
    assert model_training_data() is not None
    live = training_data(BUNDLED_MODEL)
    if live is None or live.notes:
        pytest.skip("the corpus or the training runs are not here to check the record against")
    from emoface.eval.suites import quick_suite
    from emoface.paths import shared_data_dir

    if not shared_data_dir().exists():
        pytest.skip("no shared data")
    suite = quick_suite()
    items = [i for group in (suite.lipsync, suite.expression, suite.voice_emotion)
             for i in group]
    assert {i.id: frozen.status(i) for i in items} == {i.id: live.status(i) for i in items}


def test_a_stage_started_from_bundled_weights_takes_over_their_record(corpus, monkeypatch):
    """A fine-tune of the bundled weights (started from a copy carrying its record) heard
    what the record says plus its own stage, though the record's runs are gone."""
    from emoface.eval.heldout import write_record

    monkeypatch.chdir(corpus)
    monkeypatch.setenv("EMOFACE_SHARED_DATA", str(corpus / "data"))
    _checkpoint(corpus / "stage1.safetensors", _recipe(source_weights={"emodb": 1.0}))
    base = _checkpoint(corpus / "base.safetensors", _recipe(
        source_weights={"asterisk": 1.0}, init_from="stage1.safetensors"))
    write_record(training_data(base, bases=(corpus,)), base)
    (corpus / "stage1.safetensors").unlink()
    tuned = _checkpoint(corpus / "tuned.safetensors", _recipe(
        source_weights={"tts": 1.0}, init_from="base.safetensors"))
    data = training_data(tuned, bases=(corpus,))
    assert [s.weights.rsplit("/", 1)[-1] for s in data.stages] == [
        "tuned.safetensors", "base.safetensors", "stage1.safetensors"]
    status = _statuses(data, corpus)
    assert status["emodb 03 clip"] == "clip trained on"          # from the record
    assert status["asterisk other prompt"] == "speaker trained on"
    assert status["espeak training voice"] == "voice trained on"  # this stage
    assert status["librivox"] is None and not data.notes
