"""Features: the log-mel definition, the content-addressed cache, teacher variants."""
from __future__ import annotations

import numpy as np

from emoface.audio import features as audio_features
from emoface.audio.features import N_MELS, log_mel, mel_filterbank
from emoface.data import features, teacher
from emoface.emotion import EMOTIONS


def tone(freq: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_frames_shape_and_grid():
    for n in (0, 1, 159, 160, 161, 16000, 16001):
        out = log_mel(np.zeros(n, np.float32))
        assert out.shape == (-(-n // 160), N_MELS) and out.dtype == np.float32
    silent = log_mel(np.zeros(1600, np.float32))
    assert np.allclose(silent, np.log(1e-6))


def test_tone_lands_in_its_band_and_is_centred():
    edges = np.argmax(mel_filterbank(), axis=0) * 16000 / 512   # peak bin of each band, Hz
    for freq in (300.0, 1000.0, 3000.0, 6000.0):
        mel = log_mel(tone(freq))
        band = int(np.argmax(mel[50]))
        assert abs(edges[band] - freq) < 0.1 * freq + 40
    # a click at 0.5 s peaks in frame 50 (frames are centred at k * 10 ms)
    click = np.zeros(16000, np.float32)
    click[8000] = 1.0
    assert int(np.argmax(log_mel(click).sum(1))) == 50


def test_long_input_in_blocks_matches_one_block(monkeypatch):
    x = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32) * 0.1
    whole = log_mel(x)
    monkeypatch.setattr(audio_features, "_BLOCK", 37)
    assert np.allclose(log_mel(x), whole, atol=1e-5)


def test_cache_is_content_addressed(tmp_path):
    x = tone(440.0, 0.5)
    rel, feats = features.cached(x, tmp_path)
    assert (tmp_path / rel).is_file() and rel.startswith("features/")
    assert feats["logmel"].dtype == np.float16 and feats["logmel"].shape == (50, N_MELS)
    assert set(feats) >= {"f0_hz", "f0_st", "voiced", "loudness", "loudness_db"}
    assert abs(float(np.median(feats["f0_hz"][feats["voiced"]])) - 440.0) < 5.0
    assert abs(float(np.median(feats["f0_st"][feats["voiced"]])) - 12 * np.log2(4.4)) < 0.2
    rel2, again = features.cached(x.copy(), tmp_path)
    assert rel2 == rel and np.array_equal(again["logmel"], feats["logmel"])
    rel3, _ = features.cached(x * 0.5, tmp_path)
    assert rel3 != rel
    loaded = features.load(tmp_path / rel)
    assert loaded["logmel"].dtype == np.float32
    assert np.abs(loaded["logmel"] - log_mel(x)).max() < 0.01   # float16 is lossless enough


def test_exchange_set_and_seed():
    variants = teacher.exchange_variants()
    assert len(variants) == 22 and variants[0] == ("neutral", 0.0)
    assert {e for e, _ in variants} == set(EMOTIONS)
    assert teacher.clip_seed("tts-000001") == teacher.clip_seed("tts-000001")
    assert teacher.clip_seed("tts-000001") != teacher.clip_seed("tts-000002")
    assert teacher.variant_key("happy", 0.35) == "happy:0.35"
    assert teacher.variant_key("neutral", 0.9) == "neutral"
