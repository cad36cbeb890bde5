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

import numpy as np

from .features import HOP, LOG_FLOOR, N_FFT, N_MELS, _window, mel_filterbank, num_frames
from .features import WIN as MEL_WIN
from .phonetic import N_FFT as PH_FFT
from .phonetic import WIN as PH_WIN
from .phonetic import (
    _dct,
    _filterbank,
    _to_unit_range,
    acoustic_model,
    deltas,
    forward_posteriors,
    frame_scores,
    running_means,
)

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
        return self._complete(self._plan(final=True))

    def _take(self, samples: np.ndarray) -> None:
        x = np.asarray(samples, np.float32).ravel()
        if self.finished:
            raise ValueError("push after finish")
        self.samples = np.concatenate([self.samples, x])
        self.total += len(x)

    def _plan(self, final: bool) -> dict | None:
        """The rows now computable: log-mel done, the phone scores' features ready for the
        acoustic model (which :func:`push_many` runs once for many streams)."""
        total = self.total if final else None
        n_all = num_frames(self.total)
        ceps_stop = min(self._ceps_ready(final), n_all if final else 10**12)
        if ceps_stop > self.n_ceps:
            self._add_cepstra(self.n_ceps, ceps_stop, total)
        stop = self._mel_ready(final)
        if self.n_phonetic:
            stop = min(stop, n_all if final else max(0, self.n_ceps - DELTA_REACH))
        if stop <= self.done:
            return None
        plan = {"stop": stop, "final": final, "mel": self._log_mel(self.done, stop, total)}
        if self.n_phonetic:
            plan["feats"] = self._score_inputs(self.done, stop, final)
        return plan

    def _complete(self, plan: dict | None, state_ll: np.ndarray | None = None) -> np.ndarray:
        if plan is None:
            return np.zeros((0, N_MELS + self.n_phonetic), np.float32)
        rows = [plan["mel"]]
        if self.n_phonetic:
            if state_ll is None:
                state_ll = acoustic_model().state_loglik(plan["feats"])
            rows.append(self._scores(state_ll))
        self.done = plan["stop"]
        self._trim()
        return np.concatenate(rows, 1)

    # -- the two feature sets
    def _log_mel(self, first: int, stop: int, total: int | None) -> np.ndarray:
        frames = _frames(self.samples, self.start, first, stop, MEL_WIN, total) * _window()
        spec = np.fft.rfft(frames, n=N_FFT, axis=1)
        power = (spec.real * spec.real + spec.imag * spec.imag).astype(np.float32)
        return np.log(power @ mel_filterbank() + LOG_FLOOR)

    def _add_cepstra(self, first: int, stop: int, total: int | None) -> None:
        # Pre-emphasis as phonetic.band_energies: in float64, on 16-bit scale, the first
        # input sample kept as it is.
        x = self.samples.astype(np.float64) * 32768.0
        prev = np.concatenate([[self.last * 32768.0], x[:-1]])
        y = x - 0.97 * prev
        if self.start == 0 and len(y):
            y[0] = x[0]
        frames = _frames(y, self.start, first, stop, PH_WIN, total) * np.hamming(PH_WIN)
        spec = np.fft.rfft(frames, PH_FFT, axis=1)
        power = spec.real ** 2 + spec.imag ** 2
        c = np.log(np.maximum(power @ _filterbank(), 1e-5)) @ _dct()
        means, self.ceps_sum = running_means(c, first, self.ceps_sum)
        self.ceps = np.concatenate([self.ceps, c - means])
        self.n_ceps = stop

    def _score_inputs(self, first: int, stop: int, final: bool) -> np.ndarray:
        a = max(0, first - DELTA_REACH)
        b = self.n_ceps if final else min(self.n_ceps, stop + DELTA_REACH)
        window = self.ceps[a - self.ceps_start:b - self.ceps_start]
        return deltas(window)[first - a:stop - a]

    def _scores(self, state_ll: np.ndarray) -> np.ndarray:
        scores = frame_scores(state_ll)
        if not self.filtered:
            return scores
        if not len(self.alpha):
            self.alpha = np.zeros(state_ll.shape[1] * state_ll.shape[2])
        post = forward_posteriors(state_ll, acoustic_model().loop, alpha=self.alpha)
        return np.concatenate([scores, _to_unit_range(post)], 1)

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
    """:meth:`LiveFeatures.push` for several streams: the acoustic model scores every
    stream's new frames in one call (a few frames at a time cost it three times as much
    per frame: the call's overhead, not its arithmetic)."""
    plans = []
    for lf, x in zip(live, samples):
        lf._take(x)
        plans.append(lf._plan(final=False))
    scored = [i for i, p in enumerate(plans) if p is not None and "feats" in p]
    state_ll: list[np.ndarray | None] = [None] * len(live)
    if scored:
        feats = [plans[i]["feats"] for i in scored]
        ll = acoustic_model().state_loglik(np.concatenate(feats) if len(feats) > 1 else feats[0])
        bounds = np.cumsum([0] + [len(f) for f in feats])
        for i, a, b in zip(scored, bounds[:-1], bounds[1:]):
            state_ll[i] = ll[a:b]
    return [lf._complete(p, ll) for lf, p, ll in zip(live, plans, state_ll)]
