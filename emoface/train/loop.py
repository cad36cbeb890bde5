"""``emoface train CONFIG``: fit the network to a corpus.

One code path for this 2-core CPU, one GPU, or several GPUs or machines under ``torchrun``
(DistributedDataParallel: gradients averaged over the ranks every step; docs/cluster.md).
A step's global batch is ``batch_size`` x ``accumulate`` x ranks clips, drawn as
``accumulate`` x ranks micro-batches, each from its own data stream (stream ``rank *
accumulate + k``), so one process with ``accumulate = N`` sees the batches N ranks see and
takes the same steps, up to rounding.
A run folder holds ``config.toml`` (as used), ``log.jsonl``, ``loss.png``,
``last.safetensors`` / ``best.safetensors`` (weights with the model and training configs in
the metadata), ``average.safetensors`` when the recipe asks for checkpoint averaging
(``average_from``), and ``state.pt`` (optimizer, schedule and random states) so that
``--resume`` continues exactly where a run stopped.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
import tomllib
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..data.corpus import Corpus
from ..engines.neural.checkpoint import load_network, read_config, save_checkpoint
from ..engines.neural.config import REMOVED_OPTIONS, ModelConfig
from ..errors import UserError
from .data import Sampler, load_clip

# Settings of earlier versions, with the value that disabled them.
REMOVED_SETTINGS = {"stretch_prob": 0.0, "mask_prob": 0.0, "exclude_speakers": []}


@dataclass
class TrainConfig:
    corpus: str = "corpus"
    crop_seconds: float = 3.0
    source_weights: dict = field(default_factory=lambda: {"tts": 0.5, "asterisk": 0.2, "emodb": 0.3})
    mix_prob: float = 0.3
    augment_prob: float = 0.5
    eq_prob: float = 0.0             # of an augmented crop: a random smooth equaliser
    mel_drop_prob: float = 0.0       # of crops with phone scores: the log-mel flattened whole
    lead_silence_prob: float = 0.0   # of crops: the clip's start behind up to 1 s of zeros
    steps: int = 6000
    batch_size: int = 16             # clips per micro-batch (per rank)
    accumulate: int = 1              # micro-batches whose gradients make one step
    lr: float = 1e-3
    warmup_steps: int = 300
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0
    eval_every: int = 250
    threads: int = 0                 # 0: torch's default
    w_reconstruction: float = 1.0
    w_velocity: float = 0.5
    w_lips: float = 1.0
    w_weight_kl: float = 0.0
    w_head: float = 0.2
    w_emotion: float = 0.3
    w_intensity: float = 0.2
    w_latent: float = 0.01
    # Auxiliary phone classification from the content features (needs model n_phones).
    w_phone: float = 0.0
    model: dict = field(default_factory=dict)  # ModelConfig overrides
    # "animation" (content encoder, decoder, latent), "emotion" (the voice emotion branch)
    # or "all". The two share no weights, so they can be trained as separate stages.
    train_parts: str = "all"
    init_from: str = ""              # start from these weights (e.g. the animation stage)
    balance_emotions: bool = False   # draw labelled clips evenly over emotions
    fold_speaker: str = ""           # leave-one-speaker-out: train on every other speaker
    # Checkpoint averaging: from this step on, the weights at every evaluation are averaged
    # (equal shares) into average.safetensors, which the run then returns. 0: off.
    average_from: int = 0

    @classmethod
    def load(cls, path: str | os.PathLike, **overrides) -> TrainConfig:
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise UserError(f"no such training config: {str(path)!r}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UserError(f"{str(path)!r} is not valid TOML ({exc})") from None
        flat = {**data.get("data", {}), **data.get("train", {}), "model": data.get("model", {})}
        # Settings of tried and removed options (docs/experiments.md): a run folder's
        # config.toml from before keeps them at their disabled values.
        for table, removed in ((flat, REMOVED_SETTINGS), (flat["model"], REMOVED_OPTIONS)):
            for key, off in removed.items():
                if key in table and table.pop(key) != off:
                    raise UserError(f"{str(path)!r}: {key} was an experiment and is no longer "
                                    "an option (see docs/experiments.md)")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(flat) - known)
        if unknown:
            raise UserError(f"{str(path)!r}: unknown setting(s) {', '.join(unknown)}")
        cfg = cls(**flat)
        return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})

    def model_config(self) -> ModelConfig:
        return ModelConfig(**self.model)

    def to_toml(self) -> str:
        data, train = {}, {}
        for k, v in asdict(self).items():
            if k == "model":
                continue
            (data if k in ("corpus", "crop_seconds", "source_weights", "mix_prob",
                           "augment_prob", "eq_prob", "mel_drop_prob", "lead_silence_prob",
                           "balance_emotions",
                           "fold_speaker")
             else train)[k] = v
        return "\n".join(["[data]", *(_toml_line(k, v) for k, v in data.items()), "",
                          "[train]", *(_toml_line(k, v) for k, v in train.items()), "",
                          "[model]", *(_toml_line(k, v) for k, v in self.model.items()), ""])


def _toml_line(key, value) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
        return f"{key} = {{ {inner} }}"
    return f"{key} = {json.dumps(value)}"


# --------------------------------------------------------------------------- helpers
def _distributed():
    """(ranks, this rank), joining the process group torchrun describes in the
    environment: NCCL between GPUs, gloo on CPUs."""
    import torch
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if world > 1 else 0
    return world, rank


def _loss_module(net, cfg: TrainConfig):
    """The training losses as one module call: DistributedDataParallel averages gradients
    over the ranks from hooks it sets in its forward call, so the losses must be computed
    inside one (calling the network's parts directly would train each rank alone)."""
    import torch

    class Losses(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, batch, generator=None):
            return compute_losses(self.net, batch, cfg, generator)

    return Losses()


def _mean_over_ranks(parts: dict[str, float], world: int, device) -> dict[str, float]:
    """Loss terms averaged over the ranks: the loss of the global batch, the same on
    every rank (what the log shows)."""
    if world == 1:
        return parts
    import torch
    import torch.distributed as dist

    keys = sorted(parts)
    values = torch.tensor([parts[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(values)
    return {k: float(v) / world for k, v in zip(keys, values.tolist())}


def _gather(obj, world: int) -> list:
    """``obj`` of every rank, in rank order (every rank must call this)."""
    if world == 1:
        return [obj]
    import torch.distributed as dist

    out = [None] * world
    dist.all_gather_object(out, obj)
    return out


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def reads_phone_scores(cfg: TrainConfig) -> int:
    """How many phone-score columns the network this recipe trains reads (its [model]
    settings, else the weights it starts from); 0: none."""
    if "n_phonetic" in cfg.model:
        return int(cfg.model["n_phonetic"])
    if cfg.init_from:

        return int(read_config(cfg.init_from).n_phonetic)
    return 0


def load_clips(cfg: TrainConfig, split: str, keep_audio: bool, quiet: bool):
    """Clips of ``split``; for a leave-one-speaker-out fold (``fold_speaker``), training
    takes that source's other speakers from every split and validation takes none."""
    from tqdm import tqdm


    corpus = Corpus(cfg.corpus)
    excluded = {cfg.fold_speaker} if cfg.fold_speaker else set()
    rows = [r for r in corpus.rows(split=split) if r["speaker"] not in excluded]
    if cfg.fold_speaker:
        sources = {r["source"] for r in corpus.manifest if r["speaker"] == cfg.fold_speaker}
        if not sources:
            raise UserError(f"no speaker {cfg.fold_speaker!r} in corpus {cfg.corpus!r}")
        fold_source = sources.pop()
        if split == "train":
            rows += [r for r in corpus.rows(source=fold_source)
                     if r["split"] != "train" and r["speaker"] not in excluded]
        else:
            rows = []
    if split == "train":
        # Only the sources the recipe samples: the others would cost loading time and
        # memory, and would enter a fresh network's log-mel statistics (stage 1 of the
        # bundled model predates the Flite source; with this its statistics do not see it).
        rows = [r for r in rows if cfg.source_weights.get(r["source"], 0) > 0]
    phonetic = reads_phone_scores(cfg)
    return [load_clip(corpus, r, keep_audio, phonetic)
            for r in tqdm(rows, desc=f"loading {split}", unit="clip", disable=quiet or None)]


def mel_statistics(clips) -> tuple[np.ndarray, np.ndarray]:
    total = np.zeros(80, np.float64)
    square = np.zeros(80, np.float64)
    count = 0
    for c in clips:
        m = c.mel.astype(np.float64)
        total += m.sum(0)
        square += (m * m).sum(0)
        count += len(m)
    mean = total / max(count, 1)
    std = np.sqrt(np.maximum(square / max(count, 1) - mean * mean, 1e-6))
    return mean.astype(np.float32), std.astype(np.float32)


def _to_tensors(batch: dict, device):
    import torch

    return {k: torch.from_numpy(v).to(device) for k, v in batch.items()}


def compute_losses(net, batch, cfg: TrainConfig, generator=None):
    """The loss terms of the parts being trained, for one batch (a dict of tensors);
    returns (total, parts)."""
    import torch

    from . import losses

    module = getattr(net, "module", net)
    parts: dict[str, torch.Tensor] = {}
    if cfg.train_parts in ("all", "emotion"):
        _, _, logits, intensity = module.encode_emotion(batch["mel"], batch["prosody"],
                                                        batch["mel_mask"])
        parts["emotion"], parts["intensity"] = losses.emotion_loss(
            logits, intensity, batch["label"], batch["intensity"])
    if cfg.train_parts in ("all", "animation"):
        mu, logvar = module.posterior(batch["target"])
        if module.training:
            noise = torch.randn(mu.shape, generator=generator, device=mu.device)
            z = mu + noise * (0.5 * logvar).exp()
        else:
            z = torch.zeros_like(mu)
        content = module.content(module.normalise(batch["mel"]))
        weights, head = module.decode_content(content, batch["amounts"], z,
                                              batch["amounts"].shape[1])
        if cfg.w_phone:
            if module.content.phone_head is None:
                raise UserError("w_phone needs a phone head: set n_phones in [model]")
            parts["phone"] = losses.phone_loss(module.content.phone_head(content), batch["phones"])
        mask = batch["out_mask"]
        trust = batch.get("channel_weight")   # captured clips: per-channel trust
        parts["reconstruction"] = losses.reconstruction(weights, batch["target"], mask, trust)
        parts["velocity"] = losses.velocity(weights, batch["target"], mask, trust)
        parts["lips"] = losses.lips(weights, batch["target"], mask, batch.get("captured"))
        if cfg.w_weight_kl:
            parts["weight_kl"] = losses.weight_kl(weights, batch["target"], mask, trust)
        head_mask = mask
        if "head_weight" in batch:   # captured clips have no head target
            head_mask = mask & (batch["head_weight"][:, None] > 0)
        parts["head"] = losses.masked_mean((head - batch["head"]).abs(), head_mask)
        parts["latent"] = losses.kl_free_bits(mu, logvar)
    total = sum(getattr(cfg, f"w_{k}") * v for k, v in parts.items())
    return total, {k: float(v.detach()) for k, v in parts.items()}


PART_MODULES = {"animation": ("content", "decoder", "posterior"), "emotion": ("emotion",)}


def trained_parameters(net, parts: str):
    if parts == "all":
        return list(net.parameters())
    return [p for name in PART_MODULES[parts] for p in getattr(net, name).parameters()]


def _freeze_untrained(net, cfg: TrainConfig) -> None:
    trained = {id(p) for p in trained_parameters(net, cfg.train_parts)}
    phone_head = net.content.phone_head
    if phone_head is not None and not cfg.w_phone:
        trained -= {id(p) for p in phone_head.parameters()}
    for p in net.parameters():
        if id(p) not in trained:
            p.requires_grad_(False)


def evaluate(net, sampler, cfg: TrainConfig, device, batches: int = 8) -> dict:
    """Validation losses on fixed batches (the same every time: seed 12345)."""
    import torch

    rng = np.random.default_rng(12345)
    net.eval()
    sums: dict[str, float] = {}
    correct = labelled = 0
    with torch.no_grad():
        for _ in range(batches):
            batch = _to_tensors(sampler.batch(cfg.batch_size, rng), device)
            _, parts = compute_losses(net, batch, cfg)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v / batches
            if cfg.train_parts == "animation":
                continue
            module = getattr(net, "module", net)
            _, _, logits, _ = module.encode_emotion(batch["mel"], batch["prosody"], batch["mel_mask"])
            known = batch["label"] >= 0
            correct += int((logits.argmax(-1)[known] == batch["label"][known]).sum())
            labelled += int(known.sum())
    net.train()
    sums["emotion_accuracy"] = correct / labelled if labelled else float("nan")
    return sums


# ----------------------------------------------------------------------------- run
def train(config_path: str | os.PathLike, out: str | os.PathLike, resume: bool = False,
          **overrides) -> Path:
    """Train the recipe at ``config_path`` into the run folder ``out``; the weights file
    the run chose (see :func:`_result_path`)."""
    return fit(config_path, out, resume, **overrides)[1]


def fit(config_path: str | os.PathLike, out: str | os.PathLike, resume: bool = False,
        **overrides):
    """:func:`train`, returning (this rank's network as trained, or None when a resumed run
    had nothing left to do; the weights file the run chose)."""
    import torch
    from tqdm import tqdm

    from ..engines.neural.network import EmoFaceNet

    cfg = TrainConfig.load(config_path, **overrides)
    if cfg.accumulate < 1:
        raise UserError(f"{str(config_path)!r}: accumulate must be 1 or more, not {cfg.accumulate}")
    world, rank = _distributed()
    main = rank == 0
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
                          if torch.cuda.is_available() else "cpu")
    out = Path(out)
    state_path = out / "state.pt"
    if main:
        out.mkdir(parents=True, exist_ok=True)
        if not resume and state_path.exists():
            raise UserError(f"{str(out)!r} already holds a run; use --resume or another --out")
        (out / "config.toml").write_text(cfg.to_toml())
    if resume and world == 1 and _finished_steps(state_path) >= cfg.steps:
        # Nothing left to train (a rerun of `make model`): skip minutes of clip loading.
        return None, _result_path(cfg, out)

    clips = load_clips(cfg, "train", keep_audio=cfg.augment_prob > 0, quiet=not main)
    val_clips = load_clips(cfg, "val", keep_audio=False, quiet=not main)
    if not clips:
        raise UserError(f"no training clips in corpus {cfg.corpus!r}")
    sampler = Sampler(clips, cfg.source_weights, cfg.crop_seconds, cfg.mix_prob, cfg.augment_prob,
                      balance_emotions=cfg.balance_emotions, eq_prob=cfg.eq_prob,
                      mel_drop_prob=cfg.mel_drop_prob, lead_silence_prob=cfg.lead_silence_prob)
    val_sampler = Sampler(val_clips or clips, {s: 1.0 for s in {c.source for c in val_clips or clips}},
                          cfg.crop_seconds, mix_prob=0.0, augment_prob=0.0)

    torch.manual_seed(cfg.seed)
    if cfg.init_from:
        net = _network_from(cfg).train().to(device)
    else:
        net = EmoFaceNet(cfg.model_config()).to(device)
        mean, std = mel_statistics(clips)
        net.mel_mean.copy_(torch.from_numpy(mean))
        net.mel_std.copy_(torch.from_numpy(std))
    if world > 1:  # the ranks start from the same weights but should not drop the same units
        torch.manual_seed(cfg.seed * 1000 + rank)
    opt = torch.optim.AdamW(trained_parameters(net, cfg.train_parts), lr=cfg.lr,
                            weight_decay=cfg.weight_decay)
    # This rank's data streams, one per micro-batch of a step: stream (rank * accumulate +
    # k) draws the clips (numpy) and the latent noise (torch) of micro-batch k.
    streams = [rank * cfg.accumulate + k for k in range(cfg.accumulate)]
    rngs = [np.random.default_rng([cfg.seed, s]) for s in streams]
    gens = [torch.Generator(device=device).manual_seed(cfg.seed * 1000 + s) for s in streams]
    step, best, log = 0, float("inf"), []
    average: dict | None = None
    averaged = 0
    if resume and state_path.exists():
        state = torch.load(state_path, weights_only=False, map_location=device)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        # One state per stream (a state of an older version: one for stream 0 only).
        saved_torch = state["torch_rng"]
        if isinstance(saved_torch, torch.Tensor):
            saved_torch = [saved_torch]
        for s, rng, gen in zip(streams, rngs, gens):
            if s < len(state["numpy_rng"]):
                rng.bit_generator.state = state["numpy_rng"][s]
            if s < len(saved_torch):
                gen.set_state(saved_torch[s].cpu())
        step, best, log = state["step"], state["best"], state["log"]
        average, averaged = state.get("average"), state.get("averaged", 0)
    loss_fn = _loss_module(net, cfg)
    if world > 1:
        # DDP waits every step for a gradient of each parameter that requires one: the
        # parts this stage does not train (train_parts, a phone head at w_phone = 0) get
        # none, so they are frozen here (they would not move anyway). Buffers are not
        # synchronised: the log-mel statistics are equal on every rank and never change,
        # and gloo cannot send the dropout's int16 thresholds. torch 2.13 deprecates
        # broadcast_buffers, but its successor still sends buffers once at the start.
        _freeze_untrained(net, cfg)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "`broadcast_buffers` is deprecated", FutureWarning)
            loss_fn = torch.nn.parallel.DistributedDataParallel(loss_fn, broadcast_buffers=False)

    bar = tqdm(total=cfg.steps, initial=step, desc="training", unit="step", disable=not main or None)
    running: dict[str, float] = {}
    started = time.time()
    net.train()
    while step < cfg.steps:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        opt.zero_grad(set_to_none=True)
        parts: dict[str, float] = {}
        for k, (rng, gen) in enumerate(zip(rngs, gens)):
            batch = _to_tensors(sampler.batch(cfg.batch_size, rng), device)
            last = k == cfg.accumulate - 1
            # gradients are averaged over the ranks once, with the last micro-batch
            with contextlib.nullcontext() if last or world == 1 else loss_fn.no_sync():
                loss, micro = loss_fn(batch, gen)
                (loss / cfg.accumulate).backward()
            for key, v in micro.items():
                parts[key] = parts.get(key, 0.0) + v / cfg.accumulate
        parts = _mean_over_ranks(parts, world, device)
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        for key, v in parts.items():
            running[key] = 0.98 * running.get(key, v) + 0.02 * v
        bar.update(1)
        bar.set_postfix({k: f"{v:.4f}" for k, v in running.items() if k in ("reconstruction", "emotion")})
        if step % cfg.eval_every == 0 or step == cfg.steps:
            # every rank's data streams, so that --resume continues each of them
            numpy_states = [st for states in _gather([r.bit_generator.state for r in rngs], world)
                            for st in states]
            torch_states = [st for states in _gather([g.get_state() for g in gens], world)
                            for st in states]
        if main and (step % cfg.eval_every == 0 or step == cfg.steps):
            val = evaluate(net, val_sampler, cfg, device)
            entry = {"step": step, "lr": lr_at(step, cfg), "seconds": round(time.time() - started, 1),
                     "train": dict(running), "val": val}
            log.append(entry)
            with open(out / "log.jsonl", "a") as f:
                f.write(json.dumps(entry) + "\n")
            score = (val["reconstruction"] + 0.5 * val["velocity"] + val["lips"]
                     if cfg.train_parts != "emotion"
                     else val["emotion"])
            meta = {"step": str(step), "train_config": cfg.to_toml()}
            save_checkpoint(net, out / "last.safetensors", meta)
            if score < best:
                best = score
                save_checkpoint(net, out / "best.safetensors", meta)
            if cfg.average_from and step >= cfg.average_from:
                average, averaged = _add_to_average(average, averaged, net.state_dict())
                _save_average(net, average, out / "average.safetensors",
                              {**meta, "averaged_checkpoints": str(averaged)})
            torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(),
                        "numpy_rng": numpy_states, "torch_rng": torch_states,
                        "step": step, "best": best, "log": log, "average": average,
                        "averaged": averaged}, state_path.with_suffix(".tmp"))
            os.replace(state_path.with_suffix(".tmp"), state_path)
            plot_losses(log, out / "loss.png")
    bar.close()
    if world > 1:
        import torch.distributed as dist

        dist.barrier()  # rank 0's last checkpoint is written before any rank leaves
        dist.destroy_process_group()
    return net, _result_path(cfg, out)


def _network_from(cfg: TrainConfig):
    """The network of ``init_from``, with the recipe's [model] settings applied on top:
    only new heads may be added (their weights start fresh); every weight the file has
    must fit the new network."""
    from dataclasses import replace as replace_fields

    from ..engines.neural.network import EmoFaceNet

    start = load_network(cfg.init_from)
    if not cfg.model:
        return start
    try:
        net = EmoFaceNet(replace_fields(start.cfg, **cfg.model))
        result = net.load_state_dict(start.state_dict(), strict=False)
    except (TypeError, RuntimeError) as exc:
        raise UserError(f"[model] settings do not fit the weights of {cfg.init_from!r} "
                        f"({str(exc).splitlines()[0]})") from None
    if result.unexpected_keys:
        raise UserError(f"[model] settings drop weights of {cfg.init_from!r}: "
                        f"{', '.join(result.unexpected_keys[:3])}")
    return net


def _result_path(cfg: TrainConfig, out: Path) -> Path:
    if cfg.average_from and (out / "average.safetensors").is_file():
        return out / "average.safetensors"
    # The emotion stage keeps its last weights, the rule its leave-one-speaker-out folds
    # follow too (they have no validation speaker to choose by), so the reported recall
    # describes exactly the shipped recipe.
    return out / ("last.safetensors" if cfg.train_parts == "emotion" else "best.safetensors")


def _finished_steps(state_path: Path) -> int:
    """Steps a stopped run has done (0 without a readable state)."""
    import torch

    if not state_path.is_file():
        return 0
    try:
        return int(torch.load(state_path, weights_only=False, map_location="cpu")["step"])
    except Exception:  # noqa: BLE001 - an unreadable state is resumed (and reported) below
        return 0


def _add_to_average(average: dict | None, count: int, weights: dict) -> tuple[dict, int]:
    """Running equal-share mean of floating-point tensors (buffers such as the mel
    statistics are equal in every checkpoint, so they average to themselves)."""
    count += 1
    if average is None:
        return {k: v.detach().clone().float() for k, v in weights.items()}, count
    for k, v in weights.items():
        if v.is_floating_point():
            average[k] += (v.detach().float() - average[k]) / count
        else:
            average[k] = v.detach().clone()
    return average, count


def _save_average(net, average: dict, path: Path, meta: dict) -> None:
    """Write the averaged weights through a copy of the network (same file format as
    every other checkpoint)."""
    import copy


    twin = copy.deepcopy(net)
    dtypes = {k: v.dtype for k, v in net.state_dict().items()}
    twin.load_state_dict({k: v.to(dtypes[k]) for k, v in average.items()})
    save_checkpoint(twin, path, meta)


def plot_losses(log: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [e["step"] for e in log]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))

    def curve(ax, key, label):
        if key in log[-1]["train"]:
            ax.plot(steps, [e["train"][key] for e in log], label=f"train {label}")
        if key in log[-1]["val"]:
            ax.plot(steps, [e["val"][key] for e in log], "--", label=f"val {label}")

    for key in ("reconstruction", "lips", "velocity", "head"):
        curve(axes[0], key, key)
    axes[0].set_title("animation losses (L1)")
    curve(axes[1], "emotion", "voice emotion")
    curve(axes[1], "phone", "phones (content head)")
    axes[1].set_title("cross-entropies")
    if any(e["val"].get("emotion_accuracy") == e["val"].get("emotion_accuracy") for e in log):
        axes[2].plot(steps, [e["val"].get("emotion_accuracy") for e in log], label="val accuracy")
    axes[2].set_ylim(0, 1)
    axes[2].set_title("voice emotion accuracy (val)")
    for ax in axes:
        ax.set_xlabel("step")
        if ax.lines:
            ax.legend(fontsize=7)
        else:  # a stage that trains only the other part of the network
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(0.5, 0.5, "not trained in this stage", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
    if axes[0].lines:
        axes[0].set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
