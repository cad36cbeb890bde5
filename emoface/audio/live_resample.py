"""Resampling a live signal to 16 kHz block by block, for the rates a live source sends
(telephone 8 kHz, 16 kHz itself, 24, 32 and 48 kHz: the ratios 2, 1, 2/3, 1/2, 1/3).

The filter is :func:`scipy.signal.resample_poly`'s (Kaiser-windowed sinc, centred), so the
output lines up with what :func:`emoface.audio.io.resample` gives for the whole signal;
each output sample is written once every input sample its filter reaches has arrived
(under a millisecond of look-ahead at 48 kHz).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.signal import firwin

from ..errors import UserError
from .io import SAMPLE_RATE

LIVE_RATES = (8000, 16000, 24000, 32000, 48000)


def check_live_rate(rate) -> int:
    if not isinstance(rate, (int, np.integer)) or isinstance(rate, bool) or rate not in LIVE_RATES:
        raise UserError(f"sample rate {rate!r} is not accepted for live audio; send one of "
                        f"{', '.join(str(r) for r in LIVE_RATES)} Hz")
    return int(rate)


class LiveResampler:
    """``push`` blocks at ``rate``; each call returns the 16 kHz samples now final.
    ``finish`` returns the rest (``ceil(n * 16000 / rate)`` samples in all)."""

    def __init__(self, rate: int):
        self.rate = check_live_rate(rate)
        g = math.gcd(self.rate, SAMPLE_RATE)
        self.up, self.down = SAMPLE_RATE // g, self.rate // g
        if self.up == self.down:
            self.h = np.ones(1)
        else:
            m = max(self.up, self.down)
            self.h = firwin(2 * 10 * m + 1, 1.0 / m, window=("kaiser", 5.0)) * self.up
        self.delay = (len(self.h) - 1) // 2          # centred: upsampled-domain samples
        self.x = np.zeros(0, np.float32)              # kept input, from index self.start
        self.start = 0
        self.total = 0
        self.done = 0                                 # output samples written

    def push(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, np.float32).ravel()
        if self.up == self.down:
            self.total += len(x)
            return x
        self.x = np.concatenate([self.x, x])
        self.total += len(x)
        # Output m reads upsampled indices up to m * down + delay: inputs up to that / up.
        stop = (( self.total - 1) * self.up - self.delay) // self.down + 1 if self.total else 0
        return self._outputs(max(stop, self.done), None)

    def finish(self) -> np.ndarray:
        if self.up == self.down:
            return np.zeros(0, np.float32)
        return self._outputs(-(-self.total * self.up // self.down), self.total)

    def _outputs(self, stop: int, total: int | None) -> np.ndarray:
        a, b = self.done, stop
        if b <= a:
            return np.zeros(0, np.float32)
        up, down, taps = self.up, self.down, len(self.h)
        lo = a * down + self.delay - (taps - 1)       # upsampled index range read
        hi = (b - 1) * down + self.delay + 1
        seg = np.zeros(hi - lo)
        j0, j1 = max(0, -(-lo // up), self.start), min(self.total, (hi - 1) // up + 1)
        if j1 > j0:
            seg[j0 * up - lo:(j1 - 1) * up - lo + 1:up] = self.x[j0 - self.start:j1 - self.start]
        y = np.convolve(seg, self.h, mode="valid")[::down][:b - a]
        self.done = b
        keep = max(0, (b * down + self.delay - (taps - 1)) // up - 1)
        if keep > self.start:
            self.x = self.x[keep - self.start:]
            self.start = keep
        return y.astype(np.float32)
