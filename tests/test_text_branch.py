"""The neural engine's text branch (issue 24, parts 2 and 4): words shape the upper face
and head, never the lips; without words nothing changes."""
from __future__ import annotations

import numpy as np
import pytest

from emoface.arkit import ARKIT_NAMES, INDEX
from emoface.audio.speech import Speech
from emoface.engines.rules.text_cues import TEXT_CHANNELS
from emoface.text import timed_words
from emoface.text.words import TimedWord

torch = pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

from emoface.engines import load_engine  # noqa: E402
from emoface.engines.neural import text_branch  # noqa: E402
from emoface.engines.neural.word_inputs import (  # noqa: E402
    AUDIO_INPUTS,
    TEXT_INPUTS,
    timing_features,
)

SENTENCE = "Are you coming to the party tonight? No, I will never go there."
TEXT_IDX = [INDEX[n] for n in TEXT_CHANNELS]
DRAWN = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("eyeBlink", "eyeLook", "eyeWide"))]
REST = [i for i in range(len(ARKIT_NAMES)) if i not in TEXT_IDX and i not in DRAWN]

pytestmark = pytest.mark.skipif(not text_branch.BUNDLED.exists(),
                                reason="text branch weights not built (tools/train_text_branch.py)")


@pytest.fixture(scope="module")
def neural():
    return load_engine("neural")


@pytest.fixture(scope="module")
def spoken():
    return Speech.synthesize(SENTENCE)


def _take(engine, speech, words: bool, emotion: str = "neutral", seed: int = 0):
    engine.use_words = words
    try:
        return engine.animate(speech, emotion, seed=seed)
    finally:
        engine.use_words = True


def _frames(anim, start: float, end: float) -> slice:
    return slice(int(start * anim.fps), int(np.ceil(end * anim.fps)) + 1)


def test_timing_features_mark_the_frames_of_each_word():
    words = [TimedWord(0.10, 0.30, "hello", 0), TimedWord(0.50, 0.90, "there", 1)]
    f = timing_features(words, 90, 30.0)
    t = np.arange(90) / 30.0
    inside = ((t >= 0.1) & (t < 0.3)) | ((t >= 0.5) & (t < 0.9))
    assert np.array_equal(f[:, 0] > 0, inside)
    assert np.all(f[~inside, :4] == 0)
    k = int(np.flatnonzero((t >= 0.5) & (t < 0.9))[0])
    assert f[k, 1] == pytest.approx(t[k] - 0.5) and f[k, 2] == pytest.approx(0.9 - t[k])
    assert np.all((f[inside, 3] >= 0) & (f[inside, 3] < 1))
    # after a word, until the next one or a second after its onset: the phase since it
    gap = (t >= 0.3) & (t < 0.5)
    assert np.allclose(f[gap, 4], t[gap] - 0.1) and np.allclose(f[gap, 5], t[gap] - 0.3)
    late = t >= 1.5
    assert np.all(f[late] == 0) and np.all(f[(t > 0.91) & (t < 1.49), 5] > 0)
    assert not timing_features([], 90, 30.0).any()


def test_no_words_give_exactly_nothing_whatever_the_voice():
    """The dropout path: word inputs all zero give a zero output, by construction."""
    torch.manual_seed(0)
    net = text_branch.TextBranch()
    audio = torch.randn(2, 90, AUDIO_INPUTS)
    out = net(torch.zeros(2, 90, TEXT_INPUTS), audio)
    assert torch.count_nonzero(out) == 0
    words = torch.zeros(2, 90, TEXT_INPUTS)
    words[:, 40:50] = torch.randn(2, 10, TEXT_INPUTS)
    assert torch.count_nonzero(net(words, audio)) > 0   # the check above can fail


def test_words_move_the_upper_face_and_head_never_the_lips(neural, spoken):
    with_words = _take(neural, spoken, True)
    without = _take(neural, spoken, False)
    assert with_words.meta["words"] > 10 and without.meta["words"] == 0
    assert np.array_equal(with_words.weights[:, REST], without.weights[:, REST])
    assert np.abs(with_words.weights[:, TEXT_IDX] - without.weights[:, TEXT_IDX]).max() > 0.05


def test_without_a_transcript_the_take_is_the_audio_only_one(neural, spoken):
    bare = Speech(spoken.samples, text=None)
    a = neural.animate(bare, "happy:0.6", seed=3)
    b = _take(neural, spoken, False, "happy:0.6", seed=3)
    c = _take(neural, bare, True, "happy:0.6", seed=3)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.head, b.head)
    assert np.array_equal(a.weights, c.weights)


def test_a_question_raises_the_brows_and_a_negation_shakes_the_head(neural, spoken):
    with_words = _take(neural, spoken, True)
    without = _take(neural, spoken, False)
    words = timed_words(spoken.phones(), spoken.text)
    tonight = next(w for w in words if w.word == "tonight")
    rise = (with_words.weights[:, INDEX["browInnerUp"]] - without.weights[:, INDEX["browInnerUp"]])
    end = _frames(with_words, tonight.end - 0.1, tonight.end + 0.1)
    assert rise[end].mean() > 0.08
    no = next(w for w in words if w.word == "no")
    yaw = (with_words.head[:, 0] - without.head[:, 0])[_frames(with_words, no.start, no.start + 0.6)]
    assert yaw.max() > 0.015 and yaw.min() < -0.015   # both ways: a shake, not a turn


def test_a_transcript_that_does_not_fit_is_dropped_with_a_warning(neural, spoken, capsys):
    wrong = Speech(spoken.samples, text="Seven purple elephants juggled quietly beside the "
                   "harbour while the orchestra rehearsed a symphony about tomorrow's weather.")
    take = _take(neural, wrong, True)
    assert "does not fit" in capsys.readouterr().err
    bare = neural.animate(Speech(spoken.samples), "neutral", seed=0)
    assert take.meta["words"] == 0
    assert np.array_equal(take.weights, bare.weights)


def test_the_cli_reads_words_and_no_text_leaves_them_out(shared_data, tmp_path):
    from conftest import need

    from emoface.cli import main
    from emoface.outputs import read

    wav = need(shared_data / "speech/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")
    base = ["animate", str(wav), "--engine", "neural", "--text",
            "He was not an ill disposed young man."]
    assert main(base + ["-o", str(tmp_path / "words.npz")]) == 0
    assert main(base + ["--no-text", "-o", str(tmp_path / "bare.npz")]) == 0
    assert main(["animate", str(wav), "--engine", "neural", "-o", str(tmp_path / "audio.npz")]) == 0
    words, bare, audio = (read(tmp_path / f"{n}.npz") for n in ("words", "bare", "audio"))
    assert np.array_equal(bare.weights, audio.weights) and np.array_equal(bare.head, audio.head)
    assert np.array_equal(words.weights[:, REST], audio.weights[:, REST])
    assert np.abs(words.weights[:, TEXT_IDX] - audio.weights[:, TEXT_IDX]).max() > 0.02
    assert np.abs(words.head - audio.head).max() > np.radians(1.0)   # "not": a shake
