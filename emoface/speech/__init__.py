"""The pretrained speech front-end: Whisper (CTranslate2) encoder features by layer and
transcripts with word timings and language, offline.

    from emoface.speech import load_speech_model
    model = load_speech_model("tiny.en")      # or "base", a model directory, None
    feats = model.encode(samples)             # (frames at 50/s, model.dim)
    heard = model.transcribe(samples)         # .text .language .words

Models come from installed weights packages or a directory (docs/speech.md); nothing is
downloaded. ``None`` means ``$EMOFACE_SPEECH_MODEL``, else :data:`DEFAULT_MODEL`.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from .model import FRAME_RATE, SpeechModel, Transcription, Word
from .transcripts import alignable_text, transcribed, transcript_source
from .weights import PACKAGES, available, resolve

DEFAULT_MODEL = "tiny.en"
ENV_VAR = "EMOFACE_SPEECH_MODEL"

_loaded: dict[tuple[str, Path], SpeechModel] = {}
_lock = threading.Lock()


def model_spec(spec: str | None = None) -> str:
    """The model a caller means: ``spec``, else $EMOFACE_SPEECH_MODEL, else the default."""
    return spec or os.environ.get(ENV_VAR) or DEFAULT_MODEL


def load_speech_model(spec: str | None = None) -> SpeechModel:
    """Load a Whisper model once per process (later calls return the same object)."""
    name, path = resolve(model_spec(spec))
    key = (name, path.resolve())
    with _lock:
        if key not in _loaded:
            _loaded[key] = SpeechModel(name, path)
        return _loaded[key]


__all__ = ["DEFAULT_MODEL", "ENV_VAR", "FRAME_RATE", "PACKAGES", "SpeechModel",
           "Transcription", "Word", "alignable_text", "available", "load_speech_model",
           "model_spec", "transcribed", "transcript_source"]
