"""A pretrained Whisper model on the CPU: encoder features (any length, any layer) and
transcripts with word timings. CTranslate2 and faster-whisper are imported here, lazily.

Features: Whisper's encoder sees at most 30 s (1500 positions). Longer audio is encoded in
overlapping windows and each window keeps its centre, so every kept frame had at least
``CONTEXT_S`` of audio on each side inside its window (the file's edges aside). Whisper
attends over its whole window, so a frame's value depends a little on where the window
falls: audio shorter than one window is encoded in one pass, exactly as a one-shot call
(docs/speech.md gives the size of the differences at joins).
"""
from __future__ import annotations

import ctypes
import gc
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from .layers import LayerEncoder

SAMPLE_RATE = 16000
HOP = 160                       # samples per log-mel frame (100 per second)
FRAME_SAMPLES = 2 * HOP         # the encoder halves the mel rate: 50 frames per second
FRAME_RATE = SAMPLE_RATE / FRAME_SAMPLES
WINDOW_S = 30.0                 # Whisper's positions: 1500 frames
CONTEXT_S = 5.0                 # audio kept on each side of a window's kept centre
COMPUTE_TYPE = "int8"           # CTranslate2 on CPU (docs/speech.md: speed and accuracy)
LIBRARIES_PIP = "pip install faster-whisper==1.2.1 ctranslate2==4.8.5"


@dataclass
class Word:
    text: str
    start: float                # seconds
    end: float
    probability: float


@dataclass
class Transcription:
    text: str
    language: str
    language_probability: float
    words: list[Word] = field(default_factory=list)
    model: str = ""             # which Whisper heard it


def _import_runtime():
    try:
        import ctranslate2
        import faster_whisper
    except ImportError as exc:
        raise UserError(f"the speech front-end needs {exc.name}: {LIBRARIES_PIP}") from None
    return ctranslate2, faster_whisper


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _return_freed_memory() -> None:
    """Hand the heap's freed pages back to the system (glibc keeps them otherwise, and
    the peak memory of what runs next would stand on them)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


class SpeechModel:
    """One Whisper model, loaded once: ``name``, ``dim`` (feature size), ``frame_rate``
    (50 per second), ``num_layers`` (encoder blocks), ``multilingual``."""

    frame_rate = FRAME_RATE

    def __init__(self, name: str, path: Path, compute_type: str = COMPUTE_TYPE):
        ctranslate2, self._faster_whisper = _import_runtime()
        self._ct2 = ctranslate2
        self.name, self.path, self.compute_type = name, Path(path), compute_type
        self._whisper = None
        self._layers = None
        runtime = self._runtime()
        self._mel = runtime.feature_extractor
        self.multilingual = bool(runtime.model.is_multilingual)
        probe = self._encode_window(np.zeros(FRAME_SAMPLES * 2, np.float32))
        self.dim = int(probe.shape[1])

    def __repr__(self) -> str:
        return f"SpeechModel({self.name!r}, dim={self.dim}, path={str(self.path)!r})"

    def release(self) -> None:
        """Free the runtime and its copy of the weights until the next call needs them
        (loaded again then, about 1 s): `animate --transcribe` does this before the
        aligner runs, so that their memory peaks do not stack."""
        self._whisper = None
        gc.collect()
        _return_freed_memory()

    def _runtime(self):
        if self._whisper is None:
            # A directory, always: faster-whisper then never reaches its download code.
            self._whisper = self._faster_whisper.WhisperModel(
                str(self.path), device="cpu", compute_type=self.compute_type,
                cpu_threads=_threads(), local_files_only=True)
        return self._whisper

    @property
    def num_layers(self) -> int:
        return self._layer_encoder().num_layers

    def _layer_encoder(self):
        if self._layers is None:
            self._layers = LayerEncoder(self.path / "model.bin", threads=_threads())
        return self._layers

    # ------------------------------------------------------------------ features
    def frames(self, num_samples: int) -> int:
        """Feature frames for ``num_samples`` samples, as Whisper counts them: half the
        log-mel frames (one per 10 ms), rounded up."""
        return (num_samples // HOP + 1) // 2

    def _encode_window(self, samples: np.ndarray, layer: int | None = None) -> np.ndarray:
        mel = self._mel(samples, padding=0)
        if mel.shape[1] < 2:  # a few samples: too short for the convolutions
            mel = np.pad(mel, ((0, 0), (0, 2 - mel.shape[1])), mode="edge")
        if layer is None:
            storage = self._ct2.StorageView.from_array(np.ascontiguousarray(mel[None], np.float32))
            return np.asarray(self._runtime().model.encode(storage))[0]
        return self._layer_encoder().forward(mel, layer)

    def encode(self, samples: np.ndarray, layer: int | None = None,
               window_s: float = WINDOW_S) -> np.ndarray:
        """Encoder features ``(frames, dim)`` float32 at 50 frames per second for float32
        mono 16 kHz ``samples`` of any length. ``layer`` None is the encoder's output (last
        block and final norm, CTranslate2); 0..num_layers is the output of that many
        blocks (0: the convolution stem with positions), computed from the same weights."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if layer is not None:
            layer = int(layer)
            if layer < 0:
                layer += self.num_layers + 1
            if not 0 <= layer <= self.num_layers:
                raise UserError(f"Whisper {self.name} has encoder layers 0 to "
                                f"{self.num_layers}, not {layer}")
        total = self.frames(len(x))
        if total == 0:
            return np.zeros((0, self.dim), np.float32)
        win = max(4, int(round(min(window_s, WINDOW_S) * FRAME_RATE)))
        context = min(int(round(CONTEXT_S * FRAME_RATE)), (win - 2) // 4)
        if total <= win:
            return self._encode_window(x, layer)[:total].astype(np.float32, copy=False)
        out = np.empty((total, self.dim), np.float32)
        keep_from, start = 0, 0
        while keep_from < total:
            end = min(total, start + win)
            feats = self._encode_window(x[start * FRAME_SAMPLES:end * FRAME_SAMPLES], layer)
            keep_to = total if end == total else end - context
            out[keep_from:keep_to] = feats[keep_from - start:keep_to - start]
            keep_from = keep_to
            start = max(0, keep_to - context)
            if total - start <= win:     # the last window reaches the end with full width
                start = max(0, total - win)
        return out

    # ---------------------------------------------------------------- transcripts
    def transcribe(self, samples: np.ndarray, language: str | None = None,
                   beam_size: int = 5, word_timings: bool = True) -> Transcription:
        """Words with timings, the language (detected when ``language`` is None on a
        multilingual model; English for an ``.en`` model) and its probability.
        ``word_timings`` False skips the timing pass (``words`` is then empty) for callers
        that need the text only; ``beam_size`` 1 decodes greedily."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if language and not self.multilingual and language != "en":
            raise UserError(f"Whisper {self.name} hears English only, not {language!r}; "
                            "use a multilingual model (base)")
        segments, info = self._runtime().transcribe(
            x, language=language or (None if self.multilingual else "en"),
            beam_size=beam_size, word_timestamps=word_timings, vad_filter=False)
        words, texts = [], []
        for seg in segments:
            texts.append(seg.text.strip())
            for w in seg.words or []:
                words.append(Word(w.word.strip(), float(w.start), float(w.end),
                                  float(w.probability)))
        return Transcription(text=" ".join(t for t in texts if t), language=info.language,
                             language_probability=float(info.language_probability),
                             words=words, model=self.name)
