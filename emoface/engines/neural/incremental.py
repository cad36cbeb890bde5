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

import weakref

import numpy as np
import torch
import torch.nn.functional as F

from .config import ENCODER_RATE, OUTPUT_FPS
from .stack_caches import StackCaches

# Per network: the attention caches of its content encoder and its decoder, shared by
# every stream of that network (gone with the network).
_STACKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _stacks(net) -> tuple[StackCaches, StackCaches]:
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


def _padded(rows: Rows, a: int, b: int, total: int | None) -> torch.Tensor:
    """Rows a .. b-1 with zeros below 0 and from ``total`` on (the convolutions' padding)."""
    lo = max(a, 0)
    hi = max(lo, b if total is None else min(b, total))
    if hi > lo and (lo < rows.start or hi > rows.stop):
        raise IndexError(f"rows {lo}..{hi} not kept ({rows.start}..{rows.stop})")
    mid = rows.data[lo - rows.start:hi - rows.start] if hi > lo else rows.data[:0]
    if lo == a and hi == b:
        return mid
    return F.pad(mid, (0, 0, lo - a, b - hi))


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
        self.fused = Rows(d)                      # decoder input before smoothing
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

    def _front1_windows(self) -> torch.Tensor:
        """Conv 1's input windows (n, C * 5) of its new rows: conv 1 (k5, pad 2) at 100 fps,
        the phone scores' conv beside it, run as one product for all streams."""
        final = self.total_feats
        a = self.front1.stop
        b = final if final is not None else self.feats.stop - 2
        if b <= a:
            return torch.zeros(0, self.cfg.n_features * 5)
        x = _padded(self.feats, a - 2, b + 2, final).T                 # (C, n + 4)
        self.feats.keep_from(b - 2)
        return x.unfold(1, 5, 1).transpose(0, 1).reshape(b - a, -1)

    def _front2_windows(self) -> torch.Tensor:
        """Conv 2's windows (k5, stride 2, pad 2): encoder frame j reads conv-1 rows
        2j-2 .. 2j+2."""
        final = self.total_feats
        ja = self.front2_done
        jb = self.total50 if final is not None else max(ja, (self.front1.stop - 3) // 2 + 1)
        if jb <= ja:
            return torch.zeros(0, self.cfg.d_model * 5)
        x = _padded(self.front1, 2 * ja - 2, 2 * jb + 1, final).T
        self.front2_done = jb
        self.front1.keep_from(2 * jb - 2)
        return x.unfold(1, 5, 2).transpose(0, 1).reshape(jb - ja, -1)

    def _content_and_amounts(self, amounts_at):
        """Output frames whose next encoder frame is final: their interpolated content
        rows and emotion amounts (None when there are none)."""
        total50 = self.total50
        # Output frame k interpolates encoder frames floor(k * 5/3) and the next one.
        k0 = self.n_out
        if self.total_out is not None:
            k1 = self.total_out
        else:
            # Frames whose next encoder frame is final (positions rounded as below).
            span = max(0, int(self.encoded.stop * OUTPUT_FPS / ENCODER_RATE) + 2 - k0)
            pos = torch.arange(k0, k0 + span + 1, dtype=torch.float32) * (ENCODER_RATE / OUTPUT_FPS)
            k1 = k0 + int((pos.floor() + 1 < self.encoded.stop).sum())
        if k1 <= k0:
            return None
        pos = torch.arange(k0, k1, dtype=torch.float32) * (ENCODER_RATE / OUTPUT_FPS)
        if total50 is not None:
            pos = pos.clamp(max=total50 - 1)
        lo = pos.floor().long()
        hi = lo + 1 if total50 is None else (lo + 1).clamp(max=total50 - 1)
        w = (pos - lo.to(pos.dtype))[:, None]
        base = self.encoded.start
        content = self.encoded.data[lo - base] * (1 - w) + self.encoded.data[hi - base] * w
        self.encoded.keep_from(int(lo[-1]))
        amounts = torch.from_numpy(np.ascontiguousarray(amounts_at(k0, k1), np.float32))
        return content, amounts

    def _smoothed(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's input: fused rows plus the causal smoothing of rows i-2 .. i."""
        k0, k1 = self.n_out, self.n_out + len(x)
        self.fused.add(x)
        xs = _padded(self.fused, k0 - 2, k1, None).T[None]
        smooth = F.conv1d(xs, self.dec.smooth.weight, self.dec.smooth.bias)[0].T
        self.fused.keep_from(k1 - 2)
        self.n_out = k1
        return x + smooth


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
        for net, f in zip(nets, feats):
            if len(f):
                net.feats.add(net.net.normalise(torch.from_numpy(np.ascontiguousarray(f))))
        return _advance_many(nets, amounts_at)


def _advance_many(nets: list[IncrementalNetwork], amounts_at: list):
    first = nets[0]
    if any(n.net is not first.net for n in nets):
        raise ValueError("streams of different networks cannot advance together")
    enc, dec, d = first.enc, first.dec, first.cfg.d_model
    content_stack, decoder_stack = first.stacks
    w1, b1, w2, b2 = first.front_weights
    windows, counts = _joined([n._front1_windows() for n in nets], w1.shape[1])
    if len(windows):
        rows = enc.front[1](F.linear(windows, w1, b1))
        for net, part in zip(nets, _split_rows(rows, counts)):
            if len(part):
                net.front1.add(part)
    windows, counts = _joined([n._front2_windows() for n in nets], w2.shape[1])
    front = enc.front[3](F.linear(windows, w2, b2)) if len(windows) else windows
    content_in = _split_rows(enc.norm_in(front) if len(front) else front.new_zeros(0, d), counts)
    out = content_stack.run([n.content_slot for n in nets], content_in,
                            [n.total_feats is not None for n in nets])
    x, counts = _joined(out, d)
    if len(x):
        for net, rows in zip(nets, _split_rows(enc.norm_out(x), counts)):
            if len(rows):
                net.encoded.add(rows)
    # Decoder input: content rows with the emotion (FiLM), one batch for all streams.
    found = [n._content_and_amounts(f) for n, f in zip(nets, amounts_at)]
    live = [i for i, f in enumerate(found) if f is not None]
    fused = [torch.zeros(0, d) for _ in nets]
    if live:
        content, counts = _joined([found[i][0] for i in live], d)
        amounts = _joined([found[i][1] for i in live], found[live[0]][1].shape[1])[0]
        e = dec.emotion_embed(amounts)
        tokens = torch.cat([nets[i].tokens.sum(0, keepdim=True).expand(c, -1)
                            for i, c in zip(live, counts)])
        gamma, beta = dec.film(e + tokens).chunk(2, -1)
        x = content * (1 + gamma) + beta + e
        for i, rows in zip(live, _split_rows(x, counts)):
            fused[i] = nets[i]._smoothed(rows)
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
