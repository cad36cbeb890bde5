"""The attention layers of many live streams as one batch: each layer's caches for every
stream of one network held as one tensor (rows = streams), so a server tick runs each
layer as a fixed handful of tensor operations whatever the number of streams.

Per stream the computation is :mod:`.incremental`'s (banded self-attention of the rows
now final over a cache of ``window`` rows before them, keys outside the sequence left
out): only the storage changed. Before, each stream kept its own small tensors per layer
and every layer cost every stream a dozen small operations (slicing, joining, stacking)
each tick, about 1 ms of CPU per stream per tick for the 7 layers, more than their
arithmetic; here a tick's streams are gathered by their slot numbers.

A stream's slot in a layer's cache is a ring: row i at position i mod ``rows``, where
``rows`` covers the ``window`` rows before the first row not yet output, those waiting
and a step's new ones, so a row is overwritten only once no later row reaches it and
nothing is moved as rows come. A step gathers each stream's keys in row order (those
before its start or past what it has masked), so the relative positions are the same
for every stream and one bias serves all; the queries are padded to the most any stream
of a group has (streams with like counts together, one catching up on its own), and only
the attention sees the padding: the row-wise layers (projections, cross-attention,
feed-forward) run on the real rows only, so streams with uneven chunks cost no more than
their rows. A stream gives at most ``STEP_ROWS`` new rows to a layer
per step; more (a long chunk, the final flush) run as several steps, which give the same
rows (the caches make the chunking irrelevant).

Slots come from :class:`StackCaches` (one per network stack, grown by doubling as
streams come, the lowest free slot reused after a stream is gone, never shrunk: about
2 MB per slot for the bundled model); a lock keeps streams of one network used from
several threads apart.
"""
from __future__ import annotations

import heapq
import math
import threading

import numpy as np
import torch

_MASKED = -1e9
STEP_ROWS = 64          # new rows per stream a layer takes per step (1.3 s of content rows)


class _LayerCache:
    """One attention block's inputs, and its queries, keys and values head by head, for
    every slot: row i of a slot's stream at position i mod ``rows`` (a ring: nothing moves
    as rows come). Queries, keys and values are laid out (slot, q/k/v, head, position,
    dh): new rows go in with one copy, and a step's gather of them is already (streams,
    heads, rows, dh), with no copies to split heads."""

    def __init__(self, block, d: int, heads: int, rows: int, capacity: int):
        self.block, self.d, self.heads, self.rows = block, d, heads, rows
        self.x = torch.zeros(capacity, rows, d)
        self.qkv = torch.zeros(capacity, 3, heads, rows, d // heads)
        self.done = torch.zeros(capacity, dtype=torch.long)    # output rows computed
        self.stop = torch.zeros(capacity, dtype=torch.long)    # input rows given
        self.cross_k: torch.Tensor | None = None               # (capacity, H, 2, dh)
        self.cross_v: torch.Tensor | None = None
        self._views()

    def _views(self) -> None:
        # Flat rows: x of slot s, position p is row s * rows + p; part c (q, k, v) of slot
        # s, head h, position p is row ((s * 3 + c) * heads + h) * rows + p.
        self.x_flat = self.x.view(-1, self.d)
        self.qkv_flat = self.qkv.view(-1, self.qkv.shape[-1])

    def grow(self, capacity: int) -> None:
        extra = capacity - len(self.x)
        pad = lambda t: torch.cat([t, t.new_zeros((extra,) + tuple(t.shape[1:]))])
        self.x, self.qkv, self.done, self.stop = (
            pad(t) for t in (self.x, self.qkv, self.done, self.stop))
        if self.cross_k is not None:
            self.cross_k, self.cross_v = pad(self.cross_k), pad(self.cross_v)
        self._views()

    def reset(self, slot: int) -> None:
        for t in (self.x, self.qkv, self.done, self.stop):
            t[slot] = 0

    def head_rows(self, slots: np.ndarray, rows: np.ndarray, part: int) -> torch.Tensor:
        """Flat positions of part ``part`` (0 q, 1 k, 2 v) of rows (S, n) of the streams in
        ``slots``, every head: (S * H * n,), ordered stream, head, row."""
        base = ((slots[:, None] * 3 + part) * self.heads + np.arange(self.heads)[None]) * self.rows
        return torch.from_numpy((base[:, :, None] + (rows % self.rows)[:, None, :]).reshape(-1))


class StackCaches:
    """The caches of a stack of attention blocks (the content encoder's or the decoder's)
    for every live stream of one network; :meth:`allocate` gives a stream its slot,
    :meth:`run` advances several streams through the whole stack."""

    def __init__(self, blocks, d: int, window: int, lookahead: int, slopes: torch.Tensor):
        self.blocks = list(blocks)
        self.d, self.window, self.lookahead = d, window, lookahead
        self.heads = self.blocks[0].heads
        self.slopes = slopes
        # Positions: window rows before, STEP_ROWS new ones, lookahead pending and the
        # lookahead keys of the last new row.
        self.rows = window + STEP_ROWS + 2 * lookahead
        with torch.inference_mode():   # the caches are only ever used inside it
            self.layers = [_LayerCache(b, d, self.heads, self.rows, 4) for b in self.blocks]
        self.free = list(range(4))
        # Re-entrant: a stream collected while its thread runs a tick frees its slot then.
        self.lock = threading.RLock()
        self._bias: dict[int, torch.Tensor] = {}
        self.scale = 1.0 / math.sqrt(d // self.heads)   # queries are stored scaled

    # ------------------------------------------------------------------ slots
    def allocate(self, tokens: torch.Tensor | None = None) -> int:
        """A free slot, emptied; ``tokens`` (2, d): the stream's own cross-attention
        tokens (decoder blocks)."""
        with self.lock, torch.inference_mode():
            if not self.free:
                old = len(self.layers[0].x)
                for layer in self.layers:
                    layer.grow(2 * old)
                self.free = list(range(old, 2 * old))
            slot = heapq.heappop(self.free)      # the lowest: slots in use stay few and low
            for layer in self.layers:
                layer.reset(slot)
                if tokens is not None and layer.block.cross:
                    k, v = layer.block.kv_c(tokens).chunk(2, dim=-1)
                    split = lambda t: t.reshape(len(t), self.heads, -1).transpose(0, 1)   # (H, 2, dh)
                    if layer.cross_k is None:
                        cap = len(layer.x)
                        layer.cross_k = torch.zeros((cap,) + tuple(split(k).shape))
                        layer.cross_v = torch.zeros_like(layer.cross_k)
                    layer.cross_k[slot], layer.cross_v[slot] = split(k), split(v)
            return slot

    def release(self, slot: int) -> None:
        with self.lock:
            heapq.heappush(self.free, slot)

    # ------------------------------------------------------------------ compute
    def run(self, slots: list[int], inputs: list[torch.Tensor], final: list[bool]
            ) -> list[torch.Tensor]:
        """New input rows of each stream (in ``slots``) into the first block; the rows of
        the last block now final, per stream. ``final``: the stream's input is complete
        (every row is final, keys past its end left out)."""
        with self.lock, torch.inference_mode():
            counts = [len(x) for x in inputs]
            x = torch.cat(inputs) if len(inputs) > 1 else inputs[0]
            for layer in self.layers:
                x, counts = self._layer(layer, slots, x, counts, final)
            return list(torch.split(x, counts)) if len(counts) > 1 else [x]

    def _layer(self, layer: _LayerCache, slots: list[int], x: torch.Tensor,
               counts: list[int], final: list[bool]) -> tuple[torch.Tensor, list[int]]:
        """One block: the rows ``x`` (N, d), ``counts`` of them per stream in order, added
        in steps of STEP_ROWS at most; its output rows, per stream in order, and their
        counts. Row-wise layers run on real rows only, never on padding."""
        if max(counts, default=0) <= STEP_ROWS:      # the usual tick: one step
            if any(counts):
                self._add(layer, slots, x, counts)
            return self._step(layer, slots, final)
        outs, out_counts = [], []
        starts = np.cumsum([0] + counts)[:-1]
        taken = [0] * len(counts)
        while True:
            take = [min(STEP_ROWS, c - t) for c, t in zip(counts, taken)]
            if any(take):
                index = np.concatenate([np.arange(k) + s + t for s, t, k in zip(starts, taken, take)])
                self._add(layer, slots, x[torch.from_numpy(index)], take)
            taken = [t + k for t, k in zip(taken, take)]
            # A stream's end is known to this block once all its rows are in.
            out, n = self._step(layer, slots, [f and t >= c for f, t, c in zip(final, taken, counts)])
            outs.append(out)
            out_counts.append(n)
            if all(t >= c for t, c in zip(taken, counts)):
                break
        # The steps' rows, stream by stream.
        per_stream = [torch.cat([o_rows[i] for o_rows in
                                 (torch.split(o, n) for o, n in zip(outs, out_counts))])
                      for i in range(len(counts))]
        total = [sum(n[i] for n in out_counts) for i in range(len(counts))]
        return torch.cat(per_stream), total

    def _add(self, layer: _LayerCache, slots: list[int], rows: torch.Tensor,
             take: list[int]) -> None:
        """``take`` new rows of each stream (``rows``, stream by stream) into the cache,
        with their queries (scaled), keys and values (one product for all)."""
        blk, d, h = layer.block, self.d, self.heads
        qkv = blk.qkv(blk.norm1(rows))
        qkv[:, :d] *= self.scale
        who = np.repeat(np.asarray(slots), take)
        stop = layer.stop.numpy()            # a view: the counters are updated in place
        row = (_ranks(np.asarray(take)) + stop[who]) % layer.rows
        layer.x_flat.index_copy_(0, torch.from_numpy(who * layer.rows + row), rows)
        # Row r's part c, head j goes to ((slot * 3 + c) * H + j) * rows + position: the
        # product's (r, c, j) order, so one copy takes them all.
        at = ((who[:, None] * 3 + np.arange(3)[None])[:, :, None] * h + np.arange(h)) * layer.rows
        at = torch.from_numpy((at + row[:, None, None]).reshape(-1))
        layer.qkv_flat.index_copy_(0, at, qkv.reshape(len(rows) * 3 * h, d // h))
        stop[slots] += take

    def _band(self, n: int) -> torch.Tensor:
        """(H, n, m) ALiBi bias of queries done .. done + n - 1 over keys done - window ..
        done + n + lookahead - 1, masked outside the band."""
        bias = self._bias.get(n)
        if bias is None:
            m = self.window + n + self.lookahead
            rel = torch.arange(m)[None, :] - self.window - torch.arange(n)[:, None]
            bias = -self.slopes[:, None, None] * rel.abs().float()[None]
            bias = bias.masked_fill(((rel < -self.window) | (rel > self.lookahead))[None], _MASKED)
            self._bias[n] = bias
        return bias

    def _attend(self, layer: _LayerCache, sl: np.ndarray, dn: np.ndarray, st: np.ndarray,
                cnt: np.ndarray) -> torch.Tensor:
        """Banded self-attention of rows done .. done + count - 1 of the streams in slots
        ``sl``: their outputs before the projection, real rows only, stream by stream."""
        d, h, window = self.d, self.heads, self.window
        n, s = int(cnt.max()), len(sl)
        m = window + n + self.lookahead
        keys = (dn - window)[:, None] + np.arange(m)[None]                          # (S, m) rows
        qrows = dn[:, None] + np.arange(n)[None]
        dh = d // h
        q = layer.qkv_flat.index_select(0, layer.head_rows(sl, qrows, 0)).view(s, h, n, dh)
        k = layer.qkv_flat.index_select(0, layer.head_rows(sl, keys, 1)).view(s, h, m, dh)
        v = layer.qkv_flat.index_select(0, layer.head_rows(sl, keys, 2)).view(s, h, m, dh)
        # A stream's keys are there from row 0 to stop - 1 (the rest are another time's).
        valid = torch.from_numpy((keys >= 0) & (keys < st[:, None]))
        bias = self._band(n)[None].masked_fill(~valid[:, None, None, :], _MASKED)
        scores = torch.matmul(q, k.transpose(-1, -2)) + bias
        att = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(s * n, d)
        real = (np.arange(n)[None] < cnt[:, None]).reshape(-1)
        return att if real.all() else att.index_select(0, torch.from_numpy(np.flatnonzero(real)))

    def _step(self, layer: _LayerCache, slots: list[int], final: list[bool]
              ) -> tuple[torch.Tensor, list[int]]:
        """The block's output rows now final, stream by stream (N, d), and the count of
        each stream's."""
        d, h = self.d, self.heads
        done_all, stop_all = layer.done.numpy(), layer.stop.numpy()
        done, stop = done_all[slots], stop_all[slots]
        ready = np.where(final, stop, np.maximum(done, stop - self.lookahead))
        counts = (ready - done).tolist()
        n = max(counts, default=0)
        if n == 0:
            return torch.zeros(0, d), counts
        # Attention for the streams with new rows, in groups of like counts (a stream
        # catching up would pad every other's queries to its own), queries padded to the
        # group's most; the rows come out stream by stream, real rows only.
        act = np.flatnonzero(np.asarray(counts))
        sl, dn, st = np.asarray(slots)[act], done[act], stop[act]
        cnt = np.asarray(counts)[act]
        parts, order = [], []
        for group in _like_counts(cnt):
            parts.append(self._attend(layer, sl[group], dn[group], st[group], cnt[group]))
            order.append(np.repeat(group, cnt[group]) * (n + 1) + _ranks(cnt[group]))
        att = torch.cat(parts) if len(parts) > 1 else parts[0]
        if len(parts) > 1:     # back to stream by stream
            att = att.index_select(0, torch.from_numpy(np.argsort(np.concatenate(order), kind="stable")))
        qrows = _ranks(cnt) + np.repeat(dn, cnt)
        rows = torch.from_numpy(np.repeat(sl, cnt) * layer.rows + qrows % layer.rows)
        blk = layer.block
        x = layer.x_flat.index_select(0, rows) + blk.proj(att)
        if blk.cross and layer.cross_k is not None:
            # Two tokens per stream: each row attends to its own stream's.
            qc = blk.q_c(blk.norm_c(x)).reshape(len(x), h, 1, d // h)               # (N, H, 1, dh)
            own = torch.from_numpy(np.repeat(sl, cnt))
            kc, vc = layer.cross_k.index_select(0, own), layer.cross_v.index_select(0, own)
            w = torch.softmax(torch.matmul(qc, kc.transpose(-1, -2)) / math.sqrt(d // h), -1)
            x = x + blk.proj_c(torch.matmul(w, vc).reshape(len(x), d))
        done_all[slots] = ready
        return x + blk.ff(blk.norm2(x)), counts


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0 .. count - 1 for each count, one after the other."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _like_counts(counts: np.ndarray) -> list[np.ndarray]:
    """Indices of ``counts`` in groups whose padding to their largest wastes little: those
    at most twice the median (at least 8) together, each larger one on its own."""
    limit = max(8, 2 * int(np.median(counts)))
    small = np.flatnonzero(counts <= limit)
    large = np.flatnonzero(counts > limit)
    return ([small] if len(small) else []) + [large[i:i + 1] for i in range(len(large))]


__all__ = ["STEP_ROWS", "StackCaches"]
