"""The engine interface: a registry, load once, animate many."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import emoface
from emoface.audio.speech import Speech
from emoface.engines import Engine, engine_class, list_engines, load_engine
from emoface.errors import UserError


def _speech(seconds: float = 1.5) -> Speech:
    t = np.arange(int(seconds * 16000)) / 16000
    buzz = sum(np.sin(2 * np.pi * 110 * k * t) / k for k in range(1, 6))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 3 * t))
    return Speech((0.1 * buzz * envelope).astype(np.float32), 16000, source="buzz")


def _runnable() -> list[str]:
    return [n for n in list_engines() if engine_class(n).unavailable_reason() is None]


@pytest.mark.parametrize("name", _runnable())
def test_every_registered_engine_animates_through_the_interface(name):
    engine = load_engine(name)
    assert isinstance(engine, Engine) and engine.name == name
    anim = engine.animate(_speech(), "happy:0.5", fps=30, seed=1)
    assert anim.weights.shape == (45, 52) and anim.meta["engine"] == name
    assert 0 <= anim.weights.min() and anim.weights.max() <= 1


def test_the_default_engine_and_unknown_names(monkeypatch):
    assert load_engine().name == load_engine("default").name == emoface.engines.DEFAULT_ENGINE
    # without the model extra or the weights, the engine that needs neither
    monkeypatch.setattr(emoface.engines, "weights_available", lambda: False)
    assert load_engine().name == emoface.engines.FALLBACK_ENGINE == "rules"
    with pytest.raises(UserError, match="unknown engine 'nope'; choose one of neutral"):
        load_engine("nope")


def test_capabilities_are_declared_not_guessed():
    caps = {n: engine_class(n).capabilities for n in list_engines()}
    assert [n for n, c in caps.items() if c.teacher] == ["rules"]
    assert caps["rules"].reads_transcript and not caps["neural"].reads_transcript
    assert caps["neural"].hears_emotion and caps["neural"].trained
    assert not caps["neutral"].follows_emotion and caps["neutral"].baseline


@pytest.mark.skipif(engine_class("neural").unavailable_reason() is not None,
                    reason="bundled model not installed")
def test_the_neural_engine_loads_its_weights_once_for_many_inputs(monkeypatch):
    from emoface.engines.neural import runtime as neural  # Predictor and its loading

    made, loaded = [], []
    real_init, real_load = neural.Predictor.__init__, neural.load_network

    def counting_init(self, *args, **kwargs):
        made.append(1)
        real_init(self, *args, **kwargs)

    def counting_load(*args, **kwargs):
        loaded.append(1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(neural.Predictor, "__init__", counting_init)
    monkeypatch.setattr(neural, "load_network", counting_load)
    engine = emoface.load_engine("neural", backend="torch")
    a = engine.animate(_speech(1.0), "neutral")
    b = engine.animate(_speech(2.0), "auto")
    c = engine.animate(_speech(1.0), "neutral")
    assert (a.num_frames, b.num_frames) == (30, 60)
    assert len(made) == 1 and len(loaded) == 1
    assert np.array_equal(a.weights, c.weights)


def test_the_one_call_shortcut_has_an_explicit_signature():
    params = inspect.signature(emoface.animate).parameters
    assert list(params) == ["audio", "text", "emotion", "intensity", "engine", "fps", "seed"]
    assert all(p.kind != p.VAR_KEYWORD for p in params.values())


def test_a_loaded_engine_passed_to_the_shortcut_is_used_as_is():
    engine = load_engine("loudness-jaw")
    speech = _speech()
    assert np.array_equal(emoface.animate(speech, engine=engine).weights,
                          engine.animate(speech).weights)


def test_info_names_the_default_engine_the_registry_uses():
    from emoface.diagnostics import info_lines

    lines = info_lines()
    engines = [line for line in lines if line.startswith("engines: ")]
    assert engines == [f"engines: {', '.join(list_engines())} "
                       f"(default: {emoface.engines.default_engine_name()})"]
    assert not any("default engine" in line for line in lines if line.startswith("model: "))
