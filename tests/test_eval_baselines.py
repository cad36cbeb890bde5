"""Baseline engines and the benchmark's input discovery, without shared data."""
import numpy as np
import pytest

from emoface.animation import Animation
from emoface.arkit import INDEX, NUM_BLENDSHAPES
from emoface.emotion import EmotionTrack
from emoface.errors import UserError


class FakeSpeech:
    """Just what the baselines read: a duration and a prosody with loudness."""

    def __init__(self, loudness, duration):
        from emoface.audio.prosody import Prosody

        n = len(loudness)
        self.duration = duration
        self._prosody = Prosody(times=np.arange(n) / 100.0, loudness_db=np.zeros(n, np.float32),
                                loudness=np.asarray(loudness, np.float32),
                                f0=np.zeros(n, np.float32), voiced=np.zeros(n, bool))

    def prosody(self):
        return self._prosody


def test_baselines_are_registered_engines():
    import emoface

    assert {"neutral", "loudness-jaw", "rules"} <= set(emoface.list_engines())
    assert emoface.list_engines()[:2] == ["neutral", "loudness-jaw"]   # baselines first


def test_neutral_face_is_all_zeros_for_the_whole_utterance():
    from emoface.engines import load_engine

    happy = EmotionTrack.constant("happy")
    anim = load_engine("neutral")._animate(FakeSpeech(np.ones(200), 2.0), happy, 30.0, 0)
    assert isinstance(anim, Animation) and anim.num_frames == 60
    assert not anim.weights.any()


def test_loudness_jaw_follows_loudness_and_nothing_else():
    from emoface.engines import load_engine
    from emoface.engines.baselines import LOUDNESS_JAW_GAIN

    engine = load_engine("loudness-jaw")
    loud = np.concatenate([np.zeros(100), np.ones(100)])   # silent second, loud second
    anim = engine._animate(FakeSpeech(loud, 2.0), EmotionTrack.constant(), 30.0, 0)
    jaw = anim.channel("jawOpen")
    assert jaw[:25].max() == 0.0
    assert jaw[35:] == pytest.approx(LOUDNESS_JAW_GAIN)
    others = np.delete(anim.weights, INDEX["jawOpen"], axis=1)
    assert not others.any()
    again = engine._animate(FakeSpeech(loud, 2.0), EmotionTrack.constant(), 30.0, 7)
    assert np.array_equal(again.weights, anim.weights)       # the seed changes nothing


def test_systems_put_baselines_first_and_pair_transcripts():
    from emoface.eval.runner import systems_for

    labels = [s.label for s in systems_for(["rules", "loudness-jaw", "neutral"])]
    assert labels == ["neutral", "loudness-jaw", "rules", "rules + transcript"]


def test_user_data_layouts(tmp_path):
    from emoface.eval.suites import load_reference_curves, user_suite

    (tmp_path / "audio").mkdir()
    (tmp_path / "blendshape").mkdir()
    for name in ("a", "b"):
        (tmp_path / "audio" / f"{name}.wav").write_bytes(b"")
    np.save(tmp_path / "blendshape" / "a.npy", np.zeros((10, NUM_BLENDSHAPES)))
    (tmp_path / "audio" / "a.txt").write_text("hello there\n")
    suite = user_suite(tmp_path)
    assert [i.id for i in suite.lipsync] == ["user/audio/a"]      # b has no curves
    item = suite.lipsync[0]
    assert item.text == "hello there" and item.curves.endswith("a.npy")
    curves = load_reference_curves(item.curves)
    assert curves.fps == 30.0 and curves.num_frames == 10
    np.save(tmp_path / "blendshape" / "bad.npy", np.zeros((10, 51)))
    with pytest.raises(UserError, match="expected \\(frames, 52\\)"):
        load_reference_curves(tmp_path / "blendshape" / "bad.npy")
    np.save(tmp_path / "a.npy", np.zeros((10, NUM_BLENDSHAPES)))   # a second a.npy elsewhere
    with pytest.raises(UserError, match="several reference curve files"):
        user_suite(tmp_path)
    with pytest.raises(UserError, match="no such folder"):
        user_suite(tmp_path / "missing")


def test_engines_that_cannot_run_are_left_out_with_the_reason(monkeypatch):
    from emoface.engines import _REGISTRY, Capabilities, Engine
    from emoface.eval.runner import systems_for, usable_systems

    class Broken(Engine):
        name = "broken"
        description = "an engine whose weights are missing"
        capabilities = Capabilities()

        def __init__(self):
            raise UserError("model weights not found")

    monkeypatch.setitem(_REGISTRY, "broken", Broken)
    systems, broken = usable_systems(systems_for(["neutral", "broken"]))
    assert [s.label for s in systems] == ["neutral"]
    assert broken == {"broken": "model weights not found"}


def test_the_neural_engine_gets_an_auto_column_and_no_transcript_column():
    from emoface.eval.runner import auto_row_systems, systems_for, takes_explicit_emotion

    systems = systems_for(["neural", "rules", "neutral"])
    assert [s.label for s in systems] == ["neutral", "rules", "rules + transcript", "neural",
                                          "neural (auto emotion)"]
    assert [s.emotion for s in systems] == ["neutral"] * 4 + ["auto"]
    # explicit-emotion rows: engines that take an emotion, in their explicit columns
    assert [s.label for s in systems if takes_explicit_emotion(s)] == [
        "rules", "rules + transcript", "neural"]
    # the auto row: the auto column, and engines that borrow the voice model's answer
    assert [s.label for s in auto_row_systems(systems)] == [
        "rules", "rules + transcript", "neural (auto emotion)"]
