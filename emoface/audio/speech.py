"""One utterance ready for an animation engine: samples, optional transcript, and phone
timings and prosody computed on first use.

Phones come from the best source available, in this order: given with the audio
(espeak-ng's exact events, EmoDB's hand labels), forced alignment to the transcript, the
phone loop. ``phone_method`` tells which one was used (and ``phone_note`` why, when a
better one failed), so results can be judged by the timings they stood on. A transcript
that does not fit the audio (another sentence, part of it, too much of it) is dropped for
the phone loop with one warning line on stderr.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import UserError, warn
from .activity import has_speech, speech_activity
from .align import align_detailed, phone_loop_detailed
from .espeak import synthesize
from .io import SAMPLE_RATE, load_audio, resample
from .phones import Phone
from .prosody import Prosody, analyse


class Speech:
    """An utterance: 16 kHz mono float32 ``samples``, ``text`` when known, ``source``
    (a path or a description) and optionally ``phones`` already timed."""

    def __init__(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE,
                 text: str | None = None, source: str = "",
                 phones: list[Phone] | None = None, phone_source: str = "given"):
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim == 2:  # (n, channels), as soundfile returns it
            x = x.mean(axis=1, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"samples must be mono (n,) or (n, channels), got {x.shape}")
        self.samples = resample(x, sample_rate, SAMPLE_RATE)
        self.sample_rate = SAMPLE_RATE
        self.text = text.strip() if text and text.strip() else None
        self.source = str(source)
        self.given_phones = list(phones) if phones else None
        self._given_source = phone_source
        self._phones: list[Phone] | None = None
        self._prosody: Prosody | None = None
        self.phone_method: str | None = None   # set by phones()
        self.phone_note = ""

    @classmethod
    def from_file(cls, path: str | os.PathLike, text: str | None = None,
                  phones: list[Phone] | None = None, phone_source: str = "given") -> Speech:
        """Load any supported audio file (see :func:`load_audio`)."""
        return cls(load_audio(path), SAMPLE_RATE, text=text, source=str(path), phones=phones,
                   phone_source=phone_source)

    @classmethod
    def synthesize(cls, text: str, voice: str = "en-us", **params) -> Speech:
        """Speech spoken by espeak-ng, with its exact phone timings as the given phones;
        ``params`` are :func:`emoface.audio.espeak.synthesize`'s (rate, pitch, ...)."""
        samples, sr, phones = synthesize(text, voice=voice, **params)
        return cls(samples, sr, text=text, source=f"espeak-ng:{voice}", phones=phones,
                   phone_source="espeak")

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def phones(self) -> list[Phone]:
        """Timed phones covering the utterance (computed once)."""
        if self._phones is None:
            if self.given_phones:
                self._phones, self.phone_method = self.given_phones, self._given_source
            elif self.text:
                result = align_detailed(self.samples, self.text)
                self._phones, self.phone_method, self.phone_note = (result.phones, result.method,
                                                                    result.note)
                if result.dropped:
                    warn(f"the transcript does not fit the audio {self._name()} "
                         f"({result.dropped}); animating from the audio alone (phone loop)")
            else:
                result = phone_loop_detailed(self.samples)
                self._phones, self.phone_method, self.phone_note = (result.phones, result.method,
                                                                    result.note)
        return self._phones

    def prosody(self) -> Prosody:
        """Loudness, f0 and voicing on the 100 Hz grid (computed once)."""
        if self._prosody is None:
            self._prosody = analyse(self.samples, self.sample_rate)
        return self._prosody

    def activity(self) -> np.ndarray:
        """Speech/silence mask per 10 ms frame (energy gate)."""
        return speech_activity(self.samples, self.sample_rate)

    def has_speech(self) -> bool:
        return has_speech(self.samples, self.sample_rate)

    def require_speech(self) -> Speech:
        """Raise :class:`UserError` when the audio holds no speech (silence or near it)."""
        if not len(self.samples):
            raise UserError(f"audio {self._name()} is empty; speech is needed")
        if not self.has_speech():
            raise UserError(f"audio {self._name()} contains only silence; speech is needed")
        return self

    def _name(self) -> str:
        return repr(self.source or "input")

    def __repr__(self) -> str:
        text = f", text={self.text[:30]!r}" if self.text else ""
        return f"Speech({self.duration:.2f} s, source={self.source!r}{text})"
