"""The neural network and engine, on a small randomly initialised model (the maths does
not depend on the trained weights): shapes and ranges, determinism, windowed = one-shot,
ONNX = torch, and a tiny training run that lowers the loss."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emoface.audio.speech import Speech  # noqa: E402
from emoface.emotion import parse_emotion  # noqa: E402
from emoface.engines.neural.checkpoint import load_network, save_checkpoint  # noqa: E402
from emoface.engines.neural.config import ModelConfig  # noqa: E402
from emoface.engines.neural.network import EmoFaceNet  # noqa: E402

SMALL = dict(d_model=48, n_heads=2, content_layers=2, decoder_layers=1, d_emotion=24,
             emotion_layers=2, content_window=16, decoder_window=12, d_latent=4)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    net = EmoFaceNet(ModelConfig(**SMALL)).eval()
    path = tmp_path_factory.mktemp("model") / "small.safetensors"
    save_checkpoint(net, path)
    return path


@pytest.fixture(scope="module")
def speech():
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 9) / 16000
    voiced = 0.3 * np.sin(2 * np.pi * (120 + 20 * np.sin(t)) * t) * (np.sin(2 * np.pi * 2.5 * t) > 0)
    return Speech((voiced + 0.01 * rng.normal(size=len(t))).astype(np.float32), 16000, source="test")


def test_config_bounds_lookahead():
    assert ModelConfig().lookahead_seconds <= 0.2
    with pytest.raises(ValueError):
        ModelConfig(content_lookahead=4)


def test_removed_options_load_when_off_and_are_refused_when_on(tmp_path):
    """Weights and run configs from before the experiments left (docs/experiments.md)
    still load while they hold the disabled value; an enabled one is refused by name."""
    from emoface.errors import UserError
    from emoface.train.loop import TrainConfig

    old = json.loads(ModelConfig().to_json())
    assert ModelConfig.from_json(json.dumps({**old, "channel_norm": False})) == ModelConfig()
    with pytest.raises(UserError, match="channel_norm"):
        ModelConfig.from_json(json.dumps({**old, "channel_norm": True}))
    path = tmp_path / "old.toml"
    path.write_text("[data]\nstretch_prob = 0.0\nmask_prob = 0.0\nexclude_speakers = []\n"
                    "[train]\nsteps = 5\n[model]\nchannel_norm = false\n")
    assert TrainConfig.load(path).steps == 5 and TrainConfig.load(path).model == {}
    path.write_text("[data]\nstretch_prob = 0.3\n")
    with pytest.raises(UserError, match="stretch_prob"):
        TrainConfig.load(path)


def test_checkpoint_round_trip(weights, tmp_path):
    net = load_network(weights)
    assert net.cfg == ModelConfig(**SMALL)
    save_checkpoint(net, tmp_path / "half.safetensors", half=True)
    half = load_network(tmp_path / "half.safetensors")
    for (k, a), (_, b) in zip(net.state_dict().items(), half.state_dict().items()):
        assert torch.allclose(a, b, atol=2e-3), k


def test_engine_shapes_ranges_and_determinism(weights, speech):
    from emoface.engines.neural.engine import NeuralEngine

    engine = NeuralEngine(weights, backend="torch")
    track = parse_emotion("happy:0.6").track
    animate = engine._animate
    a = animate(speech, track, fps=30, seed=3)
    assert a.weights.shape == (270, 52) and a.weights.dtype == np.float32
    assert 0 <= a.weights.min() and a.weights.max() <= 1
    assert a.head.shape == (270, 3) and a.eyes.shape == (270, 6)
    b = animate(speech, track, fps=30, seed=3)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.head, b.head)
    c = animate(speech, track, fps=30, seed=4)
    assert not np.array_equal(a.weights, c.weights)
    auto = animate(speech, None, fps=60, seed=3)
    assert auto.fps == 60 and auto.num_frames == 540
    assert np.allclose(auto.emotion_probs.sum(1), 1, atol=1e-4)


def test_windowed_equals_one_shot(weights, speech):
    from emoface.engines.neural.engine import Predictor, model_inputs, run

    pred = Predictor(weights, "torch")
    mel, _ = model_inputs(speech.samples, speech.prosody())
    n_out = 270
    amounts = parse_emotion("0:sad,4:angry:0.9").track.at(np.arange(n_out) / 30)
    z = np.random.default_rng(1).normal(size=SMALL["d_latent"]).astype(np.float32)
    whole_w, whole_h = run(pred, mel, amounts, z, core_s=100)
    cut_w, cut_h = run(pred, mel, amounts, z, core_s=1.5)  # six windows on 9 s
    assert np.abs(whole_w - cut_w).max() < 1e-4
    assert np.abs(whole_h - cut_h).max() < 1e-4


def test_onnx_agrees_with_torch(weights, speech, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from emoface.engines.neural.engine import Predictor, model_inputs

    monkeypatch.setenv("EMOFACE_CACHE", str(tmp_path))
    by_torch = Predictor(weights, backend="torch")
    by_onnx = Predictor(weights, backend="onnx")
    assert by_onnx.backend == "onnx" and not by_torch.net.training
    mel, prosody = model_inputs(speech.samples, speech.prosody())
    p1, i1 = by_torch.emotion(mel, prosody)
    p2, i2 = by_onnx.emotion(mel, prosody)
    assert np.abs(p1 - p2).max() < 1e-4 and abs(i1 - i2) < 1e-4
    amounts = np.random.default_rng(2).dirichlet(np.ones(8), size=270).astype(np.float32)
    z = np.random.default_rng(3).normal(size=SMALL["d_latent"]).astype(np.float32)
    w1, h1 = by_torch.decode(mel, amounts, z)
    w2, h2 = by_onnx.decode(mel, amounts, z)
    assert w1.shape == w2.shape == (270, 42)
    assert np.abs(w1 - w2).max() < 1e-4 and np.abs(h1 - h2).max() < 1e-4
    # Live streams' emotion session: the same estimate, on one thread that does not spin.
    p3, i3 = by_onnx.emotion(mel, prosody, one_thread=True)
    assert np.abs(p2 - p3).max() < 1e-6 and abs(i2 - i3) < 1e-6
    options = by_onnx._emotion_one_thread.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_onnx_is_chosen_unless_torch_is_clearly_faster(monkeypatch, tmp_path):
    """The ONNX path spares the torch import, so a tie in network time goes to ONNX."""
    from emoface.engines.neural import onnx_export

    net = load_network(None)

    def decide(t_torch, t_onnx):
        monkeypatch.setattr(onnx_export, "_time_each", lambda fns: [t_torch, t_onnx])
        return onnx_export._benchmark(net, {})["use_onnx"]

    assert decide(1.0, 0.9) and decide(1.0, 1.05)
    assert not decide(1.0, 1.3)
    old = tmp_path / "verdict.json"
    old.write_text('{"torch_s": 1.0, "onnx_s": 1.0, "onnx_faster": false}')
    assert not onnx_export._has_decision(old)  # decided by the old rule: decide again
    old.write_text('{"torch_s": 1.0, "onnx_s": 1.0, "use_onnx": false}')
    assert not onnx_export._has_decision(old)  # rule 1 (mean of three): decide again
    old.write_text('{"torch_s": 1.0, "onnx_s": 1.0, "use_onnx": false, "rule": 2}')
    assert not onnx_export._has_decision(old)  # rule 2 (one runtime after the other)
    old.write_text(json.dumps({"torch_s": 1.0, "onnx_s": 1.0, "use_onnx": True,
                               "rule": onnx_export.DECISION_RULE}))
    assert onnx_export._has_decision(old)


def test_the_timing_takes_the_fastest_call_of_each_in_turns(monkeypatch):
    from emoface.engines.neural import onnx_export

    calls = []
    # warm-ups first, then the two alternate; a slow stretch hits both, not one
    durations = {"a": iter([0.3, 0.03, 0.01, 0.04, 0.02, 0.05]),
                 "b": iter([0.3, 0.04, 0.02, 0.05, 0.03, 0.06])}
    # A clock the fake calls advance: real sleeps overshoot on a busy machine.
    now = [0.0]
    monkeypatch.setattr(onnx_export.time, "perf_counter", lambda: now[0])

    def fake(name):
        def call():
            calls.append(name)
            now[0] += next(durations[name])
        return call

    a, b = onnx_export._time_each([fake("a"), fake("b")], pause_s=0.0)
    assert 0.009 < a < 0.018 and 0.019 < b < 0.028
    assert calls == ["a", "b"] * 6


def test_a_tiny_training_run_lowers_the_loss(tmp_path, monkeypatch):
    """Build a very small corpus with the real builder, train 60 steps (stopped at 50 and
    resumed), and check the animation loss fell and the checkpoint average is the mean of
    the weights at the evaluations it covers."""
    from emoface.data.build import BuildOptions, build
    from emoface.train.loop import train

    corpus = tmp_path / "corpus"
    build(corpus, [("tts", None)], BuildOptions(tts_hours=0.006, workers=1, progress=False))
    recipe = tmp_path / "tiny.toml"
    recipe.write_text(f"""
[data]
corpus = "{corpus}"
crop_seconds = 2.0
source_weights = {{ tts = 1.0 }}
augment_prob = 0.0
[train]
steps = 60
batch_size = 4
lr = 3e-3
warmup_steps = 5
eval_every = 10
threads = 2
average_from = 50
[model]
{chr(10).join(f"{k} = {v}" for k, v in SMALL.items())}
""")
    run = tmp_path / "run"
    train(recipe, run, steps=50)
    at_50 = load_network(run / "last.safetensors").state_dict()
    assert train(recipe, run, resume=True) == run / "average.safetensors"
    at_60 = load_network(run / "last.safetensors").state_dict()
    average = load_network(run / "average.safetensors").state_dict()
    moved = 0
    for name, value in average.items():
        if value.is_floating_point():
            assert torch.allclose(value, (at_50[name] + at_60[name]) / 2, atol=1e-6), name
            moved += not torch.equal(at_50[name], at_60[name])
    assert moved > 10

    # a finished run resumed again does no work: it does not even load the clips
    from emoface.train import loop

    def no_loading(*args, **kwargs):
        raise AssertionError("a finished run loaded its clips again")

    monkeypatch.setattr(loop, "load_clips", no_loading)
    assert train(recipe, run, resume=True) == run / "average.safetensors"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    first, last = log[0]["train"]["reconstruction"], log[-1]["train"]["reconstruction"]
    assert last < 0.7 * first, (first, last)
    assert (run / "best.safetensors").exists() and (run / "loss.png").exists()
    net = load_network(run / "best.safetensors")
    assert net.cfg.d_model == SMALL["d_model"]


def test_training_lip_aperture_is_the_contracts():
    from emoface.arkit import INDEX, lip_aperture
    from emoface.engines.neural.config import PREDICTED_CHANNELS
    from emoface.train.losses import lip_aperture as torch_aperture

    w = np.random.default_rng(0).random((7, 52)).astype(np.float32)
    predicted = torch.from_numpy(w[:, [INDEX[n] for n in PREDICTED_CHANNELS]])
    assert np.allclose(torch_aperture(predicted).numpy(), lip_aperture(w), atol=1e-6)


def test_closed_frames_weigh_more_for_the_teacher_than_for_a_capture():
    from emoface.engines.neural.config import PREDICTED_CHANNELS
    from emoface.train.losses import CAPTURE_CLOSING_WEIGHT, CLOSING_WEIGHT, lips

    jaw = PREDICTED_CHANNELS.index("jawOpen")
    target = torch.zeros(2, 4, len(PREDICTED_CHANNELS))
    target[:, 2:, jaw] = 0.5                  # closed, closed, open, open
    pred = torch.full_like(target, 0.0)
    pred[..., jaw] = 0.3                      # open by 0.3 throughout
    mask = torch.ones(2, 4, dtype=torch.bool)
    closed_err, open_err = 0.3, 0.2
    teacher = lips(pred, target, mask)
    mixed = lips(pred, target, mask, torch.tensor([True, False]))
    assert float(teacher) == pytest.approx((CLOSING_WEIGHT * closed_err + open_err) / 2)
    capture = (CAPTURE_CLOSING_WEIGHT * closed_err + open_err) / 2
    assert float(mixed) == pytest.approx((float(teacher) + capture) / 2)
    assert CAPTURE_CLOSING_WEIGHT < CLOSING_WEIGHT


def test_weight_kl_is_zero_at_agreement_and_pulls_a_saturated_channel():
    from emoface.train.losses import weight_kl

    target = torch.tensor([[[0.0, 0.4, 1.0, 0.25]]])
    mask = torch.ones(1, 1, dtype=torch.bool)
    assert abs(float(weight_kl(target.clone(), target, mask))) < 1e-6
    # A channel whose logit sits far below zero while its target is 0.4: L1 through the
    # sigmoid barely moves it, the cross-entropy pulls with (prediction - target).
    logit = torch.tensor([[[-12.0]]], requires_grad=True)
    goal = torch.tensor([[[0.4]]])
    (g_kl,) = torch.autograd.grad(weight_kl(torch.sigmoid(logit), goal, mask), logit)
    (g_l1,) = torch.autograd.grad(((torch.sigmoid(logit) - goal).abs()).mean(), logit)
    assert abs(float(g_kl) + 0.4) < 1e-3
    assert abs(float(g_l1)) < 1e-4


def test_phone_frames_follow_the_phone_times():
    from emoface.audio.phones import PHONE_CLASSES, Phone
    from emoface.train.data import phone_frames

    phones = [Phone(0.0, 0.05, "SIL"), Phone(0.05, 0.11, "M"), Phone(0.11, 0.2, "AA")]
    labels = phone_frames(phones, 12)          # frames at 0, 20, ..., 220 ms
    m, aa = PHONE_CLASSES.index("M"), PHONE_CLASSES.index("AA")
    assert labels.tolist() == [0, 0, 0, m, m, m, aa, aa, aa, aa, -1, -1]


def test_the_sampler_crops_phone_labels_with_the_audio():
    from emoface.engines.neural.config import PREDICTED_CHANNELS
    from emoface.train.data import Clip, Sampler

    n = 600                                    # 6 s of features, 3 s crops
    mel = np.repeat(np.arange(n, dtype=np.float16)[:, None] / 8, 80, 1)
    phones = (np.arange(n // 2) % 40).astype(np.int8)
    clip = Clip("c", "tts", "s", mel, np.zeros((n, 3), np.float32),
                np.zeros((2, 180, len(PREDICTED_CHANNELS)), np.float16),
                np.zeros((2, 180, 3), np.float16), np.eye(8, dtype=np.float32)[:2], -1,
                float("nan"), None, phones)
    sampler = Sampler([clip], {"tts": 1.0}, 3.0, augment_prob=0.0)
    batch = sampler.batch(6, np.random.default_rng(3))
    starts = set()
    for b in range(6):
        start = int(round(float(batch["mel"][b, 0, 0]) * 8))
        starts.add(start)
        assert batch["phones"][b].tolist() == phones[start // 2:start // 2 + 150].tolist()
    assert len(starts) > 1


def test_phone_loss_ignores_unknown_frames():
    from emoface.train.losses import phone_loss

    logits = torch.zeros(1, 4, 5)
    logits[0, :2, 3] = 10.0                    # confident and right on the first two frames
    labels = torch.tensor([[3, 3, -1, -1]])
    assert float(phone_loss(logits, labels)) < 1e-3
    labels = torch.tensor([[3, 3, 1, -1]])    # an undecided third frame now counts
    assert abs(float(phone_loss(logits, labels)) - np.log(5) / 3) < 1e-3


def test_a_recipe_adds_a_phone_head_to_trained_weights(weights, tmp_path):
    from emoface.errors import UserError
    from emoface.train.loop import TrainConfig, _network_from

    net = _network_from(TrainConfig(init_from=str(weights), model={"n_phones": 40}))
    assert net.content.phone_head.out_features == 40
    start = load_network(weights).state_dict()
    for name, value in net.state_dict().items():
        if not name.startswith("content.phone_head"):
            assert torch.equal(value, start[name]), name
    with pytest.raises(UserError, match="do not fit"):
        _network_from(TrainConfig(init_from=str(weights), model={"d_model": 64}))
    with pytest.raises(UserError, match="do not fit"):
        _network_from(TrainConfig(init_from=str(weights), model={"no_such_setting": 1}))


def test_the_phone_head_learns_from_the_content_features():
    """A few steps on one batch of a toy task (phone = which of two tones sounds) lower the
    phone cross-entropy computed through the training loss."""
    from emoface.train.loop import TrainConfig, compute_losses

    torch.manual_seed(0)
    net = EmoFaceNet(ModelConfig(**SMALL, n_phones=40)).train()
    cfg = TrainConfig(train_parts="animation", w_phone=1.0)
    rng = np.random.default_rng(0)
    b, t = 4, 200
    which = rng.integers(0, 2, (b, t // 20)).repeat(20, 1)          # 200 ms segments
    mel = np.where(which[..., None] == 1, np.r_[np.ones(40), np.zeros(40)],
                   np.r_[np.zeros(40), np.ones(40)]).astype(np.float32)
    batch = {"mel": torch.from_numpy(mel + 0.1 * rng.normal(size=mel.shape).astype(np.float32)),
             "target": torch.zeros(b, 60, net.cfg.n_outputs),
             "head": torch.zeros(b, 60, 3), "out_mask": torch.ones(b, 60, dtype=torch.bool),
             "amounts": torch.eye(8)[[0] * b][:, None].expand(-1, 60, -1).contiguous(),
             "phones": torch.from_numpy(which[:, ::2] + 5)}
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        total, parts = compute_losses(net, batch, cfg)
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(parts["phone"])
    assert losses[-1] < 0.2 * losses[0], (losses[0], losses[-1])


def test_the_equaliser_scales_band_power_and_keeps_silence():
    from emoface.audio.features import LOG_FLOOR, log_mel
    from emoface.train.data import equalise, random_eq_db

    rng = np.random.default_rng(0)
    mel = log_mel(0.1 * rng.normal(size=16000).astype(np.float32))
    assert np.allclose(equalise(mel, np.zeros(80)), mel, atol=1e-4)
    gains = np.linspace(-6.0, 6.0, 80)
    moved = equalise(mel, gains) - mel                   # loud noise: a pure shift in log power
    assert np.allclose(moved[:, 40:45].mean(0), gains[40:45] * np.log(10) / 10, atol=1e-3)
    silence = np.full((3, 80), np.log(LOG_FLOOR), np.float32)
    assert np.allclose(equalise(silence, gains), silence, atol=1e-4)
    curves = np.stack([random_eq_db(rng) for _ in range(500)])
    assert curves.max() <= 6 + 20 + 6 + 2 * 3 + 1e-3      # tilt, low shelf, high shelf, ripples
    assert curves.min() >= -6 - 10 - 15 - 2 * 3 - 1e-3
    steps = np.abs(np.diff(curves, axis=1))
    # smooth: the low bands lie tens of Hz apart, so a shelf edge may step a few dB there
    assert steps.max() < 10.0 and steps[:, 20:].max() < 1.5
    assert curves.std(0).min() > 1.0                       # and every band really varies
    assert curves[:, :3].max() > 12 and curves[:, -3:].min() < -10  # the shelves reach


def _timestamped_clip(n: int = 600):
    """A 6-s clip whose features, targets and phone labels each say when they are:
    feature frame i holds i / 8, output frame j holds j / 180, phone frame k is (k // 5) % 40."""
    from emoface.engines.neural.config import PREDICTED_CHANNELS
    from emoface.train.data import Clip

    mel = np.repeat((np.arange(n) / 8).astype(np.float16)[:, None], 80, 1)
    weights = np.zeros((2, n * 3 // 10, len(PREDICTED_CHANNELS)), np.float16)
    weights[:, :, 0] = np.arange(n * 3 // 10) / 180
    phones = ((np.arange(n // 2) // 5) % 40).astype(np.int8)
    return Clip("c", "tts", "s", mel, np.zeros((n, 3), np.float32), weights,
                np.zeros((2, n * 3 // 10, 3), np.float16), np.eye(8, dtype=np.float32)[:2], -1,
                float("nan"), None, phones)


# ---------------------------------------------------------------- phone scores as input

def test_phone_scores_enter_at_zero_and_the_network_learns_to_read_them(weights):
    """Weights given the phone-score input start exactly where they were (the new
    convolution is zero), and the input reaches the output once it is trained."""
    from emoface.train.loop import TrainConfig, _network_from

    net = _network_from(TrainConfig(init_from=str(weights), model={"n_phonetic": 42})).eval()
    before = load_network(weights).eval()
    rng = np.random.default_rng(0)
    mel = torch.from_numpy(rng.normal(size=(1, 300, 80)).astype(np.float32))
    scores = torch.from_numpy(rng.uniform(-1, 1, size=(1, 300, 42)).astype(np.float32))
    amounts, z = torch.eye(8)[:1], torch.zeros(1, 4)
    with torch.no_grad():
        w0, _ = before.decode(mel, amounts, z)
        w1, _ = net.decode(torch.cat([mel, scores], -1), amounts, z)
        assert torch.equal(w0, w1)
        torch.nn.init.normal_(net.content.phonetic_in.weight, std=0.1)
        w2, _ = net.decode(torch.cat([mel, scores], -1), amounts, z)
    assert (w2 - w0).abs().max() > 1e-3
    assert net.cfg.n_features == 122 and net.cfg.lookahead_seconds <= 0.2


def test_a_phone_score_network_runs_windowed_and_in_onnx_as_in_torch(speech, tmp_path, monkeypatch):
    """The engine computes phone scores for weights that read them; windows and ONNX
    give what one torch pass gives."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("pocketsphinx")
    from emoface.engines.neural.engine import Predictor, model_inputs, run

    torch.manual_seed(1)
    net = EmoFaceNet(ModelConfig(**SMALL, n_phonetic=42)).eval()
    torch.nn.init.normal_(net.content.phonetic_in.weight, std=0.1)
    path = tmp_path / "phonetic.safetensors"
    save_checkpoint(net, path)
    monkeypatch.setenv("EMOFACE_CACHE", str(tmp_path))
    by_torch, by_onnx = Predictor(path, backend="torch"), Predictor(path, backend="onnx")
    feats, prosody = model_inputs(speech.samples, speech.prosody(), by_torch.cfg.n_phonetic)
    assert feats.shape[1] == 122 and np.abs(feats[:, 80:]).max() <= 1.0
    amounts = np.random.default_rng(2).dirichlet(np.ones(8), size=270).astype(np.float32)
    z = np.zeros(SMALL["d_latent"], np.float32)
    w1, h1 = run(by_torch, feats, amounts, z, core_s=100)
    w2, h2 = run(by_onnx, feats, amounts, z, core_s=1.5)
    assert np.abs(w1 - w2).max() < 1e-4 and np.abs(h1 - h2).max() < 1e-4
    p1, _ = by_torch.emotion(feats, prosody)
    p2, _ = by_onnx.emotion(feats, prosody)
    assert np.abs(p1 - p2).max() < 1e-4


@pytest.mark.parametrize("filtered", [False, True])
def test_the_sampler_adds_phone_scores_after_the_log_mel_and_augments_them(filtered):
    """Clips with phone scores give batches of 122 columns (164 with the phone loop's): the
    clean crop's scores, or for augmented crops scores of the augmented audio (still in
    range, not the clean ones)."""
    from emoface.audio.phonetic import phone_scores
    from emoface.train.data import Sampler

    pytest.importorskip("pocketsphinx")
    clip = _timestamped_clip()
    t = np.arange(6 * 16000) / 16000
    audio = 0.3 * np.sin(2 * np.pi * (150 + 50 * np.sin(3 * t)) * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    clip.audio = (audio * 32767).astype(np.int16)
    clip.phonetic = phone_scores(audio.astype(np.float32), filtered)[:600].astype(np.float16)
    width = 84 if filtered else 42
    clean = Sampler([clip], {"tts": 1.0}, 3.0, augment_prob=0.0).batch(4, np.random.default_rng(0))
    assert clean["mel"].shape[2] == 80 + width
    for b in range(4):
        start = int(round(float(clean["mel"][b, 0, 0]) * 8))
        assert np.array_equal(clean["mel"][b, :, 80:], clip.phonetic[start:start + 300].astype(np.float32))
    noisy = Sampler([clip], {"tts": 1.0}, 3.0, augment_prob=1.0, eq_prob=1.0).batch(
        4, np.random.default_rng(0))
    scores = noisy["mel"][:, :, 80:]
    assert scores.shape == (4, 300, width) and np.abs(scores).max() <= 1.0
    clean_crops = [clip.phonetic[a:a + 300].astype(np.float32) for a in range(0, 301, 10)]
    # whatever its start, an augmented crop's scores are not the clean ones (a mild recipe
    # changes little: a fixed gain or equaliser is taken out by the mean removal)
    change = [min(np.abs(scores[b] - c).mean() for c in clean_crops) for b in range(4)]
    assert min(change) > 0.005 and max(change) > 0.1


def test_a_lead_of_digital_silence_starts_the_clip_with_its_first_pose_held():
    """Crops drawn with a lead: the clip's start behind zeros, whose features are what the
    run-time front end gives digital silence, with the first pose, no voice and no phone."""
    from emoface.audio import Speech
    from emoface.audio.phonetic import phone_scores
    from emoface.engines.neural.engine import model_inputs
    from emoface.train.data import Sampler

    pytest.importorskip("pocketsphinx")
    clip = _timestamped_clip()
    t = np.arange(6 * 16000) / 16000
    audio = 0.3 * np.sin(2 * np.pi * 180 * t) * (t > 0.5)
    clip.audio = (audio * 32767).astype(np.int16)
    clip.phonetic = phone_scores(audio.astype(np.float32), True)[:600].astype(np.float16)
    clip.weights[:, 0] += 0.25                              # a first pose that is not zero
    sampler = Sampler([clip], {"tts": 1.0}, 3.0, augment_prob=0.0, lead_silence_prob=1.0)
    rng = np.random.default_rng(0)
    leads = set()
    for _ in range(6):
        item = sampler.sample(rng)
        lead = len(item["mel"]) - 300
        assert lead % 10 == 0 and 10 <= lead <= 100
        leads.add(lead)
        frames = lead * 3 // 10
        assert len(item["target"]) == 90 + frames and len(item["phones"]) == (len(item["mel"]) + 1) // 2
        assert np.allclose(item["target"][:frames + 1], clip.weights[0, 0].astype(np.float32))
        assert (item["phones"][:lead // 2] == -1).all() and not item["prosody"][:lead].any()
        silence = Speech(np.zeros(16000 * (lead // 100) + 16000, np.float32))
        feats, _ = model_inputs(silence.samples, silence.prosody(), 84, "utterance")
        assert np.allclose(item["mel"][:lead, :80], feats[:lead, :80])     # the log-mel floor
        assert np.abs(item["mel"][lead:, 80:]).max() <= 1.0
    assert len(leads) > 2


def test_a_dropped_log_mel_keeps_its_level_and_the_phone_scores():
    from emoface.train.data import Sampler

    clip = _timestamped_clip()
    clip.phonetic = np.random.default_rng(0).uniform(-1, 1, (600, 42)).astype(np.float16)
    batch = Sampler([clip], {"tts": 1.0}, 3.0, augment_prob=0.0, mel_drop_prob=1.0).batch(
        3, np.random.default_rng(1))
    for mel, scores in zip(batch["mel"][:, :, :80], batch["mel"][:, :, 80:]):
        starts = [a for a in range(0, 301, 10)
                  if np.array_equal(scores, clip.phonetic[a:a + 300].astype(np.float32))]
        assert len(starts) == 1                                # the scores: one crop, intact
        a = starts[0]
        assert np.allclose(mel, mel[:1])                       # the log-mel: flat in time,
        assert np.allclose(mel[0], clip.mel[a:a + 300].astype(np.float32).mean(0), atol=1e-3)


def test_banded_attention_equals_dense_attention_in_values_and_gradients():
    from emoface.engines.neural.network import alibi_slopes, banded_attention, local_bias

    torch.manual_seed(3)
    b, h, t, d, window, lookahead = 2, 3, 77, 8, 11, 5     # 77: not a whole number of blocks
    q, k, v = (torch.randn(b, h, t, d, dtype=torch.float64, requires_grad=True)
               for _ in range(3))
    slopes = alibi_slopes(h).double()
    banded = banded_attention(q, k, v, window, lookahead, slopes, block=16)
    scores = q @ k.transpose(-1, -2) / d ** 0.5 + local_bias(t, window, lookahead, slopes)[None]
    dense = torch.softmax(scores, -1) @ v
    assert torch.allclose(banded, dense, atol=1e-10)
    grad = torch.randn_like(dense)
    banded_grads = torch.autograd.grad(banded, (q, k, v), grad)
    dense_grads = torch.autograd.grad(dense, (q, k, v), grad)
    for got, want in zip(banded_grads, dense_grads):
        assert torch.allclose(got, want, atol=1e-10)


def test_dropout_drops_its_share_keeps_the_mean_and_is_off_in_eval():
    from emoface.engines.neural.network import Dropout

    drop = Dropout(0.1).train()
    x = torch.ones(999, 1001)                       # an odd count: the last draw half used
    torch.manual_seed(0)
    y = drop(x)
    torch.manual_seed(0)
    assert torch.equal(drop(x), y)                  # the generator's seed decides the mask
    dropped = (y == 0).double().mean().item()
    assert abs(dropped - 0.1) < 0.002               # 1e6 draws: 3 standard deviations is 0.001
    assert abs(y.mean().item() - 1.0) < 0.003
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(1 / 0.9)))
    # Neighbours take the two halves of the same draw: each half drops its share, and
    # the two are kept together no more often than chance.
    mask = (y.flatten()[:-1] != 0).double().view(-1, 2)
    assert torch.allclose(mask.mean(0), torch.tensor(0.9, dtype=torch.float64), atol=0.002)
    assert abs((mask[:, 0] * mask[:, 1]).mean().item() - 0.81) < 0.003
    assert torch.equal(drop.eval()(x), x)


def test_a_captured_clip_trains_every_emotion_on_the_real_lips():
    from emoface.arkit import INDEX
    from emoface.train.data import CAPTURED_CHANNELS, PREDICTED_INDEX, load_clip

    rng = np.random.default_rng(0)
    t = 12
    teacher = rng.uniform(0.1, 0.5, (3, t, 52)).astype(np.float32)
    capture = rng.uniform(0.1, 0.5, (t, 52)).astype(np.float32)

    class FakeCorpus:
        def features(self, row):
            return {"logmel": np.zeros((40, 80), np.float32), "f0_st": np.zeros(40),
                    "voiced": np.zeros(40, bool), "loudness": np.zeros(40)}

        def target_arrays(self, row):
            return {"captured_weights": capture, "weights": teacher,
                    "head": np.zeros((3, t, 3), np.float32),
                    "emotions": np.array(["angry", "neutral", "happy"]),
                    "intensities": np.array([0.7, 0.0, 1.0]), "label": np.array(-1)}

    row = {"id": "v", "source": "video", "speaker": "s", "emotion": "neutral",
           "intensity": 0.0, "flags": [], "phones": None}
    clip = load_clip(FakeCorpus(), row, keep_audio=False)
    assert clip.captured and clip.weights.shape == (3, t, 42)
    got = clip.weights.astype(np.float32)
    own, angry = got[1], got[0]
    lips, rest = CAPTURED_CHANNELS, ~CAPTURED_CHANNELS
    assert np.allclose(own[:, lips], capture[:, PREDICTED_INDEX][:, lips], atol=2e-3)
    assert np.allclose(own[:, rest], teacher[1][:, PREDICTED_INDEX][:, rest], atol=2e-3)
    # an emotion keeps its own change of the mouth, on the real lips
    change = teacher[0] - teacher[1]
    expected = np.clip(capture + change, 0, 1)[:, PREDICTED_INDEX]
    assert np.allclose(angry[:, lips], expected[:, lips], atol=2e-3)
    assert np.allclose(angry[:, rest], teacher[0][:, PREDICTED_INDEX][:, rest], atol=2e-3)
    assert clip.amounts[0].argmax() != 0 and clip.amounts[1][0] == 1.0
    assert CAPTURED_CHANNELS[list(PREDICTED_INDEX).index(INDEX["jawOpen"])]
