"""Issue 19: the voice emotion's confidence means something. Calibrated probabilities and
intensity (emoface/assets/voice_calibration.json); noise, music, silence and near-uniform
posteriors give neutral at low intensity; ``emoface emotion --json`` stays JSON."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from test_cli import run

from emoface.audio.nonspeech import non_speech_signals
from emoface.audio.speech import Speech
from emoface.emotion import EMOTIONS
from emoface.engines import engine_class
from emoface.engines.neural.calibration import (
    CALIBRATION_ASSET,
    Calibration,
    bundled_calibration,
    expected_calibration_error,
)
from emoface.engines.neural.engine import (
    OUTPUT_FPS,
    Predictor,
    auto_amounts,
    calibrated_rows,
    model_inputs,
)
from emoface.engines.neural.voice_emotion import VoiceEmotion

NON_SPEECH_MAX_INTENSITY = 0.05   # the stated bound for noise, music and silence
needs_model = pytest.mark.skipif(engine_class("neural").unavailable_reason() is not None,
                                 reason="bundled model not installed")


def _no_nan(text: str):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_ece_on_a_hand_made_example():
    conf = [0.85, 0.85, 0.65, 0.65, 0.25]
    right = [True, False, True, True, False]
    # bins (0.8, 0.9]: acc 0.5 vs 0.85; (0.6, 0.7]: 1.0 vs 0.65; (0.2, 0.3]: 0 vs 0.25
    assert expected_calibration_error(conf, right) == pytest.approx(
        0.4 * 0.35 + 0.4 * 0.35 + 0.2 * 0.25)
    assert expected_calibration_error([0.75] * 4, [1, 1, 1, 0]) == pytest.approx(0.0)
    assert expected_calibration_error([1.0, 1.0], [0, 0]) == pytest.approx(1.0)
    assert expected_calibration_error([], []) == 0.0


def test_the_calibration_asset_loads_and_says_where_it_comes_from():
    assert CALIBRATION_ASSET.exists()
    cal = Calibration.load()
    assert cal == bundled_calibration()
    assert 0.05 < cal.temperature < 20
    assert 1 / len(EMOTIONS) <= cal.p_min < 1 and 0 < cal.min_intensity < 1
    record = json.loads(CALIBRATION_ASSET.read_text())
    assert "13 and 14 not used" in record["fitted_on"]


def test_calibrated_probabilities_stay_probabilities():
    cal = bundled_calibration()
    raw = np.array([[0.36, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.04], [np.nan] * 8])
    p = cal.probs(raw)
    assert np.allclose(p.sum(1), 1) and np.isfinite(p).all()
    assert p[0].argmax() == 0 and np.allclose(p[1], 1 / 8)    # a broken row is uniform


@pytest.mark.parametrize("top", [1 / 8, 0.2, 0.36])
def test_a_near_uniform_posterior_is_neutral_at_low_intensity(top):
    rest = (1 - top) / 7
    row = np.array([[rest] * 3 + [top] + [rest] * 4 + [0.74]])   # "angry 0.36, intensity 0.74"
    probs, intensity = calibrated_rows(row, [0.6], bundled_calibration())
    assert intensity[0] < NON_SPEECH_MAX_INTENSITY
    assert intensity[0] < bundled_calibration().min_intensity     # the verdict: neutral


def test_a_sure_posterior_keeps_its_emotion():
    row = np.array([[0.005] * 3 + [0.965] + [0.005] * 4 + [0.8]])
    probs, intensity = calibrated_rows(row, [0.6], bundled_calibration())
    assert probs[0].argmax() == 3 and intensity[0] > 0.5


def test_unvoiced_windows_are_neutral_whatever_the_branch_says():
    row = np.array([[0.005] * 3 + [0.965] + [0.005] * 4 + [0.8]])
    _, intensity = calibrated_rows(row, [0.0], bundled_calibration())
    assert intensity[0] == 0.0


@pytest.fixture(scope="module")
def voice():
    return VoiceEmotion()


@needs_model
@pytest.mark.parametrize("name", list(non_speech_signals()))
def test_noise_music_and_silence_are_heard_as_neutral(voice, name):
    heard = voice.hear(Speech(non_speech_signals()[name], source=name), timeline=True)
    assert heard.emotion == "neutral" and heard.intensity < NON_SPEECH_MAX_INTENSITY, heard
    assert heard.top == max(heard.probs, key=heard.probs.get)
    assert all(r["emotion"] == "neutral" for r in heard.timeline)
    track = voice.heard_track(Speech(non_speech_signals()[name]))   # the rule engine's auto
    assert float(np.abs(track.amounts).max()) < NON_SPEECH_MAX_INTENSITY


@needs_model
@pytest.mark.parametrize("name", ["white noise", "music"])
def test_auto_leaves_the_neural_face_neutral_on_noise_and_music(voice, name):
    speech = Speech(non_speech_signals()[name])
    pred: Predictor = voice.predictor
    mel, prosody = model_inputs(speech.samples, speech.prosody(), pred.cfg.n_phonetic)
    amounts = auto_amounts(pred, mel, prosody, np.arange(60) / OUTPUT_FPS)
    assert float(amounts[:, 1:].sum(1).max()) < NON_SPEECH_MAX_INTENSITY
    assert np.allclose(amounts.sum(1), 1)


@needs_model
def test_emotion_json_on_noise_is_valid_json(tmp_path):
    wav = tmp_path / "noise.wav"
    sf.write(wav, non_speech_signals()["white noise"], 16000)
    result = run("emotion", wav, "--json", "--timeline")
    assert result.returncode == 0, result.stderr
    record = _no_nan(result.stdout)
    assert record["emotion"] == "neutral" and record["intensity"] < NON_SPEECH_MAX_INTENSITY
    assert record["top"] in EMOTIONS and 0 < record["probability"] <= 1
    assert abs(sum(record["probs"].values()) - 1) < 1e-2
    assert set(record["raw"]) == {"probs", "intensity"}
