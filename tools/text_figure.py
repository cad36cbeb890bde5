"""docs/text_cues.png: the rules engine's brows, blinks and head over a yes/no question and
a negated sentence (espeak-ng), with the transcript's words and without them (same audio,
same phone timings, same seed).

    python tools/text_figure.py [-o docs/text_cues.png]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.arkit import INDEX  # noqa: E402
from emoface.audio.phones import SILENCE, Phone  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402
from emoface.emotion import EmotionTrack  # noqa: E402
from emoface.engines.rules.engine import animate  # noqa: E402
from emoface.text import timed_words  # noqa: E402

SENTENCES = ("Are you coming to the party tonight?", "No, I will never go there. It is so far.")
PAD_SECONDS = 0.8   # silence after the sentence, where its last cues play out


def _padded(speech: Speech, seconds: float) -> Speech:
    """``speech`` followed by ``seconds`` of silence (espeak-ng stops at the last phone)."""
    phones = list(speech.phones())
    end = phones[-1].end
    phones.append(Phone(end, end + seconds, SILENCE))
    samples = np.concatenate([speech.samples, np.zeros(round(seconds * speech.sample_rate),
                                                        np.float32)])
    return Speech(samples, text=speech.text, phones=phones, phone_source="espeak")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", default="docs/text_cues.png")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (("browInnerUp", lambda a: a.weights[:, INDEX["browInnerUp"]], "weight"),
            ("eyeBlinkLeft", lambda a: a.weights[:, INDEX["eyeBlinkLeft"]], "weight"),
            ("head yaw", lambda a: np.degrees(a.head[:, 0]), "degrees"),
            ("head pitch (+ nose down)", lambda a: np.degrees(a.head[:, 1]), "degrees"))
    fig, axes = plt.subplots(len(rows), len(SENTENCES), figsize=(12, 8.5), sharex="col")
    for col, sentence in enumerate(SENTENCES):
        speech = _padded(Speech.synthesize(sentence), PAD_SECONDS)
        bare = Speech(speech.samples, phones=[replace(p, word="") for p in speech.phones()],
                      phone_source="espeak")
        track = EmotionTrack.constant("neutral")
        with_words, without = animate(speech, track), animate(bare, track)
        t = np.arange(len(with_words.weights)) / with_words.fps
        words = timed_words(speech.phones(), speech.text)
        for row, (label, get, unit) in enumerate(rows):
            ax = axes[row, col]
            ax.plot(t, get(without), color="0.6", lw=1.5, label="audio only")
            ax.plot(t, get(with_words), color="C0", lw=1.5, label="with the words")
            for w in words:
                ax.axvspan(w.start, w.end, color="C1" if w.negation or w.question else "0.9",
                           alpha=0.15 if (w.negation or w.question) else 0.35, lw=0)
            ax.set_ylabel(f"{label}\n({unit})", fontsize=8)
            if row == 0:
                ax.set_title(f'"{sentence}"', fontsize=10, pad=30)
                for w in words:
                    ax.text(0.5 * (w.start + w.end), 1.02, w.word, transform=ax.get_xaxis_transform(),
                            ha="center", va="bottom", fontsize=7, rotation=45)
        axes[-1, col].set_xlabel("seconds")
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Rules engine, neutral: text-aware cues (orange spans: question / negation words)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(args.out)


if __name__ == "__main__":
    main()
