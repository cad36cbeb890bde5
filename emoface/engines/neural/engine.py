"""The neural engine: speech in, Animation out, with no transcript.

Long audio is cut into windows whose core is written out and whose context on each side
covers the network's whole receptive field (:attr:`ModelConfig.context_seconds`), so a
windowed run equals a one-shot run. The network predicts speech and expression channels
and the head's expressive part; blinks, gaze and head drift come from the same seeded
nonverbal layer the rule engine uses (pauses found by an energy gate instead of phones).
With a transcript (given or heard), its words in time drive the text branch
(:mod:`.text_branch`): brows, cheeks, lids and head, never the lips; phrase ends get a blink.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...animation import Animation, frame_count
from ...arkit import INDEX, NUM_BLENDSHAPES
from ...audio.activity import speech_segments
from ...audio.features import log_mel, semitones_re_100hz
from ...audio.phones import SILENCE, Phone
from ...audio.phonetic import CEPSTRAL_MEANS, columns_filtered, phone_scores
from ...emotion import NUM_EMOTIONS, EmotionTrack
from ...errors import UserError, warn
from ...text.words import TimedWord, timed_words
from ..base import Capabilities, Engine
from ..nonverbal import eyes_and_head
from ..rules.text_cues import phrase_blinks
from .calibration import Calibration, bundled_calibration
from .checkpoint import default_weights, weights_available
from .config import FEATURE_RATE, OUTPUT_FPS, PREDICTED_CHANNELS
from .runtime import NO_PHONE as NO_PHONE
from .runtime import SILENT_LOG_MEL as SILENT_LOG_MEL
from .runtime import STEP as STEP
from .runtime import Predictor, _aligned, calibrated_rows, pad_features, voiced_shares
from .streaming import NeuralStream
from .whisper_emotion import choose_whisper, heard_table

ENGINE_NAME = "neural"
WINDOW_CORE_S = 40.0   # output per window
_PREDICTED = np.array([INDEX[n] for n in PREDICTED_CHANNELS])
_JAW, _CLOSE = INDEX["jawOpen"], INDEX["mouthClose"]


def model_inputs(samples16k: np.ndarray, prosody, n_phonetic: int = 0,
                 cepstral_mean: str = "running") -> tuple[np.ndarray, np.ndarray]:
    """(features (T, 80 + n_phonetic): log-mel, then the phone scores when the weights read
    them; prosody (T, 3)). The phone scores remove a running mean cepstrum, what a live
    stream can compute, so an offline take equals the streamed one; they are computed once
    over the whole input, not per window. ``cepstral_mean="utterance"`` removes the whole
    input's mean instead, as training does (docs/live.md: held out, the two score alike)."""

    mel = log_mel(samples16k)
    n = len(mel)

    def fit(a) -> np.ndarray:
        a = np.asarray(a, np.float32)[:n]
        return np.concatenate([a, np.zeros(n - len(a), np.float32)])

    f0 = fit(prosody.f0)
    features = np.stack([semitones_re_100hz(f0) / 12.0, fit(prosody.voiced), fit(prosody.loudness)], 1)
    if n_phonetic:

        scores = phone_scores(samples16k, columns_filtered(n_phonetic), cepstral_mean)
        mel = np.concatenate([mel, scores[:n]], 1)
    return mel, features.astype(np.float32)


def windows(n_mel: int, core: int, context: int) -> list[tuple[int, int, int, int]]:
    """(start, stop) of each window and (start, stop) of its core, in feature frames, all on
    the 100 ms grid; cores tile [0, n_mel)."""
    out, a = [], 0
    while a < n_mel:
        b = min(n_mel, a + core)
        out.append((max(0, a - context), min(n_mel, b + context), a, b))
        a = b
    return out


def run(pred: Predictor, mel: np.ndarray, amounts: np.ndarray, z: np.ndarray,
        core_s: float = WINDOW_CORE_S) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``mel`` (T, 80) window by window; ``amounts`` (T30, 8) per output frame."""
    n_out = len(amounts)
    context = _aligned(pred.cfg.context_seconds * FEATURE_RATE)
    core = max(STEP, _aligned(core_s * FEATURE_RATE))
    weights = np.zeros((n_out, len(PREDICTED_CHANNELS)), np.float32)
    head = np.zeros((n_out, 3), np.float32)
    per = OUTPUT_FPS / FEATURE_RATE  # output frames per feature frame (0.3)
    for a, b, ca, cb in windows(len(mel), core, context):
        oa, ob = round(a * per), min(n_out, math.ceil(b * per))
        w, h = pred.decode(mel[a:b], amounts[oa:ob], z)
        ka, kb = round(ca * per), min(n_out, round(cb * per) if cb < len(mel) else n_out)
        weights[ka:kb], head[ka:kb] = w[ka - oa:kb - oa], h[ka - oa:kb - oa]
    return weights, head


def _window_starts(n: int, win: int, hop: int) -> list[int]:
    starts = [0] if n <= win else list(range(0, n - win + 1, hop))
    if n > win and starts[-1] + win < n:
        starts.append(n - win)
    return starts


def heard_emotion(pred: Predictor, mel: np.ndarray, prosody: np.ndarray,
                  window_s: float = 4.0, hop_s: float = 1.0, with_voiced: bool = False):
    """Emotion over time: centres of ``window_s`` windows every ``hop_s`` seconds, and per
    window the branch's own 8 probabilities followed by its intensity head, (K, 9); with
    ``with_voiced``, also each window's share of voiced frames (K,)."""
    n = len(mel)
    win, hop = int(window_s * FEATURE_RATE), int(hop_s * FEATURE_RATE)
    starts = _window_starts(n, win, hop)
    rows = []
    for s in starts:
        probs, intensity = pred.emotion(mel[s:s + win], prosody[s:s + win])
        rows.append(np.concatenate([probs, [intensity]]))
    centres = np.array([(s + min(win, n) / 2) / FEATURE_RATE for s in starts])
    table = np.stack(rows).astype(np.float32)
    if not with_voiced:
        return centres, table
    return centres, table, voiced_shares(prosody, [(s, min(n, s + win)) for s in starts])


def auto_amounts(pred: Predictor, mel: np.ndarray, prosody: np.ndarray, times: np.ndarray,
                 calibration: Calibration | None = None, samples16k: np.ndarray | None = None
                 ) -> np.ndarray:
    """``auto``: the emotion heard around each frame, as amounts (calibrated probability x
    calibrated intensity); where the voice is unsure, neutral. Given the ``samples16k``
    and with the bundled weights, the Whisper-feature classifier hears it when installed
    (:func:`.whisper_emotion.choose_whisper`); else the network's own branch."""
    whisper = (choose_whisper() if samples16k is not None
               and pred.path.resolve() == default_weights().resolve() else None)
    if whisper is not None:
        cal = calibration if calibration is not None else whisper.calibration
        centres, table, shares = heard_table(whisper, samples16k, prosody)
    else:
        cal = calibration if calibration is not None else bundled_calibration()
        centres, table, shares = heard_emotion(pred, mel, prosody, with_voiced=True)
    rows, strength = calibrated_rows(table, shares, cal)
    probs = np.stack([np.interp(times, centres, rows[:, e]) for e in range(NUM_EMOTIONS)], 1)
    intensity = np.interp(times, centres, strength)
    probs /= probs.sum(1, keepdims=True)
    amounts = probs * intensity[:, None]
    amounts[:, 0] = 1.0 - amounts[:, 1:].sum(1)
    return amounts.astype(np.float32)


def pseudo_phones(samples16k: np.ndarray, duration: float) -> list[Phone]:
    """Speech/silence as phones (the nonverbal layer only needs where the pauses are)."""

    phones, t = [], 0.0
    for a, b in speech_segments(samples16k):
        if a > t:
            phones.append(Phone(t, a, SILENCE))
        phones.append(Phone(a, b, "AH"))
        t = b
    if t < duration:
        phones.append(Phone(t, duration, SILENCE))
    return phones


class NeuralEngine(Engine):
    """The bundled network (or ``weights``), run by onnxruntime or torch (``backend``:
    auto, onnx, torch). Loads once; every :meth:`animate` reuses the loaded runtime."""

    name = ENGINE_NAME
    description = "the bundled network: lip sync from audio alone, emotion given or heard"
    capabilities = Capabilities(reads_words=True, hears_emotion=True, samples=True, streams=True,
                                trained=True)

    def __init__(self, weights: str | Path | None = None, backend: str = "auto",
                 temperature: float = 1.0, cepstral_mean: str = "running"):
        if weights is None and not weights_available():
            raise UserError(f"the neural engine needs its weights and torch: "
                            f"{self.unavailable_reason()}")
        if cepstral_mean not in CEPSTRAL_MEANS:
            raise UserError(f"cepstral_mean must be one of {', '.join(CEPSTRAL_MEANS)}, "
                            f"not {cepstral_mean!r}")
        self.predictor = Predictor(weights, backend)
        self.temperature = float(temperature)
        # "running" (default): the phone scores' cepstral mean a live stream uses, so an
        # offline take equals the stream of the same audio; "utterance": the whole input's,
        # what training used (docs/live.md, "What a stream equals", compares them).
        self.cepstral_mean = cepstral_mean

    def stream(self, sample_rate: int, emotion="auto", fps: float = 30.0, seed: int = 0):
        """A live stream (:class:`~.streaming.NeuralStream`); the network is shared."""
        self._check_stream_args(fps, seed)
        return NeuralStream(self.predictor, sample_rate, emotion, fps, int(seed),
                            self.temperature)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None if weights_available() else (
            f"weights not installed ({default_weights()}; `make model` trains them) "
            "or torch missing (install the model extra)")

    def _animate(self, speech, track, fps, seed):
        return animate_with(self.predictor, speech, track, fps=fps, seed=seed,
                            temperature=self.temperature, cepstral_mean=self.cepstral_mean,
                            use_words=self.use_words)


def spoken_words(speech) -> list[TimedWord]:
    """The transcript's words where they were spoken (forced alignment); none without a
    transcript, or when it does not fit the audio (the aligner then says so)."""
    return timed_words(speech.phones(), speech.text) if speech.text else []


def words_layer(words: list[TimedWord], text: str, prosody, amounts: np.ndarray):
    """(weights, head) the text branch adds at the network's frame rate, or None when it
    cannot run here (its weights or MiniLM missing: said once per process)."""
    from . import text_branch

    branch = text_branch.bundled_branch()
    try:
        if branch is not None:
            return text_branch.words_layer(branch, words, text, prosody, amounts)
        reason = f"the text branch's weights are not installed ({text_branch.BUNDLED.name})"
    except UserError as exc:   # MiniLM not installed
        reason = str(exc)
    if reason not in _said:
        warn(f"the words do not shape the face: {reason}")
        _said.add(reason)
    return None


_said: set[str] = set()   # reasons already given


def animate_with(pred: Predictor, speech, track: EmotionTrack | None, fps: float = 30.0,
                 seed: int = 0, temperature: float = 1.0,
                 cepstral_mean: str = "running", use_words: bool = True) -> Animation:
    """Animate a :class:`~emoface.audio.Speech` with a loaded predictor; ``track`` None
    means ``auto``. With ``use_words`` a transcript's words shape the upper face and head."""
    rng = np.random.default_rng(seed)
    mel, prosody = model_inputs(speech.samples, speech.prosody(), pred.cfg.n_phonetic,
                                cepstral_mean)
    n = frame_count(speech.duration, OUTPUT_FPS)
    t = np.arange(n) / OUTPUT_FPS
    amounts = (auto_amounts(pred, mel, prosody, t, samples16k=speech.samples) if track is None
               else track.at(t))
    z = (rng.normal(size=pred.cfg.d_latent) * temperature).astype(np.float32)
    need = max(len(mel), _aligned(math.ceil(n / (OUTPUT_FPS / FEATURE_RATE))))
    if need > len(mel):  # the last output frame may sit just past the last feature frame
        mel = pad_features(mel, need, pred.cfg.n_mels)
    predicted, head = run(pred, mel, amounts, z)
    w = np.zeros((n, NUM_BLENDSHAPES), np.float32)
    w[:, _PREDICTED] = predicted[:n]
    head, blinks = head[:n], None
    words = spoken_words(speech) if use_words else []
    layer = words_layer(words, speech.text, speech.prosody(), amounts) if words else None
    if layer is not None:
        w += layer[0]
        head = head + layer[1]
        blinks = phrase_blinks(words, speech.duration)
    head, eyes = eyes_and_head(w, t, OUTPUT_FPS, pseudo_phones(speech.samples, speech.duration),
                               amounts, head, rng, phrase_blinks=blinks)
    np.clip(w, 0.0, 1.0, out=w)
    # ARKit's mouthClose means "lips together while the jaw is open": never beyond the jaw.
    w[:, _CLOSE] = np.minimum(w[:, _CLOSE], w[:, _JAW])
    anim = Animation(w, OUTPUT_FPS, head=head, eyes=eyes, emotion_probs=amounts,
                     meta={"engine": ENGINE_NAME, "seed": int(seed), "backend": pred.backend,
                           "model": pred.path.name, "emotion_mode": "auto" if track is None else "explicit",
                           "words": len(words) if layer is not None else 0})
    return anim if fps == OUTPUT_FPS else anim.resample(fps)

