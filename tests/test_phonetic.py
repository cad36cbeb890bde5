"""Phone scores from pocketsphinx's English acoustic model (emoface.audio.phonetic): the
front-end must be the model's own, the scores must name the phones spoken, and the
augmentation's spectral bends must act on them as on the log-mel."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pocketsphinx")

from emoface.audio import phonetic  # noqa: E402
from emoface.audio.features import log_mel  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402

SENTENCE = "Bob made my map, but Pam bought a mop."


@pytest.fixture(scope="module")
def speech():
    """A Flite voice (built from a real speaker's recordings), at 16 kHz, with its phones."""
    from emoface.audio import flite

    if not flite.available():
        pytest.skip("flite is not installed")
    samples, rate, phones = flite.synthesize(SENTENCE, voice="slt")
    return Speech(samples, rate, phones=phones, source="flite")


def _edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def _phone_per_frame(speech, frames: int) -> np.ndarray:
    """The acoustic model's index of the phone spoken at each 10-ms frame; -1: none of its."""
    index = {p: i for i, p in enumerate(phonetic.phone_names())}
    times = np.arange(frames) / 100
    truth = np.full(frames, -1)
    for p in speech.phones():
        truth[(times >= p.start) & (times < p.end)] = index.get(p.phone, -1)
    return truth


def test_scores_sit_on_the_log_mel_grid_in_range(speech):
    scores = phonetic.phone_scores(speech.samples)
    assert scores.shape == (len(log_mel(speech.samples)), 42) and scores.dtype == np.float32
    assert scores.min() >= -1.0 and scores.max() <= 1.0
    # the best phone of a frame has a log-posterior of at least -ln 42 (scaled): never floored
    assert scores.max(1).min() >= 1.0 - 2.0 * np.log(42) / -phonetic.FLOOR - 1e-6
    assert phonetic.phone_scores(np.zeros(0, np.float32)).shape == (0, 42)


def test_the_front_end_is_the_models_own(speech):
    """Our cepstra fed to pocketsphinx's own phone loop recognise what its own front-end
    recognises from the raw samples. Measured: 10 edits in 77 phones over these three
    sentences (its front-end also subtracts a noise estimate); without the lifter 68, at
    half scale 55."""
    from emoface.audio import align, flite

    texts = [SENTENCE, "The quick brown fox jumps over the lazy dog.",
             "Please remember to bring my umbrella."]
    edits = total = 0
    with align._fresh_decoders():
        decoder = align._decoders_now().phone_loop()
        for text in texts:
            samples, rate, _ = flite.synthesize(text, voice="slt")
            x = Speech(samples, rate).samples
            ceps = (phonetic.band_energies(x) @ phonetic._dct()).astype(np.float32)
            decoder.start_utt()
            decoder.process_raw(align._pcm16(x), full_utt=True)
            decoder.end_utt()
            from_raw = [s.word for s in decoder.seg()]
            decoder.start_utt()
            decoder.process_cep(ceps.tobytes(), full_utt=True)
            decoder.end_utt()
            edits += _edit_distance(from_raw, [s.word for s in decoder.seg()])
            total += len(from_raw)
    assert total > 60 and edits <= 0.25 * total


def test_scores_name_the_phones_spoken(speech):
    scores = phonetic.phone_scores(speech.samples)
    truth = _phone_per_frame(speech, len(scores))
    known = truth >= 0
    accuracy = (scores.argmax(1)[known] == truth[known]).mean()
    assert accuracy > 0.35            # measured 0.5; chance is 1 / 42


def test_a_fixed_gain_changes_nothing_and_bends_are_identities_at_rest(speech):
    bands = phonetic.band_energies(speech.samples)
    base = phonetic.scores_from_bands(bands)
    # A microphone's fixed gain is a constant in the cepstra: the mean removal takes it out.
    louder = phonetic.equalise_bands(bands, np.array([100.0, 8000.0]), np.array([9.0, 9.0]))
    assert np.abs(phonetic.scores_from_bands(louder) - base).max() < 1e-3
    assert np.allclose(phonetic.warp_bands(bands, 1.0), bands)
    tilted = phonetic.equalise_bands(bands, np.array([100.0, 8000.0]), np.array([-6.0, 6.0]))
    assert tilted[:, -1].mean() - tilted[:, 0].mean() > bands[:, -1].mean() - bands[:, 0].mean() + 2


def test_a_warp_moves_energy_up_the_bands():
    t = np.arange(16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    bands = phonetic.band_energies(tone)
    peak = int(bands[50].argmax())
    assert int(phonetic.warp_bands(bands, 1.3)[50].argmax()) > peak
    assert int(phonetic.warp_bands(bands, 0.77)[50].argmax()) < peak


def test_the_phone_loop_filter_is_a_causal_distribution_over_phones(speech):
    model = phonetic.acoustic_model()
    state_ll = model.state_loglik(phonetic.features(phonetic.band_energies(speech.samples)))
    post = phonetic.forward_posteriors(state_ll, model.loop)
    assert post.shape == (len(state_ll), 42)
    assert np.allclose(np.log(np.exp(post).sum(1)), 0.0, atol=1e-9)
    # What comes later cannot change a frame's posterior: no look-ahead is added.
    cut = len(state_ll) // 2
    changed = state_ll.copy()
    changed[cut + 1:] = changed[cut + 1:][::-1]
    assert np.array_equal(phonetic.forward_posteriors(changed, model.loop)[:cut + 1],
                          post[:cut + 1])
    assert not np.allclose(phonetic.forward_posteriors(changed, model.loop), post)


def test_the_filtered_columns_follow_the_frame_scores_and_flicker_less(speech):
    """The phone loop knows phones last several frames: its top phone changes less than half
    as often as a single frame's (measured 46 against 107 changes, 26 true ones, on this
    sentence), while naming the phone spoken about as often (0.41 against 0.49 of frames:
    it decides a frame or two late)."""
    scores = phonetic.phone_scores(speech.samples, filtered=True)
    assert scores.shape == (len(log_mel(speech.samples)), 84)
    assert scores.min() >= -1.0 and scores.max() <= 1.0
    assert np.array_equal(scores[:, :42], phonetic.phone_scores(speech.samples))
    truth = _phone_per_frame(speech, len(scores))
    known = truth >= 0
    raw, loop = scores[:, :42].argmax(1), scores[:, 42:].argmax(1)
    assert (np.diff(loop) != 0).sum() < 0.5 * (np.diff(raw) != 0).sum()
    assert (loop[known] == truth[known]).mean() > 0.3


def test_only_whole_sets_of_score_columns_are_read():
    assert not phonetic.columns_filtered(42) and phonetic.columns_filtered(84)
    with pytest.raises(ValueError, match="n_phonetic"):
        phonetic.columns_filtered(50)
