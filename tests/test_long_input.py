"""Long inputs in bounded memory (emoface/engines/long_input.py): a file read in windows
matches the whole file, windows join without jumps, and a seed fixes the result. The
window length is a parameter, so a 3-minute input with 40 s windows stands in for hours."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emoface.animation import Animation, frame_count
from emoface.audio.io import AudioBlocks, audio_windows, load_audio
from emoface.emotion import EmotionTrack, parse_emotion
from emoface.engines import Capabilities, Engine, base, load_engine
from emoface.engines.long_input import OVERLAP_S, Joiner, window_seed
from emoface.engines.nonverbal import smooth_noise
from emoface.errors import UserError

SECONDS = 180.0
WINDOW_S = 40.0


def _syllables(sr: int, seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like audio: voiced bursts at a syllable rate, with pauses every few seconds."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.3 * t)
    voice = np.sin(2 * np.pi * np.cumsum(f0) / sr) + 0.3 * rng.normal(size=len(t))
    envelope = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 2
    envelope *= (np.sin(2 * np.pi * 0.21 * t) > -0.6)   # pauses
    return (0.3 * voice * envelope).astype(np.float32)


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "long.wav"
    sf.write(path, _syllables(22050, SECONDS), 22050)   # resampled while read
    return path


class _Probe(Engine):
    """A test engine: jaw from the window's smoothed loudness, seeded smooth head and eyes, and the
    emotion track it is given, so a join shows in every array the Joiner mixes."""

    name = "probe"
    description = "test"
    capabilities = Capabilities(samples=True)

    def _animate(self, speech, track, fps, seed):
        n = frame_count(speech.duration, fps)
        rng = np.random.default_rng(seed)
        hop = speech.sample_rate / fps
        x = speech.samples
        rms = np.array([np.sqrt(np.mean(x[int(i * hop):int((i + 1) * hop) + 1] ** 2))
                        for i in range(n)])
        loud = np.convolve(rms, np.ones(9) / 9, mode="same")
        w = np.zeros((n, 52), np.float32)
        w[:, 24] = loud / max(loud.max(), 1e-6)   # normalised per window, as engines do
        head = 0.05 * np.stack([smooth_noise(n, fps, 2.0, rng) for _ in range(3)], 1)
        eyes = 0.05 * np.stack([smooth_noise(n, fps, 1.0, rng) for _ in range(6)], 1)
        t = np.arange(n) / fps
        probs = (track or EmotionTrack.constant("neutral")).at(t)
        return Animation(w, fps, head=head, eyes=eyes, emotion_probs=probs)


def _steps(anim: Animation) -> np.ndarray:
    """Largest frame-to-frame change per frame over weights, head and eyes."""
    a = np.concatenate([anim.weights, anim.head, anim.eyes], 1)
    return np.abs(np.diff(a, axis=0)).max(1)


def _join_frames(fps: float) -> np.ndarray:
    """Frames inside the overlaps, where windows are crossfaded."""
    hop = WINDOW_S - OVERLAP_S
    starts = np.arange(hop, SECONDS - WINDOW_S / 2, hop)
    return np.concatenate([np.arange(int(s * fps) - 1, int((s + OVERLAP_S) * fps))
                           for s in starts])


def test_the_block_reader_gives_the_samples_load_audio_gives(long_wav):
    whole = load_audio(long_wav)
    blocks = np.concatenate(list(AudioBlocks(long_wav)))
    assert len(blocks) == len(whole) and np.abs(blocks - whole).max() <= 1e-5
    wins = list(audio_windows(long_wav, WINDOW_S, OVERLAP_S))
    assert [w.index for w in wins] == list(range(len(wins)))
    assert [w.last for w in wins] == [False] * (len(wins) - 1) + [True]
    for w in wins:
        assert np.abs(w.samples - whole[w.start:w.start + len(w.samples)]).max() <= 1e-5
        assert len(w.samples) <= 1.5 * WINDOW_S * 16000
    assert wins[-1].start + len(wins[-1].samples) == len(whole)


def test_a_short_file_is_one_window(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, _syllables(16000, 3.0), 16000)
    (win,) = audio_windows(path, WINDOW_S, OVERLAP_S)
    assert win.start == 0 and win.last and np.array_equal(win.samples, load_audio(path))


@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_windows_join_into_one_take_without_jumps(long_wav, fps):
    anim = _Probe().animate(long_wav, "neutral", fps=fps, seed=3, window_s=WINDOW_S)
    seconds = len(load_audio(long_wav)) / 16000
    assert anim.num_frames == frame_count(seconds, fps)
    assert anim.meta["windows"]["count"] == 5 and anim.meta["duration"] == round(seconds, 4)
    steps = _steps(anim)
    joins = _join_frames(fps)
    inside = np.setdiff1d(np.arange(len(steps)), joins)
    assert steps[joins].max() <= steps[inside].max()
    # the jaw follows the audio across the joins as it does inside windows
    assert np.abs(anim.weights[:, 24]).max() > 0.1


def test_a_seed_fixes_a_windowed_take(long_wav):
    a = _Probe().animate(long_wav, "happy", seed=5, window_s=WINDOW_S)
    b = _Probe().animate(long_wav, "happy", seed=5, window_s=WINDOW_S)
    c = _Probe().animate(long_wav, "happy", seed=6, window_s=WINDOW_S)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.head, b.head)
    assert np.array_equal(a.eyes, b.eyes)
    assert not np.array_equal(a.head, c.head)
    assert len({window_seed(5, k) for k in range(5)}) == 5


def test_keyframed_emotion_is_read_in_input_time(long_wav):
    spec = "0:neutral,50:happy:0.8,130:sad:0.6"
    anim = _Probe().animate(long_wav, spec, window_s=WINDOW_S)
    expected = parse_emotion(spec).track.at(anim.times)
    assert np.abs(anim.emotion_probs - expected).max() < 1e-5


def test_the_loudness_jaw_baseline_windows_end_to_end(long_wav):
    engine = load_engine("loudness-jaw")
    a = engine.animate(long_wav, "auto", window_s=WINDOW_S)
    b = engine.animate(long_wav, "auto", window_s=WINDOW_S)
    assert np.array_equal(a.weights, b.weights)
    whole = engine.animate(long_wav, "auto")          # 3 min: the one-shot path
    assert a.num_frames == whole.num_frames == frame_count(len(load_audio(long_wav)) / 16000, 30)
    jaw, jaw_whole = a.channel("jawOpen"), whole.channel("jawOpen")
    assert np.corrcoef(jaw, jaw_whole)[0, 1] > 0.95
    joins = _join_frames(30.0)
    assert np.corrcoef(jaw[joins], jaw_whole[joins])[0, 1] > 0.95


def test_a_transcript_on_a_windowed_input_is_refused_in_one_line(long_wav):
    with pytest.raises(UserError, match="transcript"):
        load_engine("rules").animate(long_wav, "neutral", text="hello there",
                                     window_s=WINDOW_S)


def test_the_joiner_keeps_each_windows_own_phones():
    joiner = Joiner(30.0, 4.0)
    for k in range(3):
        n = 40 * 30 if k < 2 else 50 * 30
        anim = Animation(np.zeros((n, 52), np.float32), 30.0,
                         meta={"phones": [[float(s), float(s) + 1, "AH"] for s in range(0, n // 30)],
                               "phone_method": "phone_loop"})
        joiner.add(anim, 36.0 * k, last=k == 2)
    anim = joiner.animation(40.0, 4.0)
    starts = [p[0] for p in anim.meta["phones"]]
    assert starts == sorted(starts) and len(starts) == len(set(starts))
    assert starts[0] == 0 and starts[-1] == 72 + 49
    assert anim.meta["phone_method"] == "phone_loop" and anim.num_frames == 122 * 30


def test_only_files_longer_than_the_threshold_take_windows(long_wav, monkeypatch):
    assert "windows" not in _Probe().animate(long_wav, "neutral").meta
    monkeypatch.setattr(base, "LONG_INPUT_S", 60.0)
    anim = _Probe().animate(long_wav, "neutral")
    assert anim.meta["windows"]["window_s"] == base.WINDOW_S
    assert anim.num_frames == frame_count(SECONDS, 30)
