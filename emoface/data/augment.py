"""Voice variety for training: audio transforms applied on the fly, deterministic by seed.

Each transform is a pure function of the samples and its parameters (noise and room
responses draw from a seed given as a parameter), so a recipe -- a list of
``(name, params)`` steps -- replays exactly. :func:`draw_recipe` draws a recipe from a
numpy Generator and :func:`apply` replays it. Training keeps only the steps that keep the
duration (its targets are fixed to the crop's frames), so ``speed``, ``tempo`` and
``pitch_formant`` are drawn but dropped there.

- ``pitch_formant``: Praat's "Change gender" (PSOLA): pitch moved by semitones, formants
  scaled (a shorter or longer vocal tract), duration kept;
- ``speed``: resampling, as in speed perturbation for speech recognition: tempo, pitch
  and formants move together;
- ``tempo``: Praat's overlap-add lengthening: tempo only;
- ``reverb``: a synthetic room (direct sound, a few early reflections, an exponentially
  decaying diffuse tail with the given RT60, darker as it decays);
- ``noise``: white, pink or brown noise at a signal-to-noise ratio over the speech;
- ``band_limit``: down to 8 kHz and back (telephone bandwidth: nothing above 4 kHz);
- ``mu_law``: G.711 companding to 8 bits;
- ``codec``: a lossy-codec imitation: spectral holes below a per-frame masking floor,
  coarse magnitude quantisation, a low-pass at the codec's cut-off;
- ``gain``: level in dB, with hard clipping at full scale.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, istft, lfilter, resample_poly, stft

_PITCH_FLOOR, _PITCH_CEILING = 75.0, 600.0


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    if len(y) >= n:
        return y[:n]
    return np.concatenate([y, np.zeros(n - len(y), y.dtype)])


def _sound(samples: np.ndarray, sr: int):
    import parselmouth

    return parselmouth.Sound(np.asarray(samples, np.float64), sampling_frequency=float(sr))


def pitch_formant(samples: np.ndarray, sr: int, semitones: float = 0.0,
                  formant_ratio: float = 1.0, range_factor: float = 1.0) -> np.ndarray:
    """Pitch up/down by ``semitones`` and formants scaled by ``formant_ratio``; same length."""
    from parselmouth.praat import call

    x = np.asarray(samples, np.float32)
    if len(x) < int(0.1 * sr):
        return x.copy()
    sound = _sound(x, sr)
    median = 0.0  # Praat: 0 keeps the pitch
    if semitones:
        pitch = call(sound, "To Pitch", 0.0, _PITCH_FLOOR, _PITCH_CEILING)
        current = call(pitch, "Get quantile", 0.0, 0.0, 0.5, "Hertz")
        if np.isfinite(current) and current > 0:
            median = float(current) * 2.0 ** (semitones / 12.0)
    out = call(sound, "Change gender", _PITCH_FLOOR, _PITCH_CEILING, float(formant_ratio),
               median, float(range_factor), 1.0)
    y = np.asarray(out.values[0], np.float32)
    if round(out.sampling_frequency) != sr:
        y = resample_poly(y, sr, round(out.sampling_frequency)).astype(np.float32)
    return _fit_length(np.nan_to_num(y), len(x))


def speed(samples: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch follows); length becomes ``len / factor``."""
    from math import gcd

    x = np.asarray(samples, np.float32)
    up = 1000
    down = round(up * factor)
    g = gcd(up, down)
    return resample_poly(x, up // g, down // g).astype(np.float32)


def tempo(samples: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """``factor`` times faster, pitch kept (Praat overlap-add)."""
    from parselmouth.praat import call

    x = np.asarray(samples, np.float32)
    if len(x) < int(0.1 * sr):
        return x.copy()
    out = call(_sound(x, sr), "Lengthen (overlap-add)", _PITCH_FLOOR, _PITCH_CEILING,
               1.0 / float(factor))
    return np.nan_to_num(np.asarray(out.values[0], np.float32))


def room_response(sr: int, rt60: float, seed: int, early: int = 6) -> np.ndarray:
    """A synthetic room impulse response with reverberation time ``rt60`` seconds."""
    rng = np.random.default_rng(seed)
    n = max(1, int(sr * min(2.0, 1.2 * rt60)))
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / max(rt60, 1e-3))  # -60 dB at rt60
    # air and walls absorb highs faster: a one-pole low-pass closing as the tail decays
    tail = lfilter([0.6], [1.0, -0.4], tail)
    onset = int(0.005 * sr)
    tail[:onset] *= np.linspace(0.0, 1.0, onset) if onset else 1.0
    h = 0.35 * tail / (np.sqrt(np.sum(tail ** 2)) + 1e-12)
    h[0] = 1.0  # the direct sound at lag 0 keeps the speech where it was in time
    for _ in range(early):
        lag = int(rng.uniform(0.002, 0.03) * sr)
        if 0 < lag < n:
            h[lag] += rng.uniform(-0.5, 0.5)
    return h.astype(np.float32)


def reverb(samples: np.ndarray, sr: int, rt60: float, seed: int) -> np.ndarray:
    """Speech in a room; same length and level (RMS) as the input."""
    x = np.asarray(samples, np.float32)
    y = fftconvolve(x, room_response(sr, rt60, seed))[:len(x)].astype(np.float32)
    rx, ry = np.sqrt(np.mean(x ** 2)), np.sqrt(np.mean(y ** 2))
    return y * (rx / ry) if ry > 0 else y


def _speech_power(x: np.ndarray, sr: int) -> float:
    """Mean power of the louder half of 20 ms frames: the speech, not the pauses."""
    hop = max(1, int(0.02 * sr))
    n = len(x) // hop
    if n == 0:
        return float(np.mean(x ** 2)) if len(x) else 0.0
    frames = np.mean(x[:n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)
    return float(np.mean(np.sort(frames)[n // 2:]))


def noise(samples: np.ndarray, sr: int, snr_db: float, seed: int, colour: str = "white"
          ) -> np.ndarray:
    """Add coloured noise ``snr_db`` below the speech power."""
    x = np.asarray(samples, np.float32)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(len(x))
    if colour == "pink":   # -3 dB/octave (Kellet's economy filter)
        w = lfilter([0.049922035, -0.095993537, 0.050612699, -0.004408786],
                    [1, -2.494956002, 2.017265875, -0.522189400], w)
    elif colour == "brown":  # -6 dB/octave, leaky so it does not wander off
        w = lfilter([1.0], [1.0, -0.98], w)
    elif colour != "white":
        raise ValueError(f"unknown noise colour {colour!r}")
    p_noise = float(np.mean(w ** 2)) or 1.0
    scale = np.sqrt(_speech_power(x, sr) / p_noise / 10.0 ** (snr_db / 10.0))
    return (x + scale * w).astype(np.float32)


def band_limit(samples: np.ndarray, sr: int, rate: int = 8000) -> np.ndarray:
    """Through a ``rate`` channel and back: nothing above rate/2 survives."""
    from math import gcd

    x = np.asarray(samples, np.float32)
    if rate >= sr:
        return x.copy()
    g = gcd(sr, rate)
    low = resample_poly(x, rate // g, sr // g)
    return _fit_length(resample_poly(low, sr // g, rate // g).astype(np.float32), len(x))


def mu_law(samples: np.ndarray, bits: int = 8) -> np.ndarray:
    """G.711-style mu-law companding and quantisation to ``bits`` bits."""
    x = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
    mu = 255.0
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    levels = 2 ** (bits - 1)
    y = np.round(y * levels) / levels
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu).astype(np.float32)


def codec(samples: np.ndarray, sr: int, cutoff_hz: float = 6000.0, floor_db: float = 35.0,
          step_db: float = 3.0) -> np.ndarray:
    """Lossy-codec artefacts: per 32 ms frame, bins more than ``floor_db`` under the
    frame's peak are dropped (spectral holes), magnitudes are quantised in ``step_db``
    steps, nothing passes above ``cutoff_hz``. Phase is kept; same length."""
    x = np.asarray(samples, np.float32)
    if len(x) < 64:
        return x.copy()
    nper = int(0.032 * sr)
    f, _t, z = stft(x, fs=sr, nperseg=nper, noverlap=nper * 3 // 4)
    mag = np.abs(z)
    db = 20.0 * np.log10(mag + 1e-9)
    peak = db.max(axis=0, keepdims=True)
    keep = (db > peak - floor_db) & (f[:, None] <= cutoff_hz)
    q = np.round(db / step_db) * step_db
    z = np.where(keep, 10.0 ** (q / 20.0) * np.exp(1j * np.angle(z)), 0.0)
    _t, y = istft(z, fs=sr, nperseg=nper, noverlap=nper * 3 // 4)
    return _fit_length(y.astype(np.float32), len(x))


def gain(samples: np.ndarray, db: float) -> np.ndarray:
    """Level change in dB; what passes full scale is clipped, as an overdriven input is."""
    return np.clip(np.asarray(samples, np.float32) * 10.0 ** (db / 20.0), -1.0, 1.0)


TRANSFORMS = {"pitch_formant": pitch_formant, "speed": speed, "tempo": tempo,
              "reverb": reverb, "noise": noise, "band_limit": band_limit, "mu_law": mu_law,
              "codec": codec, "gain": gain}
_NEEDS_RATE = {"pitch_formant", "speed", "tempo", "reverb", "noise", "band_limit", "codec"}


def apply(samples: np.ndarray, sr: int, recipe: list[tuple[str, dict]]) -> np.ndarray:
    """Replay a recipe of ``(transform name, parameters)`` steps."""
    x = np.asarray(samples, np.float32)
    for name, params in recipe:
        fn = TRANSFORMS[name]
        x = fn(x, sr, **params) if name in _NEEDS_RATE else fn(x, **params)
    return x


def draw_recipe(rng: np.random.Generator) -> list[tuple[str, dict]]:
    """A random recipe: each kind of change with its own probability, mild to strong."""
    recipe: list[tuple[str, dict]] = []
    u = rng.random()
    if u < 0.25:
        recipe.append(("speed", {"factor": round(float(rng.uniform(0.9, 1.1)), 3)}))
    elif u < 0.4:
        recipe.append(("tempo", {"factor": round(float(rng.uniform(0.85, 1.15)), 3)}))
    if rng.random() < 0.35:
        recipe.append(("pitch_formant", {
            "semitones": round(float(rng.uniform(-4.0, 4.0)), 2),
            "formant_ratio": round(float(rng.uniform(0.9, 1.12)), 3),
            "range_factor": round(float(rng.uniform(0.8, 1.25)), 3)}))
    if rng.random() < 0.3:
        recipe.append(("reverb", {"rt60": round(float(rng.uniform(0.15, 0.9)), 3),
                                  "seed": int(rng.integers(2**31))}))
    if rng.random() < 0.4:
        recipe.append(("noise", {"snr_db": round(float(rng.uniform(5.0, 35.0)), 1),
                                 "seed": int(rng.integers(2**31)),
                                 "colour": str(rng.choice(["white", "pink", "brown"]))}))
    v = rng.random()
    if v < 0.15:
        recipe.append(("band_limit", {"rate": 8000}))
        if rng.random() < 0.5:
            recipe.append(("mu_law", {"bits": 8}))
    elif v < 0.3:
        recipe.append(("codec", {"cutoff_hz": round(float(rng.uniform(4500, 7500))),
                                 "floor_db": round(float(rng.uniform(25, 45)), 1),
                                 "step_db": round(float(rng.uniform(1.5, 4.0)), 2)}))
    if rng.random() < 0.5:
        recipe.append(("gain", {"db": round(float(rng.uniform(-18.0, 6.0)), 1)}))
    return recipe
