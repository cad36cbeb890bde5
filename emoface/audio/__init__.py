"""The audio stage: audio in; samples at 16 kHz, prosody and timed phones out.

    from emoface.audio import Speech
    speech = Speech.from_file("take.wav", text="Hello there")
    speech.phones()      # list[Phone]: alignment, else phone loop; speech.phone_method says
    speech.prosody()     # Prosody on a 100 Hz grid: loudness 0..1, f0, voicing
"""
from __future__ import annotations

from .activity import has_speech, speech_activity, speech_segments

# the function align() stays in its module: exporting it here would hide the module
from .align import Alignment, align_detailed, phone_loop, phone_loop_detailed
from .espeak import list_voices as _list_voices
from .espeak import phonemize as _phonemize
from .espeak import synthesize as _synthesize
from .io import SAMPLE_RATE, audio_duration, load_audio, resample, save_wav
from .lablaut import lablaut_path_for, read_lablaut
from .phones import PHONE_SET, SILENCE, Phone
from .prosody import FRAME_RATE, Prosody, analyse
from .speech import Speech
from .transcript import normalize_transcript


def synthesize(text: str, voice: str = "en-us", **params):
    """espeak-ng text to speech with exact phone timings; see :mod:`emoface.audio.espeak`."""

    return _synthesize(text, voice=voice, **params)


def phonemize(text: str, voice: str = "en-us") -> list[str]:
    """ARPABET phones for ``text`` from espeak-ng's letter-to-sound rules."""

    return _phonemize(text, voice=voice)


def list_voices(language_prefix: str = "en"):
    """Installed espeak-ng voices for a language prefix."""

    return _list_voices(language_prefix)


__all__ = [
    "FRAME_RATE",
    "PHONE_SET",
    "SAMPLE_RATE",
    "SILENCE",
    "Alignment",
    "Phone",
    "Prosody",
    "Speech",
    "align_detailed",
    "analyse",
    "audio_duration",
    "has_speech",
    "lablaut_path_for",
    "list_voices",
    "load_audio",
    "normalize_transcript",
    "phone_loop",
    "phone_loop_detailed",
    "phonemize",
    "read_lablaut",
    "resample",
    "save_wav",
    "speech_activity",
    "speech_segments",
    "synthesize",
]
