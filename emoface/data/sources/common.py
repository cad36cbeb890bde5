"""What every corpus source shares: the job and clip types, and the checks that decide
whether a clip is usable or must be skipped (with a reason for the build report)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...animation import Animation
from ...audio.activity import FRAME_SECONDS, has_speech, speech_activity
from ...audio.align import METHOD_ALIGNMENT, align_detailed
from ...audio.io import AUDIO_EXTENSIONS, load_audio
from ...audio.phones import Phone
from ...audio.transcript import normalize_transcript
from ...errors import UserError


class SkipClip(Exception):
    """This clip cannot be used; the message says why (one line, for the report)."""


@dataclass(frozen=True)
class Item:
    """One clip to build: everything a worker needs, JSON-serialisable ``params``
    (the recipe hash is taken over them, so a changed input rebuilds the clip)."""

    id: str
    source: str
    params: dict


@dataclass
class Clip:
    """A source's clip, ready for the common steps (features, teacher, files)."""

    samples: np.ndarray            # mono float32, 16 kHz
    sample_rate: int               # of the audio as stored (``audio`` or the file written)
    language: str
    speaker: str
    split: str
    licence: str
    phones: list[Phone]
    phone_method: str
    audio: str | None = None       # path read in place; None: the builder writes ``samples``
    transcript: str | None = None
    phone_note: str = ""
    emotion: str | None = None
    intensity: float | None = None
    flags: list[str] = field(default_factory=list)
    group: str | None = None
    extra: dict = field(default_factory=dict)
    captured: Animation | None = None
    store_rate: int | None = None  # for generated audio: rate of the samples to write


def safe_id(text: str) -> str:
    """An id fragment: path separators and spaces become dots/underscores."""
    out = re.sub(r"[\\/]+", ".", text.strip())
    out = re.sub(r"\s+", "_", out)
    return out.lstrip(".")


def native_rate(path: str | Path) -> int:
    import soundfile as sf

    try:
        return int(sf.info(str(path)).samplerate)
    except Exception:  # noqa: BLE001 - load_audio reports the real problem
        return 0


def load_audio_or_skip(path: str | Path) -> tuple[np.ndarray, int]:
    """16 kHz samples and the file's own rate; unreadable or silent audio is a skip."""

    try:
        samples = load_audio(path)
    except UserError as exc:
        raise SkipClip(str(exc)) from None
    if not has_speech(samples):
        raise SkipClip(f"audio file {str(path)!r} holds no speech (silence or near it)")
    return samples, native_rate(path)


def align_or_skip(samples: np.ndarray, text: str) -> tuple[list[Phone], str, str]:
    """Forced alignment to ``text``; a transcript that cannot be aligned is a skip (the
    phone loop's guesses are not good enough to teach lip sync from)."""

    if not normalize_transcript(text):
        raise SkipClip(f"the transcript {text!r} has no words (a tone or sound, not speech)")
    result = align_detailed(samples, text)  # fresh decoders per call: order-independent
    if result.method != METHOD_ALIGNMENT:
        raise SkipClip(f"transcript could not be aligned to the audio ({result.note or result.method})")
    return result.phones, result.method, result.note


# Speech-activity frames run on past the last labelled phone by up to about 0.5 s
# (hangover, breath, reverberation: measured on EmoDB); more than this is a mismatch.
LABEL_TAIL_TOLERANCE = 0.8
LABEL_OVERHANG_TOLERANCE = 0.25


def check_phone_span(phones: list[Phone], samples: np.ndarray, sample_rate: int = 16000,
                     allow_overhang: bool = False) -> None:
    """Skip a clip whose phone labels do not fit its audio: labels that stop while the
    speech goes on, or (unless the audio is known to be cut) labels past the audio's end."""

    speech = [p for p in phones if not p.is_silence]
    if not speech:
        raise SkipClip("the phone labels hold no speech")
    duration = len(samples) / sample_rate
    label_end = speech[-1].end
    if not allow_overhang and label_end > duration + LABEL_OVERHANG_TOLERANCE:
        raise SkipClip(f"label/audio length mismatch: labels run to {label_end:.2f} s, "
                       f"the audio ends at {duration:.2f} s")
    active = np.flatnonzero(speech_activity(samples, sample_rate))
    speech_end = (active[-1] + 1) * FRAME_SECONDS if len(active) else 0.0
    if speech_end > min(label_end, duration) + LABEL_TAIL_TOLERANCE:
        raise SkipClip(f"label/audio length mismatch: labels stop at {label_end:.2f} s but "
                       f"speech goes on to {speech_end:.2f} s")


def check_capture_span(frames: int, fps: float, duration: float) -> None:
    """Captured curves must cover the audio (a few frames either way are normal)."""
    span = frames / fps
    if abs(span - duration) > max(0.5, 0.05 * duration):
        raise SkipClip(f"label/audio length mismatch: {frames} frames at {fps:g} fps "
                       f"({span:.2f} s) for {duration:.2f} s of audio")


def find_audio_beside(path: Path) -> Path | None:
    """An audio file with the same stem as ``path`` in its folder."""
    for ext in AUDIO_EXTENSIONS:
        for candidate in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if candidate.is_file():
                return candidate
    return None


def stable_fraction(text: str) -> float:
    """A number in [0, 1) fixed by ``text`` (for hash-based splits)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") / 2**32


def split_by_hash(speaker: str, val: float = 0.1, test: float = 0.1) -> str:
    u = stable_fraction(speaker)
    return "val" if u < val else "test" if u < val + test else "train"
