"""Transcripts for animation when the user has none: Whisper hears the words, the forced
aligner (emoface.audio.align) times their phones, as it does for a given transcript.

The aligner's dictionary and acoustic model are English; speech heard in another language
is animated from the audio alone (the phone loop), with a note saying so.
"""
from __future__ import annotations

from ..audio.speech import Speech
from ..errors import note
from .model import SpeechModel, Transcription

ALIGNER_LANGUAGES = ("en",)


def transcript_source(model: SpeechModel) -> str:
    """How a corpus or an animation records a machine transcript's origin."""
    return f"whisper:{model.name}"


def alignable_text(heard: Transcription) -> tuple[str | None, str]:
    """(text for the aligner, "") or (None, why it is not used)."""
    if heard.language not in ALIGNER_LANGUAGES:
        return None, (f"Whisper {heard.model} heard {heard.language} "
                      f"(p={heard.language_probability:.2f}); the aligner knows English only, "
                      "so the lips follow the audio alone")
    if not heard.words:
        return None, f"Whisper {heard.model} heard no words; the lips follow the audio alone"
    return heard.text, ""


def transcribed(speech: Speech, model: SpeechModel) -> tuple[Speech, Transcription]:
    """``speech`` with Whisper's transcript as its text (when the aligner can use it; a
    note on stderr otherwise), and what Whisper heard."""
    heard = model.transcribe(speech.samples)  # Speech holds 16 kHz mono, Whisper's rate
    text, why = alignable_text(heard)
    if why:
        note(why)
        return speech, heard
    return Speech(speech.samples, speech.sample_rate, text=text, source=speech.source), heard
