"""High-level entry points: audio (or text to speak) in, Animation out.

This is where the stages meet: ``audio`` prepares a :class:`~emoface.audio.Speech`, an
engine turns it into an :class:`~emoface.animation.Animation`. Writers are not called here.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import __version__
from .animation import Animation
from .emotion import EmotionSpec, EmotionTrack, parse_emotion
from .errors import UserError

DEFAULT_FPS = 30.0
ALLOWED_FPS = (30.0, 60.0)


def _rules(speech, track: EmotionTrack | None, fps: float, seed: int) -> Animation:
    from .rules.engine import animate

    return animate(speech, track if track is not None else _heard_track(speech), fps=fps, seed=seed)


def _neural(speech, track: EmotionTrack | None, fps: float, seed: int) -> Animation:
    from .model.engine import animate

    return animate(speech, track, fps=fps, seed=seed)  # None: the model's own ``auto``


def _baseline(name: str):
    def run(speech, track, fps, seed):
        from . import baselines

        return getattr(baselines, name)(speech, track, fps, seed)
    return run


# name -> callable(speech, emotion track or None for ``auto``, fps, seed) -> Animation
ENGINES: dict[str, Callable[..., Animation]] = {
    "neural": _neural,
    "rules": _rules,
    "neutral": _baseline("neutral"),
    "loudness-jaw": _baseline("loudness_jaw"),
}


def engine_names() -> list[str]:
    return sorted(ENGINES)


def neural_available() -> bool:
    """True when the model's weights are present (bundled, or $EMOFACE_MODEL) and torch
    is importable."""
    from importlib.util import find_spec

    from .model.checkpoint import default_weights

    return default_weights().exists() and find_spec("torch") is not None


def default_engine() -> str:
    # The rules engine until the network beats it on held-out speech: on LibriVox (never
    # trained on) its lips follow the teacher better even without a transcript
    # (BENCHMARKS.md). The network still serves "auto" through its voice emotion branch.
    return "rules"


def _heard_track(speech) -> EmotionTrack:
    """``auto`` for engines without an emotion branch: ask the voice emotion model, or
    animate neutral when it is not installed."""
    if not neural_available():
        stderr_note("emotion 'auto' needs the bundled voice emotion model, which is not "
                    "installed; animating neutral (give --emotion NAME to choose one)")
        return EmotionTrack.constant("neutral")
    from .model.voice_emotion import heard_track

    return heard_track(speech)


def load_speech(audio, text: str | None = None):
    """A path, or an existing Speech, -> Speech."""
    from .audio.speech import Speech

    if isinstance(audio, Speech):
        return audio
    return Speech.from_file(audio, text=text)


def animate(audio, text: str | None = None, emotion: str | EmotionSpec | None = "auto",
            intensity: float | None = None, engine: str | None = None,
            fps: float = DEFAULT_FPS, seed: int = 0) -> Animation:
    """Animate speech.

    audio:     path to wav/flac/ogg/mp3 (any rate, any channels) or a ``Speech``
    text:      transcript; improves lip sync (forced alignment) when given
    emotion:   ``auto``, ``happy``, ``happy:0.7``, ``happy:0.6+surprised:0.3``, or
               keyframes ``0:neutral,1.5:happy:0.8`` (see :mod:`emoface.emotion`)
    intensity: default intensity for emotions written without one
    engine:    ``rules`` (the rule-based animator, the default; uses the transcript),
               ``neural`` (the bundled network, audio only), or a baseline
               (``neutral``, ``loudness-jaw``); see :func:`engine_names`
    fps:       frames per second (30 or 60 from the CLI)
    seed:      random seed for blinks, gaze and head motion; same inputs -> same output
    """
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}; choose one of {', '.join(engine_names())}")
    if not fps > 0:
        raise UserError(f"fps must be positive, got {fps}")
    spec = emotion if isinstance(emotion, EmotionSpec) else parse_emotion(emotion, intensity)
    speech = load_speech(audio, text)
    if speech.duration < 1.0 / fps:
        raise UserError(f"{speech.source}: audio is {speech.duration * 1000:.0f} ms long, "
                        f"shorter than one frame at {fps:g} fps")
    anim = ENGINES[engine](speech, None if spec.auto else spec.track, float(fps), int(seed))
    anim.meta.update({
        "emoface": __version__, "engine": engine, "fps": float(fps), "seed": int(seed),
        "source": str(speech.source), "text": speech.text, "emotion_mode": "auto" if spec.auto else "explicit",
        "duration": round(float(speech.duration), 4),
    })
    return anim


def speak(text: str, emotion: str | None = "neutral", intensity: float | None = None,
          voice: str = "en-us", engine: str | None = None, fps: float = DEFAULT_FPS,
          seed: int = 0) -> tuple[Animation, np.ndarray, int]:
    """Synthesise ``text`` with espeak-ng in the emotion's speaking style and animate it
    with espeak's exact phoneme times. Returns (animation, samples, sample_rate)."""
    from .audio.espeak import synthesize
    from .audio.speech import Speech
    from .audio.voice_styles import style_for

    if not text or not text.strip():
        raise UserError("nothing to say: the text is empty")
    spec = parse_emotion(emotion, intensity)
    if spec.auto:
        raise UserError("emotion 'auto' needs a voice to listen to; give an emotion to say")
    style = style_for(spec.track.amounts.mean(0))
    samples, sr, phones = synthesize(text, voice=voice, rate=style.rate, pitch=style.pitch,
                                     pitch_range=style.pitch_range, volume=style.volume)
    speech = Speech(samples, sr, text=text, phones=phones, source=f"espeak-ng:{voice}",
                    phone_source="espeak")
    # espeak's phone times are exact, which is what the rule engine is best with.
    anim = animate(speech, emotion=spec, engine=engine or "rules", fps=fps, seed=seed)
    anim.meta["voice_style"] = style.__dict__
    return anim, samples, sr


def stderr_note(message: str) -> None:
    sys.stderr.write(f"emoface: note: {message}\n")


def default_output_names(stem: str, folder: Path, extensions) -> list[Path]:
    return [folder / f"{stem}{ext}" for ext in extensions]
