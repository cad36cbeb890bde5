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
One instance per stream; the network's weights are shared.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .config import ENCODER_RATE, OUTPUT_FPS

_MASKED = -1e9


class Rows:
    """Rows of one stage with global indices: ``data[i - start]`` is row i; older rows
    are dropped by :meth:`keep_from`."""

    def __init__(self, width: int):
        self.data = torch.zeros(0, width)
        self.start = 0

    @property
    def stop(self) -> int:
        return self.start + len(self.data)

    def add(self, rows: torch.Tensor) -> None:
        self.data = torch.cat([self.data, rows]) if len(self.data) else rows

    def get(self, a: int, b: int) -> torch.Tensor:
        """Rows a .. b-1 (kept ones only)."""
        if a < self.start or b > self.stop:
            raise IndexError(f"rows {a}..{b} not kept ({self.start}..{self.stop})")
        return self.data[a - self.start:b - self.start]

    def keep_from(self, i: int) -> None:
        if i > self.start:
            self.data = self.data[i - self.start:]
            self.start = i


def _padded(rows: Rows, a: int, b: int, total: int | None) -> torch.Tensor:
    """Rows a .. b-1 with zeros below 0 and from ``total`` on (the convolutions' padding)."""
    lo = max(a, 0)
    hi = max(lo, b if total is None else min(b, total))
    mid = rows.data[lo - rows.start:hi - rows.start] if hi > lo else rows.data[:0]
    if hi > lo and (lo < rows.start or hi > rows.stop):
        raise IndexError(f"rows {lo}..{hi} not kept ({rows.start}..{rows.stop})")
    return F.pad(mid, (0, 0, lo - a, b - hi))


class BlockState:
    """One attention block's inputs, with their queries, keys and values."""

    def __init__(self, block, d: int, window: int, lookahead: int, slopes: torch.Tensor):
        self.block, self.window, self.lookahead = block, window, lookahead
        self.x, self.q, self.k, self.v = Rows(d), Rows(d), Rows(d), Rows(d)
        self.slopes = slopes
        self.done = 0             # output rows computed

    def add_inputs(self, x: torch.Tensor) -> None:
        q, k, v = self.block.qkv(self.block.norm1(x)).chunk(3, dim=-1)
        self.x.add(x)
        self.q.add(q)
        self.k.add(k)
        self.v.add(v)

    def ready(self, total: int | None) -> int:
        return self.x.stop if total is not None else max(self.done, self.x.stop - self.lookahead)

    def step(self, total: int | None, tokens: torch.Tensor | None = None) -> torch.Tensor:
        """Output rows now final (total: the sequence's length once known)."""
        a, b = self.done, self.ready(total)
        if b <= a:
            return torch.zeros(0, self.x.data.shape[1])
        blk, h = self.block, self.block.heads
        ka, kb = max(0, a - self.window), min(self.x.stop, b + self.lookahead)
        x = self.x.get(a, b)
        d = x.shape[1]
        split = lambda t: t.view(len(t), h, d // h).transpose(0, 1)   # (H, n, dh)
        q, k, v = split(self.q.get(a, b)), split(self.k.get(ka, kb)), split(self.v.get(ka, kb))
        rel = torch.arange(ka, kb)[None, :] - torch.arange(a, b)[:, None]
        bias = -self.slopes[:, None, None] * rel.abs().float()[None]
        bias = bias.masked_fill(((rel < -self.window) | (rel > self.lookahead))[None], _MASKED)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // h) + bias
        att = torch.matmul(torch.softmax(scores, -1), v).transpose(0, 1).reshape(b - a, d)
        x = x + blk.proj(att)
        if blk.cross and tokens is not None:
            qc = split(blk.q_c(blk.norm_c(x)))
            kc, vc = blk.kv_c(tokens).chunk(2, dim=-1)
            att = F.scaled_dot_product_attention(qc, split(kc), split(vc))
            x = x + blk.proj_c(att.transpose(0, 1).reshape(b - a, d))
        out = x + blk.ff(blk.norm2(x))
        self.done = b
        # Keep what later rows reach back to: their own inputs and `window` keys before.
        keep = max(0, b - self.window)
        for r in (self.x, self.q, self.k, self.v):
            r.keep_from(min(keep, b))
        return out


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
        self.content = [BlockState(b, d, enc.window, enc.lookahead, enc.slopes)
                        for b in enc.blocks]
        self.encoded = Rows(d)                    # content features after norm_out, 50 fps
        self.front2_done = 0
        with torch.inference_mode():
            zt = torch.from_numpy(np.asarray(z, np.float32))[None]
            self.tokens = torch.stack([dec.neutral_token[None], dec.latent_token(zt)], 1)[0]
        self.fused = Rows(d)                      # decoder input before smoothing
        self.decoder = [BlockState(b, d, dec.window, dec.lookahead, dec.slopes)
                        for b in dec.blocks]
        self.n_out = 0                            # output frames given to the decoder
        self.total_feats: int | None = None
        self.total_out: int | None = None

    # ------------------------------------------------------------------ public
    def push(self, feats: np.ndarray, amounts_at) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            if len(feats):
                self.feats.add(self.net.normalise(torch.from_numpy(np.ascontiguousarray(feats))))
            return self._advance(amounts_at)

    def finish(self, n_feats: int, n_out: int, amounts_at) -> tuple[np.ndarray, np.ndarray]:
        """No more features: ``n_feats`` in all (padding included), ``n_out`` output frames."""
        if self.feats.stop != n_feats:
            raise ValueError(f"{self.feats.stop} feature rows pushed, {n_feats} announced")
        self.total_feats, self.total_out = n_feats, n_out
        with torch.inference_mode():
            return self._advance(amounts_at)

    # ------------------------------------------------------------------ stages
    def _advance(self, amounts_at):
        self._front()
        x = self.encoded_rows_from_blocks()
        if len(x):
            self.encoded.add(self.enc.norm_out(x))
        return self._decode(amounts_at)

    def _front(self) -> None:
        enc, final = self.enc, self.total_feats
        # conv 1 (k5, pad 2) at 100 fps, with the phone scores' conv beside it.
        a = self.front1.stop
        b = final if final is not None else self.feats.stop - 2
        if b > a:
            x = _padded(self.feats, a - 2, b + 2, final).T[None]       # (1, C, n + 4)
            y = F.conv1d(x[:, :enc.n_mels], enc.front[0].weight, enc.front[0].bias)
            if enc.phonetic_in is not None:
                y = y + F.conv1d(x[:, enc.n_mels:], enc.phonetic_in.weight,
                                 enc.phonetic_in.bias)
            self.front1.add(enc.front[1](y)[0].T)
            self.feats.keep_from(b - 2)
        # conv 2 (k5, stride 2, pad 2): encoder frame j reads conv-1 rows 2j-2 .. 2j+2.
        total50 = None if final is None else (final + 1) // 2
        ja = self.front2_done
        jb = total50 if final is not None else max(ja, (self.front1.stop - 3) // 2 + 1)
        if jb > ja:
            x = _padded(self.front1, 2 * ja - 2, 2 * jb + 1, final).T[None]
            conv = enc.front[2]
            y = enc.front[3](F.conv1d(x, conv.weight, conv.bias, stride=2))[0].T
            self.content[0].add_inputs(enc.norm_in(y))
            self.front2_done = jb
            self.front1.keep_from(2 * jb - 2)

    def encoded_rows_from_blocks(self) -> torch.Tensor:
        total50 = None if self.total_feats is None else (self.total_feats + 1) // 2
        out = torch.zeros(0, self.cfg.d_model)
        for i, block in enumerate(self.content):
            out = block.step(total50)
            if i + 1 < len(self.content):
                if len(out):
                    self.content[i + 1].add_inputs(out)
        return out

    def _decode(self, amounts_at):
        dec = self.dec
        total50 = None if self.total_feats is None else (self.total_feats + 1) // 2
        # Output frame k interpolates encoder frames floor(k * 5/3) and the next one.
        k0 = self.n_out
        if self.total_out is not None:
            k1 = self.total_out
        else:
            k1 = k0
            while True:   # frames whose next encoder frame is final
                pos = float(torch.tensor(k1, dtype=torch.float32) * (ENCODER_RATE / OUTPUT_FPS))
                if math.floor(pos) + 1 >= self.encoded.stop:
                    break
                k1 += 1
        if k1 > k0:
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
            e = dec.emotion_embed(amounts)
            gamma, beta = dec.film(e + self.tokens.sum(0, keepdim=True)).chunk(2, -1)
            x = content * (1 + gamma) + beta + e
            self.fused.add(x)
            # Causal smoothing: row i reads fused rows i-2 .. i.
            xs = _padded(self.fused, k0 - 2, k1, None).T[None]
            smooth = F.conv1d(xs, dec.smooth.weight, dec.smooth.bias)[0].T
            self.decoder[0].add_inputs(x + smooth)
            self.fused.keep_from(k1 - 2)
            self.n_out = k1
        out = torch.zeros(0, self.cfg.d_model)
        for i, block in enumerate(self.decoder):
            out = block.step(self.total_out, self.tokens)
            if i + 1 < len(self.decoder) and len(out):
                self.decoder[i + 1].add_inputs(out)
        if not len(out):
            return np.zeros((0, self.cfg.n_outputs), np.float32), np.zeros((0, 3), np.float32)
        out = dec.norm(out)
        return (torch.sigmoid(dec.weights(out)).numpy(),
                (0.3 * torch.tanh(dec.head(out))).numpy())
