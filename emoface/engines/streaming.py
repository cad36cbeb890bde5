"""Live streams: audio in by chunks of any size, animation frames out as soon as they are
final. An engine that streams returns a :class:`Stream` from ``engine.stream(...)``; the
stream holds everything that belongs to one live source (buffers, caches, the seeded
blinks and gaze), the engine holds what is shared (the network).

    stream = engine.stream(16000, emotion="auto", fps=30, seed=0)
    for chunk in chunks:                       # float32 in [-1, 1] or int16 PCM, mono
        frames = stream.feed(chunk)            # Frames: zero or more new frames
    frames = stream.flush()                    # the rest: the take is complete
    stream.set_emotion("happy:0.7")            # any time: frames not yet out use it
    frames = feed_many(streams, chunks)        # many streams' chunks computed as one batch

:class:`LiveNonverbal` is the causal counterpart of :func:`.nonverbal.eyes_and_head`:
the same blink, gaze and head-drift models, drawn frame by frame from seeded generators
so the frames never depend on how the audio was cut into chunks (the offline layer plans
the whole take at once, so its draws differ).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arkit import INDEX, NUM_BLENDSHAPES
from ..audio.activity import ABSOLUTE_FLOOR_DBFS, RELATIVE_RANGE_DB
from ..audio.io import SAMPLE_RATE
from ..audio.live_resample import LiveResampler
from ..emotion import NUM_EMOTIONS, EmotionSpec, parse_emotion
from ..errors import UserError
from .nonverbal import gaze_channels
from .rules import params as P
from .rules.expressions import blink_gain, head_motion_gain

BASE_FPS = 30.0


@dataclass
class Frames:
    """Consecutive frames ``first .. first + len - 1`` of a stream at ``fps``."""

    first: int
    fps: float
    weights: np.ndarray        # (n, 52) in [0, 1], ARKit order
    head: np.ndarray           # (n, 3) yaw, pitch, roll radians
    eyes: np.ndarray           # (n, 6) left yaw, pitch, roll, right yaw, pitch, roll
    amounts: np.ndarray        # (n, 8) the emotion amounts used

    def __len__(self) -> int:
        return len(self.weights)

    @property
    def times(self) -> np.ndarray:
        return (self.first + np.arange(len(self))) / self.fps

    @classmethod
    def empty(cls, first: int, fps: float) -> Frames:
        return cls(first, fps, np.zeros((0, NUM_BLENDSHAPES), np.float32),
                   np.zeros((0, 3), np.float32), np.zeros((0, 6), np.float32),
                   np.zeros((0, NUM_EMOTIONS), np.float32))

    @classmethod
    def join(cls, parts: list[Frames]) -> Frames:
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])
        return cls(parts[0].first, parts[0].fps, cat("weights"), cat("head"), cat("eyes"),
                   cat("amounts"))


def pcm_to_float(chunk) -> np.ndarray:
    """int16 PCM (array or little-endian bytes) or float samples -> float32 in [-1, 1]."""
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        if len(chunk) % 2:
            raise UserError("PCM16 audio must have an even number of bytes")
        return np.frombuffer(chunk, "<i2").astype(np.float32) / 32768.0
    a = np.asarray(chunk)
    if a.dtype == np.int16:
        return a.astype(np.float32).ravel() / 32768.0
    return a.astype(np.float32).ravel()


class Stream:
    """Base of every engine's stream: converts and resamples the input, converts the
    engine's 30 fps frames to the asked rate (linear interpolation, as
    :meth:`Animation.resample`). Subclasses implement ``_push(samples16k)`` and
    ``_finish()`` returning 30 fps :class:`Frames`, and ``_emotion_changed()``."""

    def __init__(self, sample_rate: int, emotion, fps: float, seed: int):
        if not fps > 0:
            raise UserError(f"fps must be positive, got {fps}")
        self.resampler = LiveResampler(sample_rate)
        self.fps = float(fps)
        self.seed = int(seed)
        self.spec = self._parse(emotion)
        self.samples_in = 0          # 16 kHz samples received
        self.out_done = 0            # frames returned at self.fps
        self._base: list[Frames] = []
        self._base_first = 0
        self.flushed = False

    @staticmethod
    def _parse(emotion) -> EmotionSpec:
        return emotion if isinstance(emotion, EmotionSpec) else parse_emotion(emotion, None)

    @property
    def seconds(self) -> float:
        """Audio received so far, in seconds."""
        return self.samples_in / SAMPLE_RATE

    def set_emotion(self, emotion) -> None:
        """Change the emotion (``auto``, a name, ``name:intensity``, a mix or keyframes in
        stream seconds); frames not yet returned follow it."""
        self.spec = self._parse(emotion)
        self._emotion_changed()

    def feed(self, chunk) -> Frames:
        return feed_many([self], [chunk])[0]

    def stagger(self, index: int) -> None:
        """Before any audio: this is the ``index``-th of streams computed together (a
        server worker's), whose periodic work should not all fall in the same tick.
        Engines without periodic work ignore it."""

    def _take(self, chunk) -> np.ndarray:
        if self.flushed:
            raise UserError("the stream has ended; start another")
        x = self.resampler.push(pcm_to_float(chunk))
        self.samples_in += len(x)
        return x

    @property
    def batch_key(self) -> object:
        """Streams of one class with equal keys are computed together by
        :func:`feed_many` (the neural engine's: those sharing a network)."""
        return id(self)

    def flush(self) -> Frames:
        """End of the audio: every remaining frame (``frame_count(duration, fps)`` in all)."""
        if self.flushed:
            return Frames.empty(self.out_done, self.fps)
        x = self.resampler.finish()
        self.samples_in += len(x)
        base = self._push(x) if len(x) else None
        self.flushed = True
        parts = [b for b in (base, self._finish()) if b is not None and len(b)]
        return self._convert(Frames.join(parts) if parts else None, final=True)

    # ------------------------------------------------------------------ frame rate
    def _convert(self, new: Frames | None, final: bool) -> Frames:
        if self.fps == BASE_FPS:
            out = new if new is not None else Frames.empty(self.out_done, self.fps)
            self.out_done += len(out)
            return out
        if new is not None and len(new):
            self._base.append(new)
        have = self._base_first + sum(len(b) for b in self._base)
        if not have:
            return Frames.empty(self.out_done, self.fps)
        base = Frames.join(self._base) if len(self._base) > 1 else self._base[0]
        if final:
            stop = max(1, int(round(have / BASE_FPS * self.fps)))
        else:   # frames whose later 30 fps neighbour is out
            stop = max(self.out_done, int(np.floor((have - 2) * self.fps / BASE_FPS)) + 1)
            stop = min(stop, int(np.ceil((have - 1) * self.fps / BASE_FPS)))
        if stop <= self.out_done:
            return Frames.empty(self.out_done, self.fps)
        t = np.arange(self.out_done, stop) / self.fps
        src = (self._base_first + np.arange(len(base))) / BASE_FPS
        interp = lambda a: np.stack([np.interp(t, src, a[:, j]) for j in range(a.shape[1])], 1)
        amounts = interp(base.amounts)
        amounts /= np.maximum(amounts.sum(1, keepdims=True), 1e-8)
        out = Frames(self.out_done, self.fps, np.clip(interp(base.weights), 0, 1).astype(np.float32),
                     interp(base.head).astype(np.float32), interp(base.eyes).astype(np.float32),
                     amounts.astype(np.float32))
        self.out_done = stop
        # Keep the 30 fps frames the next output frames still read.
        keep = max(self._base_first, int(np.floor(stop * BASE_FPS / self.fps)) - 1)
        base = Frames(keep, BASE_FPS, *(a[keep - self._base_first:] for a in
                                       (base.weights, base.head, base.eyes, base.amounts)))
        self._base, self._base_first = [base], keep
        return out

    # ------------------------------------------------------------------ subclasses
    def _push(self, samples16k: np.ndarray) -> Frames | None:
        raise NotImplementedError

    @classmethod
    def _push_many(cls, streams: list[Stream], samples: list[np.ndarray]) -> list[Frames | None]:
        """``_push`` for streams with one :attr:`batch_key`; engines that can batch override."""
        return [s._push(x) for s, x in zip(streams, samples)]

    def _finish(self) -> Frames | None:
        raise NotImplementedError

    def _emotion_changed(self) -> None:
        pass


def feed_many(streams: list[Stream], chunks: list) -> list[Frames]:
    """``stream.feed(chunk)`` for each pair, the streams that can share their compute (one
    engine's network) run as one batch: what a server does on each tick. Each stream's
    frames are what feeding it alone gives (to float rounding)."""
    samples = [s._take(c) for s, c in zip(streams, chunks)]
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(streams):
        groups.setdefault((type(s), s.batch_key), []).append(i)
    out: list[Frames | None] = [None] * len(streams)
    for (cls, _), members in groups.items():
        pushed = cls._push_many([streams[i] for i in members], [samples[i] for i in members])
        for i, new in zip(members, pushed):
            out[i] = streams[i]._convert(new, final=False)
    return out


# ---------------------------------------------------------------------------- nonverbal
_BLINK = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]
_WIDE = [INDEX["eyeWideLeft"], INDEX["eyeWideRight"]]
_LOOK_DOWN = [INDEX["eyeLookDownLeft"], INDEX["eyeLookDownRight"]]
LEVEL_HOP = SAMPLE_RATE // 100          # 10 ms level frames, as audio.activity
PEAK_FALL_DB = 0.05                     # per 10 ms: the loud reference forgets 5 dB/s
GATE_REACH = 10                         # level frames either side of a frame (100 ms)


class SpeechGate:
    """The energy gate of :mod:`emoface.audio.activity`, causal: a frame is speech when a
    10 ms level within 100 ms of it passes ``max(-55 dBFS, loud - 35 dB)``, where ``loud``
    is a peak level that falls 5 dB a second (the offline gate uses the whole take's 95th
    percentile). Only the decisions later frames can still read are kept."""

    def __init__(self):
        self.pending = np.zeros(0, np.float32)
        self.active = np.zeros(0, bool)     # decisions of level frames first .. first + len
        self.first = 0
        self.peak = -120.0

    def push(self, samples16k: np.ndarray) -> None:
        x = np.concatenate([self.pending, samples16k])
        n = len(x) // LEVEL_HOP
        self.pending = x[n * LEVEL_HOP:]
        if n:
            power = np.mean(np.square(x[:n * LEVEL_HOP].reshape(n, LEVEL_HOP)), 1)
            levels = 10.0 * np.log10(np.maximum(power, 1e-12))
            gates = np.empty(n)
            # A recurrence (the peak falls from its last value): a short loop per chunk.
            for i, level in enumerate(levels.tolist()):
                self.peak = max(level, self.peak - PEAK_FALL_DB)
                gates[i] = max(ABSOLUTE_FLOOR_DBFS, self.peak - RELATIVE_RANGE_DB)
            # Compared at the levels' precision (float32), as a scalar comparison does.
            self.active = np.concatenate([self.active, levels > gates.astype(levels.dtype)])

    def speaking(self, t: np.ndarray) -> np.ndarray:
        """Per time in ``t`` (ascending): 1.0 when speech is heard within 100 ms of it
        (levels known so far), else 0.0. Levels before the first of ``t``'s windows are
        forgotten: times come in order."""
        t = np.asarray(t, np.float64)
        k = np.round(t * 100).astype(np.int64)
        seen = np.concatenate([[0], np.cumsum(self.active)])
        stop = self.first + len(self.active)
        lo = np.clip(k - GATE_REACH, self.first, stop) - self.first
        hi = np.clip(k + GATE_REACH + 1, self.first, stop) - self.first
        out = (seen[np.maximum(hi, lo)] > seen[lo]).astype(np.float64)
        if len(k):
            drop = int(np.clip(k[0] - GATE_REACH - self.first, 0, len(self.active)))
            self.active, self.first = self.active[drop:], self.first + drop
        return out


class SmoothNoise:
    """Unit-variance noise through a Gaussian filter (as :func:`.nonverbal.smooth_noise`),
    one value per frame, drawn ahead as the filter needs."""

    def __init__(self, fps: float, timescale: float, rng: np.random.Generator):
        sigma = max(0.5, 0.5 * timescale * fps)
        self.pad = int(4 * sigma)
        x = np.arange(-self.pad, self.pad + 1)
        k = np.exp(-0.5 * (x / sigma) ** 2)
        k /= k.sum()
        self.kernel = k / np.sqrt((k ** 2).sum())
        self.rng = rng
        self.noise = rng.normal(size=2 * self.pad + 1)

    def take(self, draws: np.ndarray) -> np.ndarray:
        """The next ``len(draws)`` values, ``draws`` being the next normal draws of this
        noise (frame i's value filters the noise before draw i joins it)."""
        full = np.concatenate([self.noise, draws])
        self.noise = full[len(draws):]
        # Frame i: the window full[i : i + len(kernel)] times the kernel (a correlation).
        return np.convolve(full, self.kernel[::-1], "valid")[:len(draws)]


class LiveNonverbal:
    """Blinks, gaze and head drift for one stream, a chunk of frames at a time (see the
    module notes). The random draws come in the order a frame-by-frame loop makes them,
    so the frames do not depend on how the audio was cut; what happens between the rare
    events (a blink starts, a saccade) is array arithmetic over the chunk's frames."""

    def __init__(self, seed: int, fps: float = BASE_FPS):
        blink_rng, gaze_rng, head_rng = (np.random.default_rng(s) for s in
                                         np.random.SeedSequence(seed).spawn(3))
        self.fps = fps
        self.blink_rng, self.gaze_rng, self.head_rng = blink_rng, gaze_rng, head_rng
        self.next_blink = blink_rng.uniform(0.3, 60.0 / P.BLINK_RATE_REST_PER_MIN)
        self.blinks: list[tuple[float, float, float, float]] = []   # peak, close, open, amp
        self.fix_t, self.prev, self.target = 0.0, np.zeros(2), np.zeros(2)
        self.next_saccade = self._saccade_gap()
        slow, quick = P.HEAD_TIMESCALE_S, P.HEAD_QUICK_TIMESCALE_S
        # Drawn per frame in this order: slow and quick noise of yaw, of pitch, of roll.
        self.noise = [n for _ in range(3) for n in (SmoothNoise(fps, slow, head_rng),
                                                    SmoothNoise(fps, quick, head_rng))]
        self.speaking_recent = np.zeros(0)
        self.std = np.array([P.HEAD_YAW_STD, P.HEAD_PITCH_STD, P.HEAD_ROLL_STD])

    def _saccade_gap(self) -> float:
        return max(0.15, self.gaze_rng.gamma(2.0, P.SACCADE_INTERVAL_S / 2.0))

    def _plan_blink(self, speaking: float, gain: float) -> None:
        rng = self.blink_rng
        close = P.BLINK_CLOSE_S * rng.uniform(0.85, 1.15)
        opening = P.BLINK_OPEN_S * rng.uniform(0.85, 1.2)
        amp = float(np.clip(rng.normal(P.BLINK_AMPLITUDE, 0.05), 0.6, 1.0))
        # The blink is planned to peak `close` seconds from now (no look-ahead needed).
        self.blinks.append((self.next_blink + close, close, opening, amp))
        rate = (P.BLINK_RATE_REST_PER_MIN
                + speaking * (P.BLINK_RATE_SPEAKING_PER_MIN - P.BLINK_RATE_REST_PER_MIN))
        mean_gap = 60.0 / (rate * max(gain, 1e-3))
        shape = P.BLINK_INTERVAL_GAMMA_SHAPE
        self.next_blink += max(P.BLINK_MIN_GAP, rng.gamma(shape, mean_gap / shape))

    def _blinks(self, times: np.ndarray, speaking: np.ndarray, gain: np.ndarray) -> np.ndarray:
        """Lid closure per frame: blinks start at the frames their time has come (rate from
        that frame's speech and emotion), each drawn as its shape over every frame."""
        i = 0
        while True:
            i += int(np.searchsorted(times[i:], self.next_blink))   # first t >= next_blink
            if i >= len(times):
                break
            while times[i] >= self.next_blink:
                self._plan_blink(float(speaking[i]), float(gain[i]))
        out = np.zeros(len(times))
        for peak, close, opening, amp in self.blinks:
            u = times - peak
            closing = np.sin(0.5 * np.pi * np.clip(1 + u / close, 0, 1)) ** 2
            opened = np.sin(0.5 * np.pi * np.clip(1 - (u - P.BLINK_HOLD_S) / opening, 0, 1)) ** 2
            shape = np.where(u < 0, closing, np.where(u < P.BLINK_HOLD_S, 1.0, opened))
            np.maximum(out, amp * shape, out=out)
        if len(times):
            last = times[-1]
            self.blinks = [b for b in self.blinks if last < b[0] + P.BLINK_HOLD_S + b[2]]
        return out

    def _gaze(self, times: np.ndarray) -> np.ndarray:
        """Gaze (yaw, pitch) per frame: saccades at the frames their time has come."""
        g = np.zeros((len(times), 2))
        i = 0
        while i < len(times):
            # Frames before the next saccade look from `prev` towards `target`.
            j = i + int(np.searchsorted(times[i:], self.fix_t + self.next_saccade))
            u = np.clip((times[i:j] - self.fix_t) / P.SACCADE_DURATION_S, 0, 1)
            u = (u * u * (3 - 2 * u))[:, None]
            g[i:j] = self.prev * (1 - u) + self.target * u
            if j >= len(times):
                break
            while times[j] >= self.fix_t + self.next_saccade:
                self.fix_t += self.next_saccade
                self.prev = self.target
                if self.gaze_rng.random() < P.GAZE_AWAY_PROB:
                    self.target = self.gaze_rng.normal(0, [P.GAZE_AWAY_YAW, P.GAZE_AWAY_PITCH])
                else:
                    self.target = self.gaze_rng.normal(0, [P.GAZE_NEAR, P.GAZE_NEAR * 0.6])
                self.next_saccade = self._saccade_gap()
            i = j
        return g

    def _activity(self, speaking: np.ndarray) -> np.ndarray:
        """0.6 + 0.6 x the share of speech over the last half second of frames."""
        window = max(1, int(0.5 * self.fps))
        history = np.concatenate([self.speaking_recent, speaking])
        total = np.concatenate([[0.0], np.cumsum(history)])
        stop = len(self.speaking_recent) + 1 + np.arange(len(speaking))
        start = np.maximum(0, stop - window)
        self.speaking_recent = history[-window:]
        return 0.6 + 0.6 * ((total[stop] - total[start]) / (stop - start))

    def apply(self, w: np.ndarray, times: np.ndarray, speaking: np.ndarray,
              amounts: np.ndarray, posture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add blinks and gaze to ``w`` (n, 52) in place; (head (n, 3), eyes (n, 6))."""
        n = len(times)
        times = np.asarray(times, np.float64)
        bgain, mgain = blink_gain(amounts), head_motion_gain(amounts)
        blink = self._blinks(times, speaking, bgain)
        g = self._gaze(times)
        draws = self.head_rng.normal(size=(n, len(self.noise)))
        noise = np.stack([s.take(draws[:, j]) for j, s in enumerate(self.noise)], 1)
        slow, quick = np.sqrt(1 - P.HEAD_QUICK_SHARE), np.sqrt(P.HEAD_QUICK_SHARE)
        drift = slow * noise[:, 0::2] + quick * noise[:, 1::2]
        drift *= self.std * self._activity(speaking)[:, None] * np.asarray(mgain, np.float64)[:, None]
        w += gaze_channels(g.astype(np.float32))
        w[:, _BLINK] += P.LID_FOLLOWS_GAZE_DOWN * w[:, _LOOK_DOWN]
        w[:, _BLINK] = np.maximum(w[:, _BLINK], blink[:, None] * np.array([1.0, 0.985]))
        w[:, _WIDE] *= (1.0 - blink)[:, None]
        eyes = np.zeros((n, 6), np.float32)
        eyes[:, [0, 3]] = g[:, :1]
        eyes[:, [1, 4]] = g[:, 1:]
        return (drift + posture).astype(np.float32), eyes
