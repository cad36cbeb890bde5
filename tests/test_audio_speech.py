"""Speech: the utterance object engines consume, with its phone source recorded."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import need

from emoface.audio import Speech, espeak, read_lablaut
from emoface.audio.activity import speech_activity, speech_segments
from emoface.errors import UserError

CLIP = "speech/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
TEXT = "he was not an ill disposed young man"


def test_from_file_with_text_aligns(shared_data):
    speech = Speech.from_file(need(shared_data / CLIP), text=TEXT)
    phones = speech.phones()
    assert speech.phone_method == "alignment"
    assert speech.phones() is phones                       # computed once
    assert phones[-1].end == pytest.approx(speech.duration)
    assert len(speech.prosody()) == int(np.ceil(speech.duration * 100))


def test_from_file_without_text_uses_phone_loop(shared_data):
    speech = Speech.from_file(need(shared_data / CLIP))
    assert speech.phones() and speech.phone_method == "phone_loop"


def test_given_phones_win(shared_data):
    wav = need(shared_data / "emodb" / "wav" / "03a01Fa.wav")
    labels = read_lablaut(shared_data / "emodb" / "lablaut" / "03a01Faxx.lablaut", duration=2.0)
    speech = Speech.from_file(wav, text="Der Lappen liegt auf dem Eisschrank", phones=labels,
                              phone_source="lablaut")
    assert speech.sample_rate == 16000 and speech.duration == pytest.approx(2.0)
    assert speech.phones() == labels and speech.phone_method == "lablaut"


@pytest.mark.skipif(not espeak.is_available(), reason="espeak-ng not installed")
def test_synthesized_speech_carries_exact_phones():
    speech = Speech.synthesize("Good morning, everyone.")
    phones = speech.phones()
    assert speech.phone_method == "espeak" and speech.sample_rate == 16000
    assert phones[-1].end == pytest.approx(speech.duration, abs=1e-3)
    assert next(p.word for p in phones if p.word) == "Good"


def test_resamples_and_mixes_down():
    stereo = np.zeros((8000, 2), np.float32)
    speech = Speech(stereo, sample_rate=8000, source="test")
    assert speech.samples.shape == (16000,) and speech.duration == pytest.approx(1.0)


def test_silence(tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(path, np.zeros(16000 * 2, np.float32), 16000)
    speech = Speech.from_file(path, text="hello")
    assert not speech.has_speech()
    assert [p.phone for p in speech.phones()] == ["SIL"] and speech.phone_method == "silence"
    with pytest.raises(UserError, match="only silence") as info:
        speech.require_speech()
    assert str(path) in str(info.value)


def test_activity_finds_the_tone():
    t = np.arange(48000) / 16000
    x = (0.3 * np.sin(2 * np.pi * 300 * t) * ((t > 1) & (t < 2))).astype(np.float32)
    active = speech_activity(x)
    assert not active[:80].any() and active[110:190].all() and not active[220:].any()
    (start, end), = speech_segments(x)
    assert 0.8 < start < 1.0 and 2.0 < end < 2.2
