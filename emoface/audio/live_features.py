"""The neural model's input features computed as audio arrives, frame for frame what
:func:`emoface.audio.features.log_mel` and :func:`emoface.audio.phonetic.phone_scores`
(with ``cepstral_mean="running"``, what the neural engine uses offline too) give for the
whole input.

A frame is computed once every sample its window and its deltas reach has arrived: log-mel
frame ``k`` needs samples up to ``160 k + 200``, its phone scores up to
``160 (k + 3) + 205`` (half the model's window, three frames of delta-deltas). At the end
(:meth:`LiveFeatures.finish`) the last frames see zeros past the signal and held edges in
the deltas, as the whole-input functions do. Memory is bounded: only the samples and
cepstra that frames still to come need are kept.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .features import HOP, LOG_FLOOR, N_FFT, N_MELS, _window, mel_filterbank, num_frames
from .features import WIN as MEL_WIN
from .phonetic import (
    FILTER_SCALE,
    _dct,
    _filterbank,
    _to_unit_range,
    acoustic_model,
    deltas,
    frame_scores,
    running_means,
)
from .phonetic import N_FFT as PH_FFT
from .phonetic import WIN as PH_WIN

DELTA_REACH = 3   # frames of cepstra on each side a frame's delta-deltas read


def _frames(x: np.ndarray, x_start: int, first: int, stop: int, win: int,
            total: int | None) -> np.ndarray:
    """(stop - first, win) frames of the signal whose samples from index ``x_start`` on are
    ``x``: frame k centred at k * HOP, zeros before 0 and from ``total`` on (None: all
    needed samples are in ``x``)."""
    half = win // 2
    a, b = first * HOP - half, (stop - 1) * HOP - half + win
    seg = np.zeros(b - a, x.dtype)
    lo, hi = max(a, 0, x_start), min(b, x_start + len(x))
    if total is not None:
        hi = min(hi, total)
    if hi > lo:
        seg[lo - a:hi - a] = x[lo - x_start:hi - x_start]
    return np.lib.stride_tricks.sliding_window_view(seg, win)[::HOP][:stop - first]


class LiveFeatures:
    """Feed 16 kHz float32 samples with :meth:`push`; each call returns the feature rows
    (n, 80 + n_phonetic) now complete, in order. :meth:`finish` returns the rest."""

    def __init__(self, n_phonetic: int = 0):
        self.n_phonetic = n_phonetic
        self.filtered = n_phonetic == 2 * len(acoustic_model().phones) if n_phonetic else False
        self.samples = np.zeros(0, np.float32)   # kept tail of the input
        self.start = 0                             # input index of samples[0]
        self.total = 0                             # samples received
        self.last = 0.0                            # the sample before samples[0] (pre-emphasis)
        self.done = 0                              # feature rows returned
        self.n_ceps = 0                            # cepstra computed (mean removed)
        self.ceps = np.zeros((0, 13))              # cepstra kept, rows ceps_start ..
        self.ceps_start = 0
        self.ceps_sum: np.ndarray | None = None
        self.alpha = np.zeros(0)                   # phone loop forward state
        self.finished = False

    # -- what can be computed
    def _mel_ready(self, final: bool) -> int:
        if final:
            return num_frames(self.total)
        return max(0, (self.total - MEL_WIN // 2) // HOP + 1) if self.total >= MEL_WIN // 2 else 0

    def _ceps_ready(self, final: bool) -> int:
        if final:
            return num_frames(self.total)
        half = PH_WIN // 2
        return max(0, (self.total - half) // HOP + 1) if self.total >= half else 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        return push_many([self], [samples])[0]

    def finish(self) -> np.ndarray:
        self.finished = True
        return _compute([self], final=True)[0]

    def _take(self, samples: np.ndarray) -> None:
        x = np.asarray(samples, np.float32).ravel()
        if self.finished:
            raise ValueError("push after finish")
        self.samples = np.concatenate([self.samples, x])
        self.total += len(x)

    def _spans(self, final: bool) -> tuple[int | None, tuple[int, int] | None, tuple[int, int] | None]:
        """What can be computed now: (the input's length when it is complete, the cepstra
        first .. stop to add, the feature rows done .. stop to give)."""
        total = self.total if final else None
        n_all = num_frames(self.total)
        ceps_stop = min(self._ceps_ready(final), n_all if final else 10**12)
        ceps = (self.n_ceps, ceps_stop) if ceps_stop > self.n_ceps else None
        n_ceps = max(self.n_ceps, ceps_stop)
        stop = self._mel_ready(final)
        if self.n_phonetic:
            stop = min(stop, n_all if final else max(0, n_ceps - DELTA_REACH))
        return total, ceps, ((self.done, stop) if stop > self.done else None)

    # -- the two feature sets: each stream's frames, computed together by _compute
    def _mel_frames(self, first: int, stop: int, total: int | None) -> np.ndarray:
        return _frames(self.samples, self.start, first, stop, MEL_WIN, total)

    def _cepstra_frames(self, first: int, stop: int, total: int | None) -> np.ndarray:
        # Pre-emphasis as phonetic.band_energies: in float64, on 16-bit scale, the first
        # input sample kept as it is.
        x = self.samples.astype(np.float64) * 32768.0
        prev = np.concatenate([[self.last * 32768.0], x[:-1]])
        y = x - 0.97 * prev
        if self.start == 0 and len(y):
            y[0] = x[0]
        return _frames(y, self.start, first, stop, PH_WIN, total)

    def _add_cepstra(self, c: np.ndarray, first: int, stop: int) -> None:
        means, self.ceps_sum = running_means(c, first, self.ceps_sum)
        self.ceps = np.concatenate([self.ceps, c - means])
        self.n_ceps = stop

    def _score_inputs(self, first: int, stop: int, final: bool) -> np.ndarray:
        a = max(0, first - DELTA_REACH)
        b = self.n_ceps if final else min(self.n_ceps, stop + DELTA_REACH)
        window = self.ceps[a - self.ceps_start:b - self.ceps_start]
        return deltas(window)[first - a:stop - a]

    def _trim(self) -> None:
        # Samples: the earliest window still to come starts half a window before its centre.
        keep_from = max(0, min(self.done, self.n_ceps) * HOP - max(MEL_WIN, PH_WIN))
        if keep_from > self.start:
            cut = keep_from - self.start
            self.last = float(self.samples[cut - 1])
            self.samples = self.samples[cut:]
            self.start = keep_from
        keep_ceps = max(0, self.done - DELTA_REACH)
        if keep_ceps > self.ceps_start:
            self.ceps = self.ceps[keep_ceps - self.ceps_start:]
            self.ceps_start = keep_ceps


def push_many(live: list[LiveFeatures], samples: list[np.ndarray]) -> list[np.ndarray]:
    """:meth:`LiveFeatures.push` for several streams, each step once for all of them: the
    FFTs, filterbanks and cepstra of every stream's new frames, the acoustic model (a few
    frames at a time cost it three times as much per frame: the call's overhead, not its
    arithmetic) and the phone loop. Per stream, only the slicing of its own buffers."""
    for lf, x in zip(live, samples):
        lf._take(x)
    return _compute(live, final=False)


def _compute(live: list[LiveFeatures], final: bool) -> list[np.ndarray]:
    spans = [lf._spans(final) for lf in live]
    # Cepstra: pre-emphasised frames of every stream, one FFT.
    todo = [(lf, c, total) for lf, (total, c, _) in zip(live, spans) if c is not None]
    if todo:
        frames = np.concatenate([lf._cepstra_frames(a, b, total) for lf, (a, b), total in todo])
        spec = np.fft.rfft(frames * _hamming(), PH_FFT, axis=1)
        power = spec.real ** 2 + spec.imag ** 2
        ceps = np.log(np.maximum(power @ _filterbank(), 1e-5)) @ _dct()
        for (lf, (a, b), _), c in zip(todo, _split(ceps, [b - a for _, (a, b), _ in todo])):
            lf._add_cepstra(c, a, b)
    # Log-mel of every stream's new rows, one FFT; their phone scores' inputs.
    todo = [(i, r, total) for i, (total, _, r) in enumerate(spans) if r is not None]
    out = [np.zeros((0, N_MELS + lf.n_phonetic), np.float32) for lf in live]
    if not todo:
        return out
    frames = np.concatenate([live[i]._mel_frames(a, b, total) for i, (a, b), total in todo])
    spec = np.fft.rfft(frames * _window(), n=N_FFT, axis=1)
    power = (spec.real * spec.real + spec.imag * spec.imag).astype(np.float32)
    counts = [b - a for _, (a, b), _ in todo]
    mel = _split(np.log(power @ mel_filterbank() + LOG_FLOOR), counts)
    phonetic = [live[i].n_phonetic for i, _, _ in todo]
    if any(phonetic):
        if not all(phonetic) or len(set(live[i].filtered for i, _, _ in todo)) > 1:
            raise ValueError("streams with different phone scores cannot be computed together")
        feats = [live[i]._score_inputs(a, b, final) for i, (a, b), _ in todo]
        state_ll = acoustic_model().state_loglik(np.concatenate(feats) if len(feats) > 1 else feats[0])
        scores = frame_scores(state_ll)
        if live[todo[0][0]].filtered:
            post = _forward_many(_split(state_ll, counts), [live[i] for i, _, _ in todo])
            scores = np.concatenate([scores, _to_unit_range(np.concatenate(post))], 1)
        for m, sc, (i, _, _) in zip(mel, _split(scores, counts), todo):
            out[i] = np.concatenate([m, sc], 1)
    else:
        for m, (i, _, _) in zip(mel, todo):
            out[i] = m
    for i, (_, b), _ in todo:
        live[i].done = b
        live[i]._trim()
    return out


def _forward_many(state_ll: list[np.ndarray], live: list[LiveFeatures]) -> list[np.ndarray]:
    """:func:`~.phonetic.forward_posteriors` of several streams, each continuing from its
    own state, frame by frame all streams at once (one product per frame, not one per
    stream and frame); streams with many more frames than the others (catching up) run
    apart, so the others are not carried through all their frames."""
    lengths = np.array([len(ll) for ll in state_ll])
    limit = max(8, 2 * int(np.median(lengths)))
    out: list[np.ndarray] = [np.empty(0)] * len(live)
    groups = [np.flatnonzero(lengths <= limit)] + [[i] for i in np.flatnonzero(lengths > limit)]
    for group in groups:
        if len(group):
            for i, post in zip(group, _forward_group([state_ll[i] for i in group],
                                                     [live[i] for i in group])):
                out[i] = post
    return out


def _forward_group(state_ll: list[np.ndarray], live: list[LiveFeatures]) -> list[np.ndarray]:
    loop = acoustic_model().loop
    lengths = [len(ll) for ll in state_ll]
    n, states = state_ll[0].shape[1:]
    width = n * states
    ll = FILTER_SCALE * np.concatenate(state_ll).reshape(-1, width)
    lik_rows = np.exp(ll - ll.max(1, keepdims=True))      # each frame's best senone: 1
    s, t_max = len(lengths), max(lengths)
    lik = np.zeros((s, t_max, width))
    at = np.concatenate([np.arange(k) for k in lengths])
    who = np.repeat(np.arange(s), lengths)
    lik[who, at] = lik_rows
    for lf in live:
        if not len(lf.alpha):
            lf.alpha = np.zeros(width)
    alpha = np.stack([lf.alpha for lf in live])
    fresh = ~alpha.any(1)                  # a stream's first frame: no transition into it
    alpha[fresh] = 0.0
    alpha[np.ix_(fresh, np.arange(0, width, states))] = 1.0 / n
    length = np.array(lengths)
    alphas = np.empty((s, t_max, width))
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(t_max):
            moved = alpha @ loop
            if t == 0:
                moved[fresh] = alpha[fresh]
            step = moved * lik[:, t]
            total = step.sum(1, keepdims=True)
            # A frame no state can explain (all underflow): start afresh from that frame.
            restart = lik[:, t] / lik[:, t].sum(1, keepdims=True)
            step = np.where(total > 1e-280, step / total, restart)
            alpha = np.where((t < length)[:, None], step, alpha)
            alphas[:, t] = alpha
    for lf, a in zip(live, alpha):
        lf.alpha[:] = a
    return [np.log(np.maximum(alphas[i, :k].reshape(k, n, states).sum(2), 1e-300))
            for i, k in enumerate(lengths)]


def _split(rows: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    return np.split(rows, np.cumsum(counts)[:-1]) if len(counts) > 1 else [rows]


@lru_cache(maxsize=1)
def _hamming() -> np.ndarray:
    return np.hamming(PH_WIN)
