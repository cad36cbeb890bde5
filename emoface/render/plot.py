"""A one-page plot of an animation's key curves, over the waveform and phone labels.

Rows: the waveform (when the audio is given) with the phones shaded and labelled; the
mouth (jawOpen, mouthClose, lip aperture as docs/design.md defines it); expression (smile,
browInnerUp, browDown); blinks; and head rotation in degrees when the animation has it.
Phones come from ``anim.meta["phones"]`` (``[[start, end, label], ...]``, as the rules
engine writes them) or from a file given with ``--phones``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..arkit import INDEX, LIPS_MEET, lip_aperture
from ..audio.io import load_audio
from ..errors import UserError
from ..files import atomic_path, check_writable

Phones = list[tuple[float, float, str]]


def read_phones(path: str | os.PathLike) -> Phones:
    """Phone timings from a JSON list ``[[start, end, label], ...]`` (or an object with a
    ``"phones"`` key, e.g. an animation's meta) or a text file of ``start end label``
    lines (seconds; tabs or spaces)."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no such phones file: {str(path)!r}")
    text = p.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("phones", data.get("meta", {}).get("phones"))
        return _as_phones(data, str(path))
    except json.JSONDecodeError:
        pass
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        try:
            rows.append((float(parts[0]), float(parts[1]), " ".join(parts[2:]) or "?"))
        except (ValueError, IndexError):
            raise UserError(f"{str(path)!r} line {n}: expected 'start end label'") from None
    return rows


def _as_phones(data, source: str) -> Phones:
    try:
        return [(float(s), float(e), str(label)) for s, e, label in data]
    except (TypeError, ValueError):
        raise UserError(f"{source}: phones must be [[start, end, label], ...]") from None


def plot_animation(anim: Animation, path: str | os.PathLike,
                   audio: str | os.PathLike | None = None,
                   phones: Phones | str | os.PathLike | None = None,
                   title: str | None = None) -> None:
    """Write the curves of ``anim`` as a PNG (or any format matplotlib knows by extension)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("plots need matplotlib: pip install 'emoface[render]'") from None
    check_writable(path)
    if phones is None and anim.meta.get("phones"):
        phones = _as_phones(anim.meta["phones"], "animation meta")
    elif phones is not None and not isinstance(phones, list):
        phones = read_phones(phones)
    wave = None
    if audio is not None:

        wave = load_audio(audio, 8000)

    t = anim.times
    w = anim.weights
    rows = ["wave"] if wave is not None else []
    rows += ["mouth", "expression", "eyes"] + (["head"] if anim.head is not None else [])
    fig, axes = plt.subplots(len(rows), 1, figsize=(12, 1.9 * len(rows) + 0.6), sharex=True,
                             squeeze=False)
    axes = axes[:, 0]
    end = max(anim.duration, len(wave) / 8000 if wave is not None else 0.0)

    def both(name):
        return 0.5 * (w[:, INDEX[name + "Left"]] + w[:, INDEX[name + "Right"]])

    for ax, row in zip(axes, rows):
        if row == "wave":
            ts = np.arange(len(wave)) / 8000
            ax.plot(ts, wave, color="0.35", lw=0.5)
            peak = max(float(np.abs(wave).max()), 1e-6)
            ax.set_ylim(-1.1 * peak, 1.35 * peak)
            ax.set_ylabel("audio")
            ax.set_yticks([])
            if phones:
                for k, (s, e, label) in enumerate(phones):
                    if label.upper() in ("SIL", "SP", "", "<P:>"):
                        continue
                    ax.axvspan(s, e, color=("C0" if k % 2 else "C1"), alpha=0.12, lw=0)
                    ax.text((s + e) / 2, 1.18 * peak, label, ha="center", va="center",
                            fontsize=7, clip_on=True)
        elif row == "mouth":
            ax.plot(t, w[:, INDEX["jawOpen"]], label="jawOpen")
            ax.plot(t, w[:, INDEX["mouthClose"]], label="mouthClose")
            ax.plot(t, lip_aperture(w), label="lip aperture", color="k", lw=1.2)
            ax.axhline(LIPS_MEET, color="k", lw=0.5, ls=":")
            ax.set_ylabel("mouth")
        elif row == "expression":
            ax.plot(t, both("mouthSmile"), label="mouthSmile")
            ax.plot(t, w[:, INDEX["browInnerUp"]], label="browInnerUp")
            ax.plot(t, both("browDown"), label="browDown")
            ax.plot(t, both("mouthFrown"), label="mouthFrown", alpha=0.7)
            ax.set_ylabel("expression")
        elif row == "eyes":
            ax.plot(t, w[:, INDEX["eyeBlinkLeft"]], label="eyeBlinkLeft")
            ax.plot(t, w[:, INDEX["eyeBlinkRight"]], label="eyeBlinkRight", ls="--")
            ax.plot(t, both("eyeSquint"), label="eyeSquint", alpha=0.7)
            ax.set_ylabel("eyes")
        elif row == "head":
            for k, name in enumerate(("yaw", "pitch", "roll")):
                ax.plot(t, np.degrees(anim.head[:, k]), label=name)
            ax.set_ylabel("head (deg)")
        if row != "wave" and row != "head":
            ax.set_ylim(-0.03, 1.03)
        if row != "wave":
            ax.legend(loc="upper right", fontsize=7, ncol=4, framealpha=0.8)
            if phones:
                for s, _end, _label in phones:
                    ax.axvline(s, color="0.85", lw=0.5, zorder=0)
        ax.grid(axis="y", color="0.92")
        ax.set_xlim(0, end)
    axes[-1].set_xlabel("seconds")
    engine = anim.meta.get("engine")
    fig.suptitle(title or f"{anim.num_frames} frames at {anim.fps:g} fps"
                 + (f", {engine}" if engine else ""), fontsize=10)
    fig.tight_layout()
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=fmt)
    except ValueError as exc:  # matplotlib: unknown format
        raise UserError(f"cannot write plot {str(path)!r}: {exc}") from None
    finally:
        plt.close(fig)
