"""Long inputs in bounded memory: a file animated window by window, the windows joined.

Above :data:`LONG_INPUT_S` (and whenever a caller asks for windows), :meth:`Engine.animate
<emoface.engines.base.Engine.animate>` never holds the whole audio: the file is decoded
into overlapping 16 kHz windows (:func:`emoface.audio.io.audio_windows`), each window is
animated as a :class:`~emoface.audio.speech.Speech` of its own with a seed derived from
the seed and the window's index (:func:`window_seed`), and :class:`Joiner` keeps only the
finished frames, crossfading weights, head, eyes and emotion amounts across each overlap.
Whatever an engine computes over its whole input (loudness normalisation, the heard
emotion, the phone loop, the neural engine's cepstral mean) it computes per window there.
"""
from __future__ import annotations

import numpy as np

from ..animation import Animation
from ..emotion import EmotionTrack

# Inputs longer than this go through windows; shorter ones take the one-shot path.
LONG_INPUT_S = 600.0
# Window length and overlap (whole seconds, so windows start on the frame grid at 30 and
# 60 fps). A window costs about 1.5 windows of audio plus what the engine makes of it.
WINDOW_S = 60.0
OVERLAP_S = 4.0

_ARRAYS = ("weights", "head", "eyes", "emotion_probs")


def window_seed(seed: int, index: int) -> int:
    """The seed window ``index`` is animated with: fixed by ``seed`` and ``index``."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def shifted_track(track: EmotionTrack | None, offset_s: float) -> EmotionTrack | None:
    """``track`` seen from a window starting ``offset_s`` seconds into the input."""
    if track is None:
        return None
    return EmotionTrack(np.asarray(track.times, np.float64) - offset_s, track.amounts)


def check_window(window_s: float, overlap_s: float) -> tuple[float, float]:
    """Whole seconds, the overlap shorter than half a window."""
    window_s, overlap_s = float(window_s), float(overlap_s)
    if window_s != round(window_s) or overlap_s != round(overlap_s):
        raise ValueError(f"window and overlap are whole seconds, got {window_s}, {overlap_s}")
    if not (overlap_s >= 1 and window_s > 2 * overlap_s):
        raise ValueError(f"need 1 <= overlap_s < window_s / 2, got {overlap_s}, {window_s}")
    return window_s, overlap_s


class Joiner:
    """Collects window animations into one: window ``k`` starts ``start_s`` seconds into
    the input (on the frame grid); consecutive windows overlap by ``overlap_s`` and are
    crossfaded there with a raised-cosine ramp. Holds the take's arrays (allocated for
    ``expected_frames``, grown if needed) and the previous window's overlap."""

    def __init__(self, fps: float, overlap_s: float, expected_frames: int = 0):
        self.fps = float(fps)
        self.overlap = int(round(overlap_s * self.fps))
        self.capacity = max(1, int(expected_frames))   # grown when a header undercounts
        self.out: dict[str, np.ndarray | None] = {}
        self.pending: dict[str, np.ndarray | None] | None = None
        self.frames = 0            # frames finished (written to out)
        self.meta: dict = {}
        self.phones: list[list] | None = None
        self.phone_methods: list[str] = []
        self.count = 0

    def add(self, anim: Animation, start_s: float, last: bool) -> None:
        first = int(round(start_s * self.fps))
        if first != self.frames:
            raise ValueError(f"window at {start_s} s starts at frame {first}, "
                             f"expected {self.frames}")
        arrays = {k: getattr(anim, k) for k in _ARRAYS}
        n = anim.num_frames
        stop = n if last else n - self.overlap
        if self.pending is None:
            self.meta = dict(anim.meta)
            self.out = {k: None if a is None else np.zeros((self.capacity, a.shape[1]), np.float32)
                        for k, a in arrays.items()}
        self._reserve(first + stop)
        head_from = 0
        if self.pending is not None:
            o = head_from = self.overlap
            if n < o:
                raise ValueError(f"a window of {n} frames is shorter than the overlap {o}")
            ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(o) + 0.5) / o))[:, None]
            for k in _ARRAYS:
                old, new, out = self.pending[k], arrays[k], self.out[k]
                if out is not None and old is not None and new is not None:
                    out[first:first + o] = old * (1 - ramp) + new[:o] * ramp
        for k in _ARRAYS:
            if self.out[k] is not None and arrays[k] is not None:
                self.out[k][first + head_from:first + stop] = arrays[k][head_from:stop]
        self.pending = None if last else {
            k: None if a is None else np.array(a[stop:], np.float32) for k, a in arrays.items()}
        self._keep_phones(anim, start_s, n)
        self.frames = first + stop
        self.count += 1

    def _reserve(self, frames: int) -> None:
        if frames <= self.capacity:
            return
        self.capacity = max(frames, int(self.capacity * 1.25) + 1)
        for k, a in self.out.items():
            if a is not None:
                grown = np.zeros((self.capacity, a.shape[1]), np.float32)
                grown[:self.frames] = a[:self.frames]
                self.out[k] = grown

    def _keep_phones(self, anim: Animation, start_s: float, n: int) -> None:
        """The window's phones in the part of it that is its own (up to the middle of
        each overlap), in input time."""
        method = anim.meta.get("phone_method")
        if method and method not in self.phone_methods:
            self.phone_methods.append(method)
        phones = anim.meta.get("phones")
        if phones is None:
            return
        half = 0.5 * self.overlap / self.fps
        lo = half if self.count else 0.0
        hi = (n / self.fps - half) if self.pending is not None else float("inf")
        self.phones = self.phones or []
        self.phones.extend([round(a + start_s, 4), round(b + start_s, 4), ph]
                           for a, b, ph in phones if lo <= a < hi)

    def animation(self, window_s: float, overlap_s: float) -> Animation:
        if self.pending is not None:
            raise ValueError("the last window has not been added")
        joined = {}
        for k, a in self.out.items():
            if a is not None and len(a) != self.frames:
                a.resize((self.frames, a.shape[1]), refcheck=False)   # in place: no copy
            joined[k] = a
        self.out = {}
        meta = self.meta
        if self.phones is not None:
            meta["phones"] = self.phones
        if self.phone_methods:
            meta["phone_method"] = "+".join(self.phone_methods)
        meta["windows"] = {"count": self.count, "window_s": window_s, "overlap_s": overlap_s}
        return Animation(joined["weights"], self.fps, head=joined["head"], eyes=joined["eyes"],
                         emotion_probs=joined["emotion_probs"], meta=meta)
