"""The neural engine live: :class:`NeuralStream`, one per audio source, the network shared.

What streams exactly and what cannot (docs/live.md, "What a stream equals"):

- log-mel, phone scores and the network: frame for frame the offline computation, made as
  soon as the audio an output frame reaches has arrived (at most 183 ms ahead of it:
  the phone scores' window and delta-deltas, the convolutions, one future encoder frame
  per content layer, the next encoder frame of the 50 -> 30 fps interpolation);
- the phone scores' cepstral mean included: a stream cannot know the whole input's, so
  both remove a running mean (``cepstral_mean="running"``, the offline default; training
  used the whole input's, ``"utterance"``, which held out scores alike: docs/live.md);
- ``auto`` emotion: offline, 4 s windows centred around each frame; live, the 4 s
  ending at every second second (so the heard emotion arrives 2 to 4 s late), moved by
  a share of the 2 s per stream where many are computed together (:meth:`stagger`);
- blinks, gaze and head drift: drawn frame by frame (:class:`LiveNonverbal`), not planned
  over the whole take.
"""
from __future__ import annotations

import math

import numpy as np

from ...arkit import INDEX, NUM_BLENDSHAPES
from ...audio.features import semitones_re_100hz
from ...audio.live_features import LiveFeatures
from ...audio.live_features import push_many as features_many
from ...audio.prosody import analyse, normalise_loudness
from ...emotion import NUM_EMOTIONS
from ..streaming import BASE_FPS, Frames, LiveNonverbal, SpeechGate, Stream
from .calibration import bundled_calibration
from .config import FEATURE_RATE, OUTPUT_FPS, PREDICTED_CHANNELS
from .runtime import Predictor, _aligned, calibrated_rows, pad_features, voiced_shares

EMOTION_WINDOW = 400     # feature frames (4 s) the voice emotion branch hears
EMOTION_HOP = 200        # a new estimate every 2 s of audio
PROSODY_CONTEXT = 50     # frames of audio before each piece given to Praat (0.5 s)
_PREDICTED = np.array([INDEX[n] for n in PREDICTED_CHANNELS])
_JAW, _CLOSE = INDEX["jawOpen"], INDEX["mouthClose"]
_NEUTRAL = np.eye(NUM_EMOTIONS, dtype=np.float32)[0]


class HeardEmotion:
    """``auto`` live: every 2 s of audio, the emotion branch on the last 4 s (log-mel, and
    prosody analysed piece by piece as the audio comes, loudness normalised over the 4 s),
    calibrated as offline. A frame between the estimates made at hops j and j + 1 blends
    estimate j - 1 into estimate j, so the heard emotion changes smoothly, 2 to 4 s after
    the voice (offline windows are centred on the frame). Praat's pitch is the costly part:
    each stretch of audio is analysed once, with 0.5 s of context before it."""

    def __init__(self, pred: Predictor):
        self.pred = pred
        self.mel = np.zeros((0, pred.cfg.n_mels), np.float32)
        self.samples = np.zeros(0, np.float32)
        self.sample_start = 0                # input index of samples[0]
        self.frames = 0                      # feature frames seen
        self.db = np.zeros(0, np.float32)    # prosody of the last window's frames
        self.f0 = np.zeros(0, np.float32)
        self.estimates: dict[int, np.ndarray] = {0: _NEUTRAL}
        self.cal = bundled_calibration()
        self.phase = 0          # feature frames the hops are moved by (Stream.stagger)

    def hops(self, frames: int) -> int:
        """Estimates due once ``frames`` feature frames are in (hop j ends at frame
        j * EMOTION_HOP + phase)."""
        return max(0, (frames - self.phase) // EMOTION_HOP)

    def push(self, samples16k: np.ndarray, feats: np.ndarray, listening: bool) -> None:
        self.samples = np.concatenate([self.samples, samples16k])
        self.mel = np.concatenate([self.mel, feats[:, :self.pred.cfg.n_mels]])
        before, self.frames = self.frames, self.frames + len(feats)
        done = self.hops(self.frames)
        for j in range(self.hops(before) + 1, done + 1):
            self._analyse_piece(j)
            if listening:
                self.estimates[j] = self._estimate(j)
        for old in [k for k in self.estimates if 0 < k < done - 2]:
            del self.estimates[old]
        # Keep the last window of frames, and the audio the next piece needs.
        if len(self.mel) > EMOTION_WINDOW:
            self.mel = self.mel[-EMOTION_WINDOW:]
        first = max(0, (self._end(done) - PROSODY_CONTEXT) * 160) if done else 0
        if first > self.sample_start:
            self.samples = self.samples[first - self.sample_start:]
            self.sample_start = first

    def _end(self, j: int) -> int:
        """The feature frame where hop j ends (the first hop takes the phase too)."""
        return j * EMOTION_HOP + self.phase

    def _analyse_piece(self, j: int) -> None:
        a, b = (self._end(j - 1) if j > 1 else 0), self._end(j)
        ctx = min(PROSODY_CONTEXT, a)
        audio = self.samples[(a - ctx) * 160 - self.sample_start:b * 160 - self.sample_start]
        pros = analyse(audio)

        def rows(v):
            v = np.asarray(v, np.float32)[ctx:ctx + (b - a)]
            return np.concatenate([v, np.zeros(b - a - len(v), np.float32)])

        self.db = np.concatenate([self.db, rows(pros.loudness_db)])[-EMOTION_WINDOW:]
        self.f0 = np.concatenate([self.f0, rows(pros.f0)])[-EMOTION_WINDOW:]

    def _estimate(self, j: int) -> np.ndarray:
        stop = self._end(j)
        n = min(EMOTION_WINDOW, stop)
        end = len(self.mel) - (self.frames - stop)
        mel = self.mel[end - n:end]
        f0 = self.f0[-n:]
        prosody = np.stack([semitones_re_100hz(f0) / 12.0, (f0 > 0).astype(np.float32),
                            normalise_loudness(self.db[-n:])], 1).astype(np.float32)
        probs, intensity = self.pred.emotion(mel, prosody, one_thread=True)
        table = np.concatenate([probs, [intensity]])[None]
        rows, strength = calibrated_rows(table, voiced_shares(prosody, [(0, n)]), self.cal)
        amounts = (rows[0] * strength[0]).astype(np.float32)
        amounts[0] = 1.0 - amounts[1:].sum()
        return amounts

    def at(self, t: np.ndarray) -> np.ndarray:
        out = np.empty((len(t), NUM_EMOTIONS), np.float32)
        pos = (np.asarray(t, np.float64) * FEATURE_RATE - self.phase) / EMOTION_HOP
        hops = np.floor(pos).astype(np.int64)
        for j in np.unique(hops).tolist():      # one or two hops per chunk of frames
            rows = hops == j
            u = (pos[rows] - j)[:, None]
            a = self.estimates.get(j - 1, self._latest(j - 1))
            b = self.estimates.get(j, a)
            out[rows] = a * (1 - u) + b * u
        return out

    def _latest(self, j: int) -> np.ndarray:
        older = [k for k in self.estimates if k <= j]
        return self.estimates[max(older)] if older else _NEUTRAL


class NeuralStream(Stream):
    """A live stream of the neural engine (see the module notes)."""

    def __init__(self, pred: Predictor, sample_rate: int, emotion="auto",
                 fps: float = BASE_FPS, seed: int = 0, temperature: float = 1.0):
        super().__init__(sample_rate, emotion, fps, seed)
        self.pred = pred
        cfg = pred.cfg
        rng = np.random.default_rng(seed)      # the offline engine's first draw is z
        z = (rng.normal(size=cfg.d_latent) * temperature).astype(np.float32)
        self.features = LiveFeatures(cfg.n_phonetic)
        from .incremental import IncrementalNetwork  # torch

        self.network = IncrementalNetwork(pred.net, z)
        self.heard = HeardEmotion(pred)
        self.gate = SpeechGate()
        self.nonverbal = LiveNonverbal(seed)
        self.n_feats = 0
        self.frames_done = 0
        self._amounts: list[np.ndarray] = []

    @property
    def lookahead_s(self) -> float:
        """The most audio past an output frame's time that it waits for (182.8 ms for the
        bundled model): the next encoder frame, one more per content layer's look-ahead,
        the two convolutions (4 feature frames), then the features' own reach (the phone
        scores: three frames of delta-deltas and half their 410-sample window; log-mel
        alone: half its 400-sample window). Decoder look-ahead adds its frames."""
        cfg = self.pred.cfg
        encoder = 1 + cfg.content_layers * cfg.content_lookahead
        frames = 2 * encoder + 4
        reach = 160 * (frames + 3) + 205 if cfg.n_phonetic else 160 * frames + 200
        return reach / 16000 + cfg.decoder_layers * cfg.decoder_lookahead / OUTPUT_FPS

    def stagger(self, index: int) -> None:
        """Move this stream's voice-emotion hops (Praat on 2 s of audio and the emotion
        branch, every 2 s: a stream's costliest moment) by a share of a hop that differs
        for each index (golden-ratio steps), so streams started together spread them
        over the hop instead of computing them all in one tick. Its first estimate then
        comes 2 to 4 s in, and each one after every 2 s, as without."""
        if self.heard.frames:
            raise RuntimeError("stagger() must come before the stream's first audio")
        self.heard.phase = int((index * 0.6180339887498949) % 1.0 * EMOTION_HOP)

    def _amounts_at(self, first: int, stop: int) -> np.ndarray:
        t = np.arange(first, stop) / OUTPUT_FPS
        a = self.heard.at(t) if self.spec.auto else self.spec.track.at(t)
        self._amounts.append(a)
        return a

    @property
    def batch_key(self) -> object:
        return id(self.pred)

    def _push(self, samples16k: np.ndarray) -> Frames | None:
        return self._push_many([self], [samples16k])[0]

    @classmethod
    def _push_many(cls, streams: list[NeuralStream], samples: list[np.ndarray]
                   ) -> list[Frames | None]:
        """Features per stream, then the network once for all (one batch per layer)."""
        from .incremental import push_many  # torch

        feats = features_many([s.features for s in streams], samples)
        for s, x, f in zip(streams, samples, feats):
            s.gate.push(x)
            s.n_feats += len(f)
            s.heard.push(x, f, s.spec.auto)
        outs = push_many([s.network for s in streams], feats, [s._amounts_at for s in streams])
        return [s._frames(*o) for s, o in zip(streams, outs)]

    def _finish(self) -> Frames | None:
        feats = self.features.finish()
        self.heard.push(np.zeros(0, np.float32), feats, self.spec.auto)
        cfg = self.pred.cfg
        n_out = max(1, int(round(self.samples_in / 16000 * OUTPUT_FPS)))
        rows = self.n_feats + len(feats)
        need = max(rows, _aligned(math.ceil(n_out / (OUTPUT_FPS / FEATURE_RATE))))
        if need > rows:   # as offline: silence after the last frame, up to the 100 ms grid
            feats = pad_features(feats if len(feats) else np.zeros((0, cfg.n_features), np.float32),
                                 len(feats) + need - rows, cfg.n_mels)
        self.n_feats += len(feats)
        w1, h1 = self.network.push(feats, self._amounts_at)
        w2, h2 = self.network.finish(need, n_out, self._amounts_at)
        return self._frames(np.concatenate([w1, w2]), np.concatenate([h1, h2]))

    def _frames(self, predicted: np.ndarray, posture: np.ndarray) -> Frames | None:
        n = len(predicted)
        if not n:
            return None
        amounts = np.concatenate(self._amounts)
        used, rest = amounts[:n], amounts[n:]
        self._amounts = [rest] if len(rest) else []
        first = self.frames_done
        t = (first + np.arange(n)) / OUTPUT_FPS
        w = np.zeros((n, NUM_BLENDSHAPES), np.float32)
        w[:, _PREDICTED] = predicted
        speaking = self.gate.speaking(t)
        head, eyes = self.nonverbal.apply(w, t, speaking, used, posture)
        np.clip(w, 0.0, 1.0, out=w)
        w[:, _CLOSE] = np.minimum(w[:, _CLOSE], w[:, _JAW])
        self.frames_done += n
        return Frames(first, BASE_FPS, w, head, eyes, used)
