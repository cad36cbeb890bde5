"""Engines: speech in, Animation out, all behind one interface (:class:`Engine`).

    engine = load_engine("neural")          # loads its weights and runtime once
    a = engine.animate("a.wav", emotion="happy:0.7")
    b = engine.animate("b.wav")             # reuses what was loaded

``list_engines()`` names every registered engine, baselines first;
``engine_class(name).capabilities`` says what one needs and supports without loading it.
"""
from __future__ import annotations

from ..errors import UserError
from .base import MAX_SEED, Capabilities, Engine, load_speech
from .baselines import LoudnessJawEngine, NeutralEngine
from .neural.checkpoint import weights_available
from .neural.engine import NeuralEngine
from .neural.voice_emotion import VoiceEmotion
from .rules.engine import RulesEngine

# Registration order is listing order: baselines, the teacher, then learnt engines.
_REGISTRY: dict[str, type[Engine]] = {}

# Chosen by measurement against real faces (BENCHMARKS.md, "Real motion": talking-face
# video, held-out sentences): the network's lips follow the video's far better than the
# rules engine's without a transcript, close more of the b/p/m closures and shut fewer open
# frames, at under a third of its compute. Without the model extra (torch) or the weights,
# the rules engine, which needs neither.
DEFAULT_ENGINE = "neural"
FALLBACK_ENGINE = "rules"


def register_engine(cls: type[Engine]) -> type[Engine]:
    """Add an engine class to the registry (usable as a class decorator)."""
    _REGISTRY[cls.name] = cls
    return cls


for _cls in (NeutralEngine, LoudnessJawEngine, RulesEngine, NeuralEngine):
    register_engine(_cls)


def list_engines() -> list[str]:
    """Every registered engine: baselines, then the teacher, then the rest."""
    def rank(name: str) -> int:
        caps = _REGISTRY[name].capabilities
        return 0 if caps.baseline else 1 if caps.teacher else 2

    return sorted(_REGISTRY, key=lambda n: (rank(n), list(_REGISTRY).index(n)))


def default_engine_name() -> str:
    """The engine "default" means here: :data:`DEFAULT_ENGINE` where it can run, else
    :data:`FALLBACK_ENGINE`."""
    return DEFAULT_ENGINE if weights_available() else FALLBACK_ENGINE


def engine_class(name: str | None = None) -> type[Engine]:
    """The class registered as ``name`` (None or "default": the default engine)."""
    key = default_engine_name() if name in (None, "default") else name
    if key not in _REGISTRY:
        raise UserError(f"unknown engine {name!r}; choose one of {', '.join(list_engines())}")
    return _REGISTRY[key]


def load_engine(name: str | None = "default", **options) -> Engine:
    """An engine ready to animate many inputs; ``options`` go to its constructor (the
    neural engine takes ``weights``, ``backend`` and ``temperature``)."""
    return engine_class(name)(**options)


def voice_emotion_available() -> bool:
    """Whether ``auto`` reaches a voice emotion model (the bundled network's emotion
    branch, :class:`VoiceEmotion`); without it engines animate neutral for ``auto``."""
    return weights_available()


__all__ = ["MAX_SEED", "VoiceEmotion", "voice_emotion_available", "Capabilities", "DEFAULT_ENGINE", "Engine", "default_engine_name", "engine_class",
           "list_engines", "load_engine", "load_speech", "register_engine"]
