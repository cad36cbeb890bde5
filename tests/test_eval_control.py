"""Emotion-control metrics on hand-made curves with known answers."""
import numpy as np
import pytest

from emoface.arkit import INDEX, NUM_BLENDSHAPES
from emoface.eval import control


def _talking(frames=90, **constant):
    """A jaw opening and closing three times a second, plus constant channels."""
    w = np.zeros((frames, NUM_BLENDSHAPES), np.float32)
    w[:, INDEX["jawOpen"]] = 0.3 * (1 - np.cos(2 * np.pi * np.arange(frames) / 10))
    for name, value in constant.items():
        w[:, INDEX[name]] = value
    return w


def test_an_emotion_that_only_adds_expression_keeps_the_mouth_exactly():
    neutral = _talking()
    happy = _talking(mouthSmileLeft=0.6, mouthSmileRight=0.6, cheekSquintLeft=0.4)
    louder = neutral.copy()
    louder[:, INDEX["jawOpen"]] = 0.1 + 0.5 * neutral[:, INDEX["jawOpen"]]  # same shape, scaled
    frozen = neutral.copy()
    frozen[:, INDEX["jawOpen"]] = 0.2                                       # mouth stops moving
    r = control.content_preserved(neutral, {"happy": happy, "louder": louder, "frozen": frozen})
    assert r["happy"] == pytest.approx(1.0)
    assert r["louder"] == pytest.approx(1.0)
    assert r["frozen"] == 0.0


def test_mouth_correlation_uses_no_lag():
    a = _talking()
    late = np.roll(a, 3, axis=0)   # 100 ms late: a lagged search would forgive it
    assert control.mouth_correlation(a, late) < 0.5
    assert control.mouth_correlation(a, a[:60]) == pytest.approx(1.0)   # cut to the shorter


def _means(**channels):
    m = np.zeros(NUM_BLENDSHAPES)
    for name, v in channels.items():
        m[INDEX[name]] = v
    return m


def test_intensity_monotonicity_judges_only_the_channels_an_emotion_moves():
    neutral = _means(browInnerUp=0.3)
    levels = np.stack([_means(mouthSmileLeft=s, browInnerUp=b, cheekSquintLeft=c,
                              noseSneerLeft=n, eyeBlinkLeft=e)
                       for s, b, c, n, e in (
                           (0.1, 0.25, 0.1, 0.005, 0.5),
                           (0.2, 0.20, 0.3, 0.01, 0.0),
                           (0.2, 0.15, 0.2, 0.01, 0.9),   # smile flat a step: still fine
                           (0.4, 0.10, 0.4, 0.01, 0.1))])
    result = control.intensity_monotonic(neutral, {"happy": levels})
    # smile rises, brow falls steadily from its neutral 0.3 (moved down): both monotonic;
    # cheek goes back down at 0.75: not; the sneer moves too little and blinks are the
    # nonverbal layer's: neither is judged.
    assert (result.monotonic, result.pairs) == (2, 3)
    assert result.fraction == pytest.approx(2 / 3)
    assert result.failures == [["happy", "cheekSquintLeft"]]


def test_a_shift_that_does_not_grow_with_intensity_is_not_monotonic():
    neutral = _means()
    same = np.stack([_means(mouthFrownLeft=0.3)] * 4)
    result = control.intensity_monotonic(neutral, {"sad": same})
    assert (result.monotonic, result.pairs) == (0, 1)
    assert np.isnan(control.intensity_monotonic(neutral, {}).fraction)


def test_label_following_counts_the_requested_and_the_acted_answers():
    rows = [("angry", "happy", "happy"), ("angry", "sad", "angry"),
            ("angry", "fearful", "neutral"), ("angry", "angry", "angry")]  # last: not a test
    lf = control.label_following(rows)
    assert (lf.followed, lf.voice, lf.total) == (1, 1, 3)
    assert lf.accuracy == pytest.approx(1 / 3) and lf.voice_share == pytest.approx(1 / 3)
    assert np.isnan(control.label_following([]).accuracy)
