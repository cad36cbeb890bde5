"""The one-call shortcuts: audio (or text to speak) in, Animation out.

:func:`animate` loads an engine and animates one input; for many inputs, load the engine
once with :func:`emoface.load_engine` and call its ``animate``. Writers are not called here.
"""
from __future__ import annotations

import numpy as np

from .animation import Animation
from .audio.espeak import synthesize
from .audio.speech import Speech
from .audio.voice_styles import style_for
from .emotion import EmotionSpec, parse_emotion
from .engines import Engine, load_engine
from .errors import UserError

DEFAULT_FPS = 30.0


def animate(audio, text: str | None = None, emotion: str | EmotionSpec | None = "auto",
            intensity: float | None = None, engine: str | Engine | None = None,
            fps: float = DEFAULT_FPS, seed: int = 0) -> Animation:
    """Animate speech with ``engine`` (a name, a loaded :class:`~emoface.engines.Engine`,
    or None for the default); see :meth:`emoface.engines.Engine.animate` for the rest."""
    eng = engine if isinstance(engine, Engine) else load_engine(engine)
    return eng.animate(audio, emotion, text=text, intensity=intensity, fps=fps, seed=seed)


def speak(text: str, emotion: str | None = "neutral", intensity: float | None = None,
          voice: str = "en-us", engine: str | None = None, fps: float = DEFAULT_FPS,
          seed: int = 0) -> tuple[Animation, np.ndarray, int]:
    """Synthesise ``text`` with espeak-ng in the emotion's speaking style and animate it
    with espeak's exact phoneme times. Returns (animation, samples, sample_rate)."""
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
