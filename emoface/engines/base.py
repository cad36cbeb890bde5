"""The one interface every engine has: load once, animate many.

An engine object holds what it loaded (network weights, runtimes, the voice emotion model
it asks for ``auto``); :meth:`Engine.animate` turns one input into an
:class:`~emoface.animation.Animation` and may be called any number of times. Callers that
plan work (the benchmark, the command line) ask :attr:`Engine.capabilities` what an engine
needs and supports instead of knowing engines by name.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..animation import Animation, frame_count
from ..audio.io import SAMPLE_RATE, audio_duration, audio_windows
from ..audio.speech import Speech
from ..emotion import EmotionSpec, EmotionTrack, parse_emotion
from ..errors import UserError, warn
from ..version import __version__
from .long_input import (
    LONG_INPUT_S,
    OVERLAP_S,
    WINDOW_S,
    Joiner,
    check_window,
    shifted_track,
    window_seed,
)

DEFAULT_FPS = 30.0
MAX_SEED = 2**32 - 1   # numpy's seed range


@dataclass(frozen=True)
class Capabilities:
    """What an engine needs and supports.

    reads_transcript  a transcript changes the output (its phones come from alignment)
    reads_words       the transcript's words shape the upper face and head, the lips not
    follows_emotion   an explicit emotion changes the output
    hears_emotion     ``auto`` is answered by an emotion branch of its own
    samples           the seed draws another take (a latent), not only blinks and gaze
    streams           :meth:`Engine.stream` works
    trained           learnt from data: benchmarks mark the inputs it heard in training
    teacher           labels the training corpus; the reference of the teacher-based rows
    baseline          a bar to beat (listed first in benchmarks), not a real animator
    """

    reads_transcript: bool = False
    reads_words: bool = False
    follows_emotion: bool = True
    hears_emotion: bool = False
    samples: bool = False
    streams: bool = False
    trained: bool = False
    teacher: bool = False
    baseline: bool = False

    @property
    def reads_text(self) -> bool:
        """A transcript (given or heard) changes the output in some way."""
        return self.reads_transcript or self.reads_words


def load_speech(audio, text: str | None = None) -> Speech:
    """A path, or an existing Speech, -> Speech."""
    if isinstance(audio, Speech):
        return audio
    return Speech.from_file(audio, text=text)


def _file_seconds(path) -> float:
    """The file's length from its header; 0 when it cannot be read (the one-shot path then
    says what is wrong with it)."""
    try:
        return audio_duration(path)
    except UserError:
        return 0.0


def streaming_engine_names() -> list[str]:
    """Names of the engine classes defined so far whose ``capabilities.streams`` is True."""
    found, todo = [], list(Engine.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo += cls.__subclasses__()
        if getattr(cls, "capabilities", None) is not None and cls.capabilities.streams:
            found.append(cls.name)
    return sorted(set(found))


class Engine:
    """Base class of every engine. Subclasses set the three class attributes and
    implement :meth:`_animate`; loading happens in ``__init__``."""

    name: ClassVar[str]
    description: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # False (``--no-text``): a transcript still places the phones where the engine aligns
    # one, but its words leave the upper face and head alone (to compare with and without).
    use_words: bool = True

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this engine cannot run here (weights or a library missing), or None."""
        return None

    def animate(self, audio, emotion: str | EmotionSpec | None = "auto", *,
                text: str | None = None, intensity: float | None = None,
                fps: float = DEFAULT_FPS, seed: int = 0,
                window_s: float | None = None) -> Animation:
        """Animate speech.

        audio:     path to wav/flac/ogg/mp3, m4a/aac/opus or a video (through ffmpeg), any
                   rate and channels, or a ``Speech``
        emotion:   ``auto``, ``happy``, ``happy:0.7``, ``happy:0.6+surprised:0.3``, or
                   keyframes ``0:neutral,1.5:happy:0.8`` (see :mod:`emoface.emotion`)
        text:      transcript; engines that read one align it to the audio
        intensity: default intensity for emotions written without one
        fps:       frames per second (30 or 60 from the CLI)
        seed:      random seed for blinks, gaze, head motion (and the take, where the
                   engine samples); same inputs -> same output
        window_s:  a file longer than ``LONG_INPUT_S`` (10 min) is animated in windows of
                   ``WINDOW_S`` seconds, in bounded memory (:mod:`.long_input`); a number
                   animates a file in windows of that many whole seconds at any length
        """
        if not fps > 0:
            raise UserError(f"fps must be positive, got {fps}")
        if not (isinstance(seed, (int, np.integer)) and 0 <= seed <= MAX_SEED):
            raise UserError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
        spec = emotion if isinstance(emotion, EmotionSpec) else parse_emotion(emotion, intensity)
        if text and text.strip() and not self.capabilities.reads_text:
            warn(f"the {self.name} engine does not read a transcript; the text given is "
                 f"ignored (animating from the audio alone)")
        if isinstance(audio, (str, os.PathLike)) and (
                window_s is not None or _file_seconds(audio) > LONG_INPUT_S):
            return self._animate_windows(audio, spec, text, float(fps), int(seed),
                                         WINDOW_S if window_s is None else window_s)
        if window_s is not None:
            raise ValueError("window_s is for audio files, not a Speech in memory")
        speech = load_speech(audio, text)
        if speech.duration < 1.0 / fps:
            raise UserError(f"{speech.source}: audio is {speech.duration * 1000:.0f} ms long, "
                            f"shorter than one frame at {fps:g} fps")
        anim = self._animate(speech, None if spec.auto else spec.track, float(fps), int(seed))
        return self._stamp(anim, speech.source, speech.text, spec, fps, seed, speech.duration)

    def _stamp(self, anim: Animation, source, text, spec: EmotionSpec, fps: float, seed: int,
               duration: float) -> Animation:
        anim.meta.update({
            "emoface": __version__, "engine": self.name, "fps": float(fps), "seed": int(seed),
            "source": str(source), "text": text,
            "emotion_mode": "auto" if spec.auto else "explicit",
            "duration": round(float(duration), 4),
        })
        return anim

    def _animate_windows(self, path, spec: EmotionSpec, text: str | None, fps: float,
                         seed: int, window_s: float) -> Animation:
        """The file in overlapping windows, each animated on its own and crossfaded into
        the next (see :mod:`.long_input`); only the frames are kept, never the audio."""
        window_s, overlap_s = check_window(window_s, OVERLAP_S)
        text = text.strip() if text and text.strip() else None
        if text and self.capabilities.reads_text:
            raise UserError(
                f"{str(path)!r} ({_file_seconds(path) / 60:.1f} min) is animated in windows, "
                f"and a transcript is read only for audio up to {LONG_INPUT_S / 60:g} min: "
                "animate it without the transcript (phones are then recognised window by "
                "window), or cut it into parts")
        joiner = Joiner(fps, overlap_s, frame_count(_file_seconds(path), fps))
        samples = 0
        for win in audio_windows(path, window_s, overlap_s):
            start_s = win.start / SAMPLE_RATE
            a, b = start_s, start_s + len(win.samples) / SAMPLE_RATE
            speech = Speech(win.samples, source=f"{path} [{a:.0f}-{b:.0f} s]")
            if win.index == 0 and win.last and len(win.samples) < SAMPLE_RATE / fps:
                raise UserError(f"{path}: audio is {speech.duration * 1000:.0f} ms long, "
                                f"shorter than one frame at {fps:g} fps")
            track = None if spec.auto else shifted_track(spec.track, start_s)
            joiner.add(self._animate(speech, track, fps, window_seed(seed, win.index)),
                       start_s, win.last)
            samples = win.start + len(win.samples)
        anim = joiner.animation(window_s, overlap_s)
        return self._stamp(anim, path, text, spec, fps, seed, samples / SAMPLE_RATE)

    def _animate(self, speech: Speech, track: EmotionTrack | None, fps: float,
                 seed: int) -> Animation:
        """``track`` None means ``auto``."""
        raise NotImplementedError

    def stream(self, sample_rate: int, emotion: str = "auto", fps: float = DEFAULT_FPS,
               seed: int = 0):
        """A stream object for live audio (:class:`~.streaming.Stream`: state per stream,
        the engine shared). Engines whose ``capabilities.streams`` is False refuse."""
        raise UserError(f"the {self.name} engine does not stream; engines that do: "
                        f"{', '.join(streaming_engine_names()) or 'none'}")

    @staticmethod
    def _check_stream_args(fps: float, seed: int) -> None:
        if not (isinstance(fps, (int, float)) and 0 < fps <= 120):
            raise UserError(f"fps must be a number above 0 and up to 120, got {fps!r}")
        if not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
                and 0 <= seed <= MAX_SEED):
            raise UserError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
