"""Text to speech with exact phone timings through the ``flite`` command (CMU Flite).

Why a second synthesizer: espeak-ng is a formant synthesizer, its spectra are rules, not
a vocal tract. Flite's English voices are built from recordings of real speakers (``slt``,
``rms``, ``awb``: statistical parametric voices trained on the CMU ARCTIC recordings;
``kal16``: diphones cut from a real speaker), so their bursts, nasal murmurs and
coarticulation carry what natural speech does. ``flite -psdur`` prints every segment
with its end time, so phone timings are exact, as with espeak.

Flite is a Debian package (``apt install flite``); the corpus build needs it, the
animation pipeline does not.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import UserError
from .phones import PHONE_SET, SILENCE, Phone

INSTALL_HINT = "flite is not installed; install it, e.g. 'apt install flite' (Debian/Ubuntu)"
# Flite's US English phone set is CMU ARPABET in lower case plus a few of its own.
_FLITE_TO_ARPABET = {"ax": "AH", "axr": "ER", "el": "L", "em": "M", "en": "N", "pau": SILENCE,
                     "h#": SILENCE, "brth": SILENCE, "brh": SILENCE}
_TIMEOUT_S = 60


def available() -> bool:
    return shutil.which("flite") is not None


def parse_segments(text: str) -> list[Phone]:
    """Phones from ``flite -psdur`` output: ``name:end_seconds`` tokens in order."""
    phones: list[Phone] = []
    start = 0.0
    for token in text.split():
        name, sep, end_text = token.rpartition(":")
        if not sep:
            continue
        try:
            end = float(end_text)
        except ValueError:
            continue
        label = name.lower()
        phone = _FLITE_TO_ARPABET.get(label, label.upper())
        if phone not in PHONE_SET:
            raise UserError(f"flite printed an unknown phone {label!r}")
        if end > start:
            phones.append(Phone(start, end, phone, label=label))
            start = end
    return phones


def synthesize(text: str, voice: str = "slt", stretch: float = 1.0,
               f0_mean: float | None = None, f0_std: float | None = None,
               ) -> tuple[np.ndarray, int, list[Phone]]:
    """Speak ``text``: ``(samples float32, sample_rate, phones)``. ``stretch`` scales
    durations (>1 slower); ``f0_mean``/``f0_std`` (Hz) set the intonation targets of the
    voices that honour them (``rms`` keeps its own). The phones cover the whole audio."""
    import soundfile as sf

    if not available():
        raise UserError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="emoface-flite-") as tmp:
        wav = Path(tmp) / "out.wav"
        cmd = ["flite", "-voice", voice, "-psdur", "--setf", f"duration_stretch={stretch:.4f}"]
        if f0_mean is not None:
            cmd += ["--setf", f"int_f0_target_mean={f0_mean:.2f}"]
        if f0_std is not None:
            cmd += ["--setf", f"int_f0_target_stddev={f0_std:.2f}"]
        cmd += ["-t", text, "-o", str(wav)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT_S)
        if done.returncode != 0 or not wav.is_file():
            raise UserError(f"flite failed for voice {voice!r}: "
                            f"{(done.stderr or done.stdout).strip()[:200]}")
        samples, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    phones = parse_segments(done.stdout)
    duration = len(samples) / rate
    if phones and phones[-1].end < duration:
        phones.append(Phone(phones[-1].end, duration, SILENCE, label="pau"))
    elif phones and phones[-1].end > duration:
        last = phones[-1]
        phones[-1] = Phone(last.start, max(last.start, duration), last.phone, last.label)
    return samples, int(rate), phones
