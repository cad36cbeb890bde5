"""docs/design.md contracts: names and order, emotion grammar, the Animation type."""
import numpy as np
import pytest

import emoface
from emoface.animation import Animation
from emoface.arkit import ARKIT_NAMES, LIVE_LINK_ORDER, normalize_name, pascal
from emoface.emotion import EMOTIONS, parse_emotion
from emoface.errors import UserError


def test_arkit_names_are_52_in_alphabetical_order():
    assert len(ARKIT_NAMES) == 52 == len(set(ARKIT_NAMES))
    assert list(ARKIT_NAMES) == sorted(ARKIT_NAMES)
    assert ARKIT_NAMES[0] == "browDownLeft" and ARKIT_NAMES[-1] == "tongueOut"


def test_live_link_order_differs_where_apple_does():
    assert LIVE_LINK_ORDER.index("jawRight") < LIVE_LINK_ORDER.index("jawLeft")
    assert LIVE_LINK_ORDER.index("mouthRight") < LIVE_LINK_ORDER.index("mouthLeft")
    assert LIVE_LINK_ORDER[0] == "eyeBlinkLeft"


@pytest.mark.parametrize("name,expected", [
    ("JawOpen", "jawOpen"), ("EyeBlinkLeft", "eyeBlinkLeft"), ("mouthSmile_L", "mouthSmileLeft"),
    ("mouthSmile_R", "mouthSmileRight"), ("browInnerUp_L", "browInnerUp"),
    ("cheekPuff_R", "cheekPuff"), ("eyeLookIn.L", "eyeLookInLeft"), ("tongueOut", "tongueOut"),
    ("_neutral", None), ("PupilDilate_L", None), ("MouthRollUpper", "mouthRollUpper"),
])
def test_name_normalisation(name, expected):
    assert normalize_name(name) == expected


def test_every_spelling_round_trips():
    for n in ARKIT_NAMES:
        assert normalize_name(n) == n
        assert normalize_name(pascal(n)) == n


def test_emotions_and_aliases():
    assert EMOTIONS == ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised",
                        "contempt")
    for alias, name in [("joy", "happy"), ("anger", "angry"), ("fear", "fearful"),
                        ("disgust", "disgusted"), ("surprise", "surprised"), ("sadness", "sad")]:
        track = parse_emotion(alias).track
        assert track.amounts[0, EMOTIONS.index(name)] == pytest.approx(0.7)


def test_emotion_grammar():
    assert parse_emotion("auto").auto
    t = parse_emotion("happy:0.4").track
    assert t.at(np.array([0.0, 5.0]))[:, 1].tolist() == pytest.approx([0.4, 0.4])
    assert parse_emotion("happy", intensity=0.2).track.amounts[0, 1] == pytest.approx(0.2)
    mix = parse_emotion("happy:0.6+surprised:0.3").track.at(np.array([1.0]))[0]
    assert mix[1] == pytest.approx(0.6) and mix[6] == pytest.approx(0.3)
    assert mix[0] == pytest.approx(0.1)  # neutral takes what is left


def test_keyframes_ease_between_and_hold_outside():
    track = parse_emotion("0:neutral,2:happy:0.8,4:sad:0.5").track
    a = track.at(np.array([0.0, 1.0, 2.0, 3.0, 4.0, 9.0]))
    assert a[0, 1] == 0 and a[1, 1] == pytest.approx(0.4) and a[2, 1] == pytest.approx(0.8)
    assert 0 < a[3, 2] < 0.5 and a[4, 2] == pytest.approx(0.5) and a[5, 2] == pytest.approx(0.5)
    assert np.all(np.diff(track.at(np.linspace(0, 2, 50))[:, 1]) >= 0)


@pytest.mark.parametrize("bad", [
    "grumpy", "happy:1.5", "happy:x", "happy:0.8+sad:0.5", "0:happy,0:sad", "1:happy,0.5:sad",
    "0:happy,sad", "happy+", "", "2:happy:0.3:9",
])
def test_malformed_emotions_are_user_errors(bad):
    with pytest.raises(UserError) as err:
        parse_emotion(bad)
    assert "\n" not in str(err.value)


def test_animation_validates_shapes_and_resamples():
    rng = np.random.default_rng(0)
    w = rng.random((90, 52)).astype(np.float32)
    a = Animation(w, 30, head=rng.normal(size=(90, 3)), eyes=np.zeros((90, 6)))
    b = a.resample(60)
    assert b.num_frames == 180 and b.fps == 60 and b.head.shape == (180, 3)
    np.testing.assert_allclose(b.weights[::2], a.weights, atol=1e-6)  # shared instants equal
    c = b.resample(30)
    np.testing.assert_allclose(c.weights, a.weights, atol=1e-6)
    with pytest.raises(ValueError):
        Animation(np.zeros((5, 51)))
    with pytest.raises(ValueError):
        Animation(np.zeros((5, 52)), head=np.zeros((4, 3)))


def test_npz_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(1)
    a = Animation(rng.random((40, 52)), 60, head=rng.normal(size=(40, 3)),
                  eyes=rng.normal(size=(40, 6)), emotion_probs=np.full((40, 8), 0.125),
                  meta={"engine": "test", "phones": [[0.0, 0.1, "SIL"]]})
    emoface.save(a, tmp_path / "a.npz")
    b = emoface.load(tmp_path / "a.npz")
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.head, b.head)
    assert np.array_equal(a.eyes, b.eyes) and np.array_equal(a.emotion_probs, b.emotion_probs)
    assert b.fps == 60 and b.meta == a.meta
    with np.load(tmp_path / "a.npz") as z:
        assert {"weights", "names", "fps", "head", "eyes", "emotion_probs", "emotions",
                "meta"} <= set(z.files)
        assert list(z["names"]) == list(ARKIT_NAMES)
