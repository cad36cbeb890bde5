"""The network run frame by frame as features arrive, with what each layer has computed
kept (a bounded cache per layer), so each new frame costs one frame of work per layer.

Every stage of :class:`~.network.EmoFaceNet` reaches a bounded past and future:

    front conv (k5) + conv (k5, stride 2)   2 + 2 feature frames ahead, 4 behind
    content blocks x4                       32 encoder frames behind, 1 ahead each
    50 -> 30 fps interpolation              the next encoder frame
    smoothing conv                          2 output frames behind (causal)
    decoder blocks x3                       24 output frames behind, none ahead

so an output frame is final as soon as the features it reaches exist, and each stage here
computes exactly the rows whose inputs are final, with the same zero padding and masks the
whole-input pass uses (keys outside the sequence are left out, which is what masking them
does). The result equals :meth:`EmoFaceNet.decode` on the whole input to float rounding.
One instance per stream; the network's weights are shared. :func:`push_many` advances
several streams at once: each layer runs once over all their new rows (the products are
tiny per stream, so per-call overhead, not arithmetic, was the cost). The attention
layers' caches of every stream of one network are held together, one tensor per layer
with a row per stream (:mod:`.stack_caches`), so they too cost a tick a few operations
whatever its number of streams; the stages before and after them keep small caches per
stream.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np
import torch
import torch.nn.functional as F

from .config import ENCODER_RATE, OUTPUT_FPS
from .stack_caches import StackCaches

# Per network: the attention caches of its content encoder and its decoder, shared by
# every stream of that network (gone with the network).
_STACKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STACKS_LOCK = threading.Lock()      # streams opened on two threads share one set


def _stacks(net) -> tuple[StackCaches, StackCaches]:
    with _STACKS_LOCK:
        stacks = _STACKS.get(net)
        if stacks is None:
            d, enc, dec = net.cfg.d_model, net.content, net.decoder
            stacks = (StackCaches(enc.blocks, d, enc.window, enc.lookahead, enc.slopes),
                      StackCaches(dec.blocks, d, dec.window, dec.lookahead, dec.slopes))
            _STACKS[net] = stacks
        return stacks


class Rows:
    """Rows of one stage with global indices: ``data[i - start]`` is row i; older rows
    are dropped by :meth:`keep_from`."""

    def __init__(self, width: int):
        self.data = torch.zeros(0, width)
        self.start = 0
        self.stop = 0             # a plain int: len() of a tensor is slow, and asked often

    def add(self, rows: torch.Tensor) -> None:
        n = rows.shape[0]
        if n:
            self.data = torch.cat([self.data, rows]) if self.stop > self.start else rows
            self.stop += n

    def get(self, a: int, b: int) -> torch.Tensor:
        """Rows a .. b-1 (kept ones only)."""
        if a < self.start or b > self.stop:
            raise IndexError(f"rows {a}..{b} not kept ({self.start}..{self.stop})")
        return self.data[a - self.start:b - self.start]

    def keep_from(self, i: int) -> None:
        if i > self.start:
            self.data = self.data[i - self.start:]
            self.start = i
            self.stop = max(self.stop, i)


def _split_rows(rows: torch.Tensor, counts: list[int]) -> list[torch.Tensor]:
    return list(torch.split(rows, counts)) if len(counts) > 1 else [rows]


def _joined(parts: list[torch.Tensor], width: int) -> tuple[torch.Tensor, list[int]]:
    counts = [len(p) for p in parts]
    if len(parts) == 1:
        return parts[0], counts
    return (torch.cat(parts) if sum(counts) else torch.zeros(0, width)), counts


class IncrementalNetwork:
    """Feed normalised-or-raw feature rows with :meth:`push` (log-mel and phone scores as
    :func:`~.engine.model_inputs` gives them), get (weights (n, 42), head (n, 3)) rows of
    output frames now final; :meth:`finish` with the final feature count ends the input.
    ``amounts_at(first, stop)`` gives the emotion amounts (n, 8) of output frames."""

    def __init__(self, net, z: np.ndarray):
        self.net = net
        cfg = net.cfg
        self.cfg = cfg
        d = cfg.d_model
        enc, dec = net.content, net.decoder
        self.enc, self.dec = enc, dec
        self.feats = Rows(cfg.n_features)        # normalised features, 100 fps
        self.front1 = Rows(d)                     # after the first conv(s) and GELU
        self.encoded = Rows(d)                    # content features after norm_out, 50 fps
        self.front2_done = 0
        with torch.inference_mode():
            zt = torch.from_numpy(np.asarray(z, np.float32))[None]
            self.tokens = torch.stack([dec.neutral_token[None], dec.latent_token(zt)], 1)[0]
            self.front_weights = _front_weights(enc)
            self.smooth_weight = dec.smooth.weight.reshape(d, -1)   # over (channel, tap) windows
        self.fused_tail = torch.zeros(2, d)       # the last two decoder inputs before smoothing
        self.token_sum = self.tokens.sum(0, keepdim=True)
        # This stream's rows in the attention caches of the network's streams.
        self.stacks = _stacks(net)
        with torch.inference_mode():
            self.content_slot = self.stacks[0].allocate()
            self.decoder_slot = self.stacks[1].allocate(self.tokens)
        for stack, slot in zip(self.stacks, (self.content_slot, self.decoder_slot)):
            weakref.finalize(self, stack.release, slot)
        self.n_out = 0                            # output frames given to the decoder
        self.total_feats: int | None = None
        self.total_out: int | None = None

    # ------------------------------------------------------------------ public
    def push(self, feats: np.ndarray, amounts_at) -> tuple[np.ndarray, np.ndarray]:
        return push_many([self], [feats], [amounts_at])[0]

    def finish(self, n_feats: int, n_out: int, amounts_at) -> tuple[np.ndarray, np.ndarray]:
        """No more features: ``n_feats`` in all (padding included), ``n_out`` output frames."""
        if self.feats.stop != n_feats:
            raise ValueError(f"{self.feats.stop} feature rows pushed, {n_feats} announced")
        self.total_feats, self.total_out = n_feats, n_out
        with torch.inference_mode():
            return _advance_many([self], [amounts_at])[0]

    # ------------------------------------------------------------------ stages
    @property
    def total50(self) -> int | None:
        return None if self.total_feats is None else (self.total_feats + 1) // 2

    def _front1_span(self) -> tuple[int, int]:
        """Conv 1's rows now computable (conv 1, k5 pad 2 at 100 fps, and the phone scores'
        conv beside it): row r reads feature rows r - 2 .. r + 2."""
        final = self.total_feats
        a = self.front1.stop
        return a, max(a, final if final is not None else self.feats.stop - 2)

    def _front2_span(self) -> tuple[int, int]:
        """Conv 2's rows now computable (k5, stride 2, pad 2): encoder frame j reads conv-1
        rows 2j-2 .. 2j+2."""
        ja = self.front2_done
        if self.total_feats is not None:
            return ja, max(ja, self.total50)
        return ja, max(ja, (self.front1.stop - 3) // 2 + 1)

    def _interpolation(self) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray] | None:
        """Output frames k0 .. k1 - 1 whose next encoder frame is final, and how each
        interpolates its two encoder frames: (k0, k1, lo, hi, weight of hi); None when
        there are none. In numpy: a few small operations per stream and tick."""
        total50 = self.total50
        stop = self.encoded.stop
        # Output frame k interpolates encoder frames floor(k * 5/3) and the next one.
        k0 = self.n_out
        if self.total_out is not None:
            k1 = self.total_out
        else:
            # Frames whose next encoder frame is final (positions rounded as below).
            span = max(0, int(stop * OUTPUT_FPS / ENCODER_RATE) + 2 - k0)
            pos = np.arange(k0, k0 + span + 1, dtype=np.float32) * _ENCODER_STEP
            k1 = k0 + int((np.floor(pos) + 1 < stop).sum())
        if k1 <= k0:
            return None
        pos = np.arange(k0, k1, dtype=np.float32) * _ENCODER_STEP
        if total50 is not None:
            pos = np.minimum(pos, np.float32(total50 - 1))
        lo = np.floor(pos).astype(np.int64)
        hi = lo + 1 if total50 is None else np.minimum(lo + 1, total50 - 1)
        return k0, k1, lo, hi, pos - lo.astype(np.float32)


# Output frame k sits at encoder frame k * 5/3 (float32, as the whole-input resampling).
_ENCODER_STEP = np.float32(ENCODER_RATE / OUTPUT_FPS)


def _windows(sources: list[Rows], spans: list[tuple[int, int]], stride: int,
             totals: list[int | None]) -> torch.Tensor:
    """Convolution windows (k5, pad 2) of several streams as rows of one matrix: output j
    of a stream reads its rows stride * j - 2 .. stride * j + 2 (zeros below 0 and from
    its total on), laid out channel-major as ``unfold`` does; (N, width * 5). One gather
    for all streams."""
    width = sources[0].data.shape[1]
    count = np.array([b - a for a, b in spans])
    if not count.sum():
        return torch.zeros(0, width * 5)
    data = torch.cat([r.data for r in sources] + [torch.zeros(1, width)])
    zero = data.shape[0] - 1
    # Per output row: its stream, its index j, its five source rows (global indices).
    who = np.repeat(np.arange(len(spans)), count)
    first = np.array([a for a, _ in spans])
    j = np.arange(len(who)) - np.repeat(np.cumsum(count) - count, count) + first[who]
    src = stride * j[:, None] + np.arange(-2, 3)[None]
    start = np.array([r.start for r in sources])[who][:, None]
    limit = np.array([r.stop if t is None else min(t, r.stop) for r, t in zip(sources, totals)])
    inside = (src >= 0) & (src < limit[who][:, None])
    if (inside & (src < start)).any():
        raise IndexError("convolution rows asked for are no longer kept")
    offset = np.cumsum([0] + [r.data.shape[0] for r in sources])[:-1][who][:, None]
    index = np.where(inside, src - start + offset, zero)
    return data[torch.from_numpy(index)].transpose(1, 2).reshape(len(index), -1)


def _front_weights(enc) -> tuple[torch.Tensor, ...]:
    """The front convolutions as matrices over their input windows (channel-major, as
    ``unfold`` lays them out); conv 1 and the phone scores' conv side by side."""
    c1, c2 = enc.front[0], enc.front[2]
    w1, b1 = c1.weight, c1.bias
    if enc.phonetic_in is not None:
        w1 = torch.cat([w1, enc.phonetic_in.weight], 1)
        b1 = b1 + enc.phonetic_in.bias
    return w1.reshape(len(w1), -1), b1, c2.weight.reshape(len(c2.weight), -1), c2.bias


def push_many(nets: list[IncrementalNetwork], feats: list[np.ndarray], amounts_at: list
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """:meth:`IncrementalNetwork.push` for several streams of the same network at once:
    each layer runs once on every stream's new rows (see :mod:`.stack_caches`)."""
    with torch.inference_mode():
        counts = [len(f) for f in feats]
        if sum(counts):
            rows = nets[0].net.normalise(torch.from_numpy(np.ascontiguousarray(np.concatenate(feats))))
            for net, part in zip(nets, _split_rows(rows, counts)):
                if len(part):
                    net.feats.add(part)
        return _advance_many(nets, amounts_at)


def _decoder_inputs(nets: list[IncrementalNetwork], amounts_at: list) -> list[torch.Tensor]:
    """Each stream's decoder input rows now final: its content rows interpolated to
    30 fps, with the emotion (FiLM), plus the causal smoothing of rows i-2 .. i; every
    step one operation for all streams."""
    first = nets[0]
    dec, d = first.dec, first.cfg.d_model
    fused = [torch.zeros(0, d) for _ in nets]
    plans = [n._interpolation() for n in nets]
    live = [i for i, p in enumerate(plans) if p is not None]
    if not live:
        return fused
    # Interpolation: the kept encoder rows of all streams side by side, indexed at once.
    encoded = torch.cat([nets[i].encoded.data for i in live]) if len(live) > 1 else nets[live[0]].encoded.data
    offsets = np.cumsum([0] + [nets[i].encoded.data.shape[0] for i in live])
    lo = np.concatenate([plans[i][2] - nets[i].encoded.start + o for i, o in zip(live, offsets)])
    hi = np.concatenate([plans[i][3] - nets[i].encoded.start + o for i, o in zip(live, offsets)])
    w = torch.from_numpy(np.concatenate([plans[i][4] for i in live]))[:, None]
    content = encoded[torch.from_numpy(lo)] * (1 - w) + encoded[torch.from_numpy(hi)] * w
    counts = [plans[i][1] - plans[i][0] for i in live]
    amounts = np.concatenate([np.asarray(amounts_at[i](plans[i][0], plans[i][1]), np.float32)
                              for i in live])
    for i in live:
        nets[i].encoded.keep_from(int(plans[i][2][-1]))
    e = dec.emotion_embed(torch.from_numpy(amounts))
    tokens = torch.cat([nets[i].token_sum for i in live]).repeat_interleave(torch.tensor(counts), 0)
    gamma, beta = dec.film(e + tokens).chunk(2, -1)
    x = content * (1 + gamma) + beta + e
    # Smoothing (a causal k3 convolution) as one product over every row's window: each
    # stream's last two inputs, then its new ones, side by side.
    parts = _split_rows(x, counts)
    rows = torch.cat([t for i, p in zip(live, parts) for t in (nets[i].fused_tail, p)])
    starts = np.cumsum([0] + [c + 2 for c in counts])[:-1]
    at = np.concatenate([np.arange(c) + s for c, s in zip(counts, starts)])
    windows = rows[torch.from_numpy(at[:, None] + np.arange(3)[None])]            # (N, 3, d)
    smooth = F.linear(windows.transpose(1, 2).reshape(len(at), -1), first.smooth_weight,
                      dec.smooth.bias)
    for i, p, s, c, sm in zip(live, parts, starts, counts, _split_rows(smooth, counts)):
        nets[i].fused_tail = rows[s + c:s + c + 2]
        nets[i].n_out += c
        fused[i] = p + sm
    return fused


def _advance_many(nets: list[IncrementalNetwork], amounts_at: list):
    first = nets[0]
    if any(n.stacks is not first.stacks for n in nets):
        raise ValueError("streams of different networks cannot advance together")
    enc, dec, d = first.enc, first.dec, first.cfg.d_model
    content_stack, decoder_stack = first.stacks
    w1, b1, w2, b2 = first.front_weights
    spans = [n._front1_span() for n in nets]
    windows = _windows([n.feats for n in nets], spans, 1, [n.total_feats for n in nets])
    if len(windows):
        rows = enc.front[1](F.linear(windows, w1, b1))
        for net, (_, b), part in zip(nets, spans, _split_rows(rows, [b - a for a, b in spans])):
            if len(part):
                net.front1.add(part)
                net.feats.keep_from(b - 2)
    spans = [n._front2_span() for n in nets]
    windows = _windows([n.front1 for n in nets], spans, 2, [n.total_feats for n in nets])
    for net, (a, b) in zip(nets, spans):
        if b > a:   # keep the conv-1 rows later frames read
            net.front2_done = b
            net.front1.keep_from(2 * b - 2)
    counts = [b - a for a, b in spans]
    front = enc.front[3](F.linear(windows, w2, b2)) if len(windows) else windows
    content_in = _split_rows(enc.norm_in(front) if len(front) else front.new_zeros(0, d), counts)
    out = content_stack.run([n.content_slot for n in nets], content_in,
                            [n.total_feats is not None for n in nets])
    x, counts = _joined(out, d)
    if len(x):
        for net, rows in zip(nets, _split_rows(enc.norm_out(x), counts)):
            if len(rows):
                net.encoded.add(rows)
    fused = _decoder_inputs(nets, amounts_at)
    out = decoder_stack.run([n.decoder_slot for n in nets], fused,
                            [n.total_out is not None for n in nets])
    x, counts = _joined(out, d)
    if not len(x):
        empty = (np.zeros((0, first.cfg.n_outputs), np.float32), np.zeros((0, 3), np.float32))
        return [empty] * len(nets)
    x = dec.norm(x)
    weights = torch.sigmoid(dec.weights(x)).numpy()
    head = (0.3 * torch.tanh(dec.head(x))).numpy()
    bounds = np.cumsum([0] + counts)
    return [(weights[a:b], head[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
