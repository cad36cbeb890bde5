"""Engine streaming (docs/live.md): chunks of any size in, frames out; the streamed take
equals the default offline one (both remove a running cepstral mean), for every chunk
size; state per stream, engine shared; emotion changeable mid-stream."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emoface.arkit import INDEX  # noqa: E402
from emoface.audio.features import log_mel  # noqa: E402
from emoface.audio.io import resample  # noqa: E402
from emoface.audio.live_features import LiveFeatures  # noqa: E402
from emoface.audio.live_features import push_many as features_many  # noqa: E402
from emoface.audio.live_resample import LiveResampler  # noqa: E402
from emoface.audio.phonetic import phone_scores  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402
from emoface.emotion import EMOTION_INDEX  # noqa: E402
from emoface.engines import load_engine  # noqa: E402
from emoface.engines.neural.checkpoint import weights_available  # noqa: E402
from emoface.engines.neural.config import PREDICTED_CHANNELS, ModelConfig  # noqa: E402
from emoface.engines.neural.incremental import IncrementalNetwork, push_many  # noqa: E402
from emoface.engines.neural.network import EmoFaceNet  # noqa: E402
from emoface.engines.streaming import Frames, feed_many  # noqa: E402
from emoface.errors import UserError  # noqa: E402

# The network's channels, less eyeWide (the blinks of the nonverbal layer scale it): the
# nonverbal layer is drawn live frame by frame, offline over the whole take.
NETWORK = [INDEX[n] for n in PREDICTED_CHANNELS if not n.startswith("eyeWide")]

needs_weights = pytest.mark.skipif(not weights_available(), reason="bundled weights absent")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """As the server runs streams: one BLAS and torch thread (docs/live.md)."""
    from emoface.threads import one_maths_thread

    with one_maths_thread():
        yield


@pytest.fixture(scope="module")
def speech() -> Speech:
    """The audio alone, as a stream gets it (a transcript would move the offline take's
    brows and head through the words, which a stream never hears)."""
    spoken = Speech.synthesize("She sells sea shells by the sea shore, happily.", rate=150)
    return Speech(spoken.samples, spoken.sample_rate, source=spoken.source)


@pytest.fixture(scope="module")
def engine():
    if not weights_available():
        pytest.skip("bundled weights absent")
    return load_engine("neural")   # the plain default: what `emoface animate` gives


def run(stream, samples: np.ndarray, chunk: int) -> Frames:
    parts = [stream.feed(samples[i:i + chunk]) for i in range(0, len(samples), chunk)]
    parts.append(stream.flush())
    firsts = [p.first for p in parts if len(p)]
    joined = Frames.join([p for p in parts if len(p)])
    assert firsts == sorted(firsts) and joined.first == 0
    return joined


def test_live_features_equal_whole_input_features():
    rng = np.random.default_rng(1)
    x = (0.2 * rng.normal(size=16000 + 77)).astype(np.float32)
    ref = np.concatenate([log_mel(x), phone_scores(x, True, "running")], 1)
    for chunk in (1, 333, 5000):
        lf = LiveFeatures(84)
        rows = [lf.push(x[i:i + chunk]) for i in range(0, len(x), chunk)] + [lf.finish()]
        got = np.concatenate(rows)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, atol=1e-4)


def test_live_features_of_many_streams_fed_together_equal_the_whole_input():
    """push_many computes every stream's FFTs, cepstra and phone loop together: streams
    of different lengths and chunk sizes, one joining late (its phone loop starts fresh
    while the others continue), each still equals its whole-input features."""
    rng = np.random.default_rng(4)
    signals = [(0.2 * rng.normal(size=n)).astype(np.float32) for n in (9000, 5077, 12000)]
    signals[1][1000:3000] = 0.0                       # silence inside one
    chunks, starts = (320, 1333, 4000), (0, 0, 3)     # stream 2 joins at the 4th call
    refs = [np.concatenate([log_mel(x), phone_scores(x, True, "running")], 1) for x in signals]
    streams = [LiveFeatures(84) for _ in signals]
    got = [[] for _ in signals]
    pos = [0] * len(signals)
    call = 0
    while any(p < len(x) for p, x in zip(pos, signals)):
        live = [i for i, x in enumerate(signals) if pos[i] < len(x) and call >= starts[i]]
        rows = features_many([streams[i] for i in live],
                             [signals[i][pos[i]:pos[i] + chunks[i]] for i in live])
        for i, r in zip(live, rows):
            got[i].append(r)
            pos[i] += chunks[i]
        call += 1
    for i, (lf, ref) in enumerate(zip(streams, refs)):
        rows = np.concatenate(got[i] + [lf.finish()])
        assert rows.shape == ref.shape
        np.testing.assert_allclose(rows, ref, atol=1e-4)


@pytest.mark.parametrize("rate", [8000, 24000, 48000])
def test_live_resampling_equals_whole_signal_resampling(rate):
    x = np.random.default_rng(2).normal(size=rate + 11).astype(np.float32)
    for chunk in (7, 960):
        r = LiveResampler(rate)
        y = np.concatenate([r.push(x[i:i + chunk]) for i in range(0, len(x), chunk)] + [r.finish()])
        np.testing.assert_allclose(y, resample(x, rate, 16000), atol=1e-5)


@pytest.mark.parametrize("cfg", [
    dict(n_phonetic=0, content_lookahead=2, decoder_lookahead=1, decoder_layers=1),
    dict(n_phonetic=42, content_lookahead=1, decoder_lookahead=0, decoder_layers=2),
])
def test_incremental_network_equals_whole_input_decode(cfg):
    torch.manual_seed(0)
    small = dict(d_model=32, n_heads=2, content_layers=2, d_emotion=16,
                 emotion_layers=1, content_window=6, decoder_window=5, d_latent=4)
    net = EmoFaceNet(ModelConfig(**small, **cfg)).eval()
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(157, net.cfg.n_features)).astype(np.float32)
    n_out = 47
    amounts = rng.dirichlet(np.ones(8), size=n_out).astype(np.float32)
    z = rng.normal(size=4).astype(np.float32)
    with torch.inference_mode():
        w_ref, h_ref = net.decode(torch.from_numpy(feats[None]), torch.from_numpy(amounts[None]),
                                  torch.from_numpy(z[None]))
    for step in (1, 3, 40, 157):
        inc = IncrementalNetwork(net, z)
        at = lambda a, b: amounts[a:b]
        outs = [inc.push(feats[i:i + step], at) for i in range(0, len(feats), step)]
        outs.append(inc.finish(len(feats), n_out, at))
        w = np.concatenate([o[0] for o in outs])
        h = np.concatenate([o[1] for o in outs])
        np.testing.assert_allclose(w, w_ref[0].numpy(), atol=1e-5)
        np.testing.assert_allclose(h, h_ref[0].numpy(), atol=1e-5)


def test_incremental_networks_batched_equal_each_alone():
    """Streams of different lengths and step sizes through one batch per layer."""
    torch.manual_seed(1)
    cfg = dict(d_model=32, n_heads=2, content_layers=2, d_emotion=16, emotion_layers=1,
               content_window=6, decoder_window=5, d_latent=4, n_phonetic=42,
               content_lookahead=1, decoder_lookahead=1, decoder_layers=2)
    net = EmoFaceNet(ModelConfig(**cfg)).eval()
    rng = np.random.default_rng(3)
    lengths, steps = (157, 90, 203, 40), (3, 40, 7, 157)
    feats = [rng.normal(size=(n, net.cfg.n_features)).astype(np.float32) for n in lengths]
    n_outs = [int(round(n * 0.3)) for n in lengths]
    amounts = [rng.dirichlet(np.ones(8), size=k).astype(np.float32) for k in n_outs]
    zs = [rng.normal(size=4).astype(np.float32) for _ in lengths]
    refs = []
    for f, a, z in zip(feats, amounts, zs):
        with torch.inference_mode():
            refs.append(net.decode(torch.from_numpy(f[None]), torch.from_numpy(a[None]),
                                   torch.from_numpy(z[None])))
    incs = [IncrementalNetwork(net, z) for z in zs]
    ats = [lambda a, b, am=am: am[a:b] for am in amounts]
    outs = [[] for _ in incs]
    pos = [0] * len(incs)
    while any(p < len(f) for p, f in zip(pos, feats)):
        live = [i for i in range(len(incs)) if pos[i] < len(feats[i])]
        got = push_many([incs[i] for i in live], [feats[i][pos[i]:pos[i] + steps[i]] for i in live],
                        [ats[i] for i in live])
        for i, o in zip(live, got):
            outs[i].append(o)
            pos[i] += steps[i]
    for i, inc in enumerate(incs):
        outs[i].append(inc.finish(lengths[i], n_outs[i], ats[i]))
        w = np.concatenate([o[0] for o in outs[i]])
        h = np.concatenate([o[1] for o in outs[i]])
        np.testing.assert_allclose(w, refs[i][0][0].numpy(), atol=1e-5)
        np.testing.assert_allclose(h, refs[i][1][0].numpy(), atol=1e-5)


def test_incremental_networks_come_and_go():
    """The attention caches of a network's streams are one tensor per layer (a slot per
    stream): more streams than its first size grow it, a stream gone frees its slot for
    the next, and every stream still equals the whole-input pass."""
    torch.manual_seed(2)
    cfg = dict(d_model=32, n_heads=2, content_layers=2, d_emotion=16, emotion_layers=1,
               content_window=6, decoder_window=5, d_latent=4, n_phonetic=42,
               content_lookahead=1, decoder_lookahead=0, decoder_layers=2)
    net = EmoFaceNet(ModelConfig(**cfg)).eval()
    rng = np.random.default_rng(5)

    def take(n):
        feats = rng.normal(size=(n, net.cfg.n_features)).astype(np.float32)
        amounts = rng.dirichlet(np.ones(8), size=int(round(n * 0.3))).astype(np.float32)
        z = rng.normal(size=4).astype(np.float32)
        with torch.inference_mode():
            ref = net.decode(torch.from_numpy(feats[None]), torch.from_numpy(amounts[None]),
                             torch.from_numpy(z[None]))
        return dict(feats=feats, amounts=amounts, ref=ref, inc=IncrementalNetwork(net, z),
                    pos=0, outs=[], at=lambda a, b, am=amounts: am[a:b])

    def check(t):
        t["outs"].append(t["inc"].finish(len(t["feats"]), len(t["amounts"]), t["at"]))
        w = np.concatenate([o[0] for o in t["outs"]])
        np.testing.assert_allclose(w, t["ref"][0][0].numpy(), atol=1e-5)

    takes = [take(n) for n in (120, 60, 150, 90, 110, 70)]     # six: past the first size
    slots = {t["inc"].content_slot for t in takes}
    assert len(slots) == 6
    for step in range(40):
        if step == 10:                                          # two end, two others come
            for t in takes[:2]:
                t["outs"].append(t["inc"].push(t["feats"][t["pos"]:], t["at"]))
                check(t)
            freed = {t["inc"].content_slot for t in takes[:2]}
            t = live = got = None                               # the last references
            takes = takes[2:]
            takes += [take(100), take(130)]
            assert {t["inc"].content_slot for t in takes[-2:]} == freed
        live = [t for t in takes if t["pos"] < len(t["feats"])]
        if not live:
            break
        got = push_many([t["inc"] for t in live], [t["feats"][t["pos"]:t["pos"] + 4 + 3 * (k % 3)]
                                                   for k, t in enumerate(live)], [t["at"] for t in live])
        for k, (t, o) in enumerate(zip(live, got)):
            t["outs"].append(o)
            t["pos"] += 4 + 3 * (k % 3)
    for t in takes:
        t["outs"].append(t["inc"].push(t["feats"][t["pos"]:], t["at"]))
        check(t)


@needs_weights
def test_streams_fed_together_equal_each_alone_and_offline(engine, speech):
    """Several streams (lengths, chunk sizes, emotions, rates differ) fed as one batch per
    call, as the server's ticks do: each equals its stream alone and the offline take."""
    x = speech.samples
    takes = [(x, 800, "happy:0.7", 30), (x[:len(x) // 2], 3200, "sad", 30),
             (x[len(x) // 3:], 321, "angry:0.5", 60), (x[::-1].copy(), 1600, "auto", 30)]
    streams = [engine.stream(16000, emotion=e, fps=f, seed=i)
               for i, (_, _, e, f) in enumerate(takes)]
    parts = [[] for _ in takes]
    pos = [0] * len(takes)
    while any(p < len(t[0]) for p, t in zip(pos, takes)):
        live = [i for i, t in enumerate(takes) if pos[i] < len(t[0])]
        got = feed_many([streams[i] for i in live],
                        [takes[i][0][pos[i]:pos[i] + takes[i][1]] for i in live])
        for i, f in zip(live, got):
            parts[i].append(f)
            pos[i] += takes[i][1]
    for i, (audio, chunk, emotion, fps) in enumerate(takes):
        parts[i].append(streams[i].flush())
        together = Frames.join([p for p in parts[i] if len(p)])
        alone = run(engine.stream(16000, emotion=emotion, fps=fps, seed=i), audio, chunk)
        np.testing.assert_allclose(together.weights, alone.weights, atol=1e-5)
        np.testing.assert_allclose(together.head, alone.head, atol=1e-5)
        offline = engine.animate(Speech(audio, 16000), emotion=emotion, fps=fps, seed=i)
        assert len(together) == offline.num_frames
        if emotion != "auto":   # auto hears the voice differently live (docs/live.md)
            np.testing.assert_allclose(together.weights[:, NETWORK],
                                       offline.weights[:, NETWORK], atol=1e-3)


@needs_weights
@pytest.mark.parametrize("fps", [30, 60])
def test_stream_equals_offline_animation_for_every_chunk_size(engine, speech, fps):
    offline = engine.animate(speech, emotion="happy:0.7", fps=fps, seed=5)
    takes = []
    for chunk in ((320, 4410, len(speech.samples)) if fps == 30 else (160, 7777)):
        got = run(engine.stream(16000, emotion="happy:0.7", fps=fps, seed=5), speech.samples, chunk)
        assert len(got) == offline.num_frames
        np.testing.assert_allclose(got.weights[:, NETWORK], offline.weights[:, NETWORK], atol=1e-3)
        assert got.weights.min() >= 0 and got.weights.max() <= 1
        takes.append(got)
    # The whole frame (blinks, gaze, head drift too) does not depend on the chunking.
    for other in takes[1:]:
        np.testing.assert_allclose(other.weights, takes[0].weights, atol=1e-5)
        np.testing.assert_allclose(other.head, takes[0].head, atol=1e-5)
        np.testing.assert_allclose(other.eyes, takes[0].eyes, atol=1e-5)


@needs_weights
def test_int16_pcm_and_other_rates_are_accepted(engine, speech):
    pcm = (np.clip(speech.samples, -1, 1) * 32767).astype(np.int16)
    a = run(engine.stream(16000, emotion="neutral"), pcm, 640)
    up = resample(speech.samples, 16000, 48000)
    b = run(engine.stream(48000, emotion="neutral"), up, 1920)
    assert abs(len(a) - len(b)) <= 1
    n = min(len(a), len(b))
    # Resampled there and back is not the same audio; the mouth still follows it.
    jaw = INDEX["jawOpen"]
    assert np.corrcoef(a.weights[:n, jaw], b.weights[:n, jaw])[0, 1] > 0.9


@needs_weights
def test_streams_share_the_engine_and_keep_their_own_state(engine, speech):
    x = speech.samples
    alone = run(engine.stream(16000, emotion="sad", seed=1), x, 800)
    s1 = engine.stream(16000, emotion="sad", seed=1)
    s2 = engine.stream(16000, emotion="angry", seed=2)
    parts = []
    for i in range(0, len(x), 800):     # interleaved on one engine
        parts.append(s1.feed(x[i:i + 800]))
        s2.feed(x[::-1][i:i + 800])
    parts.append(s1.flush())
    s2.flush()
    joined = Frames.join([p for p in parts if len(p)])
    np.testing.assert_allclose(joined.weights, alone.weights, atol=1e-5)


@needs_weights
def test_emotion_changes_mid_stream(engine, speech):
    x = speech.samples
    half = len(x) // 2
    steady = run(engine.stream(16000, emotion="happy:0.9"), x, 1600)
    s = engine.stream(16000, emotion="happy:0.9")
    parts = [s.feed(x[:half])]
    s.set_emotion("sad:0.9")
    parts += [s.feed(x[half:]), s.flush()]
    changed = Frames.join([p for p in parts if len(p)])
    assert len(changed) == len(steady)
    sad = changed.amounts[:, EMOTION_INDEX["sad"]]
    assert sad[-5:].min() > 0.8 and sad[:10].max() == 0.0
    late = slice(len(changed) - 10, None)
    assert np.abs(changed.weights[late] - steady.weights[late]).max() > 0.02
    # Frames out before the change keep the first emotion.
    n0 = len(parts[0])
    np.testing.assert_allclose(changed.weights[:n0], steady.weights[:n0], atol=1e-5)


@needs_weights
def test_auto_streams_with_the_voice_branch(engine, speech):
    got = run(engine.stream(16000, emotion="auto"), speech.samples, 3200)
    assert len(got) == engine.animate(speech, fps=30).num_frames
    np.testing.assert_allclose(got.amounts.sum(1), 1.0, atol=1e-4)


def test_engines_that_do_not_stream_say_which_do():
    with pytest.raises(UserError, match="does not stream; engines that do: neural"):
        load_engine("loudness-jaw").stream(16000)


@needs_weights
@pytest.mark.parametrize("rate", [44100, 0, "16000"])
def test_unaccepted_sample_rates_are_refused(engine, rate):
    with pytest.raises(UserError, match="8000, 16000, 24000, 32000, 48000"):
        engine.stream(rate)


@needs_weights
def test_staggered_streams_spread_their_voice_estimates(engine, speech):
    """Streams a server computes together move their 2-second voice-emotion hops apart:
    each hop of a staggered stream comes ``phase`` feature frames later than a plain
    stream's, and the phases of streams opened together cover the hop."""
    from emoface.engines.neural.streaming import EMOTION_HOP

    phases = []
    for i in range(8):
        s = engine.stream(16000, emotion="auto")
        s.stagger(i)
        phases.append(s.heard.phase)
    assert phases[0] == 0 and len(set(phases)) == 8
    assert max(np.diff(sorted(phases + [EMOTION_HOP]))) <= EMOTION_HOP // 4

    samples = np.concatenate([speech.samples] * 3)      # several hops
    ends = {}
    for index in (0, 3):
        stream = engine.stream(16000, emotion="auto")
        stream.stagger(index)
        heard, estimate = stream.heard, stream.heard._estimate
        ends[index] = []

        def spy(j, heard=heard, estimate=estimate, index=index):
            ends[index].append(heard._end(j))
            return estimate(j)
        heard._estimate = spy
        got = run(stream, samples, 1600)
        np.testing.assert_allclose(got.amounts.sum(1), 1.0, atol=1e-4)
        phase = heard.phase
        n_frames = len(samples) // 160
        assert ends[index] == list(range(EMOTION_HOP + phase, n_frames + 1, EMOTION_HOP))
    assert ends[3][0] > ends[0][0]
    with pytest.raises(RuntimeError, match="before the stream's first audio"):
        stream.stagger(1)
