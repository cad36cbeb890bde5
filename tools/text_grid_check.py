"""Check two text-aware rules against real motion: GRID talker s1's held-out clips
(../shared/data/video/grid-s1, CC BY 4.0, Cooke et al. 2006), captured with emoface's
FaceMesh capture, word times from GRID's alignments.

1. Brows and word onsets: the captured brow raise (mean of browInnerUp and browOuterUp
   L/R, minus the clip's median) after a word's onset (0.1..0.4 s) minus before it
   (-0.3..-0.1 s), for GRID's keywords (letter and digit, the words a listener must get)
   and for the other words, against the same measure at random times in the speech.
   The rules teacher, with and without the transcript, is measured the same way, and its
   brow curve is correlated with the captured one.
2. Blinks at the sentence end: the share of clips with a captured blink peak in the
   0.8 s after the last word (clips whose video lasts that long), against the share of
   0.8 s windows inside the speech.

    python tools/text_grid_check.py --cache /tmp/text-grid-cache [--clips 100]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.signal import find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.arkit import INDEX  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402
from emoface.capture import capture  # noqa: E402
from emoface.capture import video as capture_video  # noqa: E402
from emoface.emotion import EmotionTrack  # noqa: E402
from emoface.engines.rules.engine import animate  # noqa: E402
from emoface.eval.realmotion import grid_split, read_alignment, spoken  # noqa: E402

BROW = [INDEX["browInnerUp"], INDEX["browOuterUpLeft"], INDEX["browOuterUpRight"]]
BLINK = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]
AFTER, BEFORE = (0.1, 0.4), (-0.3, -0.1)
END_WINDOW = 0.8
KEYWORDS = (3, 4)   # GRID: command colour preposition LETTER DIGIT adverb


def brow_curve(weights: np.ndarray) -> np.ndarray:
    b = weights[:, BROW].mean(1).astype(np.float64)
    return b - np.median(b)


def onset_change(curve: np.ndarray, fps: float, onsets) -> list[float]:
    out = []
    t = np.arange(len(curve)) / fps
    for o in onsets:
        after = (t >= o + AFTER[0]) & (t <= o + AFTER[1])
        before = (t >= o + BEFORE[0]) & (t <= o + BEFORE[1])
        if after.any() and before.any():
            out.append(float(curve[after].mean() - curve[before].mean()))
    return out


def blink_peaks(weights: np.ndarray, fps: float) -> np.ndarray:
    b = weights[:, BLINK].mean(1)
    peaks, _ = find_peaks(b, height=0.3, prominence=0.15)
    return peaks / fps


def audio_of(video: Path, text: str | None) -> Speech:
    import tempfile

    info = capture_video.probe(video)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "sound.wav"
        capture_video.extract_audio(info, wav)
        return Speech.from_file(wav, text=text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default="/tmp/text-grid-cache")
    ap.add_argument("--clips", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = {k: {"key": [], "other": [], "random": []} for k in ("video", "with", "without")}
    corr = {"with": [], "without": []}
    end_clips, end_blinks, inside_windows, inside_blinks = 0, 0, 0, 0
    clips = grid_split()[1][:args.clips]
    for i, video in enumerate(clips):
        words = spoken(read_alignment(video.parent / "align" / f"{video.stem}.align"))
        take = capture(video, cache_dir=args.cache, progress=False)
        fps = take.fps
        text = " ".join(w.word for w in words) + "."
        with_text = animate(audio_of(video, text), EmotionTrack.constant("neutral"), fps=fps)
        without = animate(audio_of(video, None), EmotionTrack.constant("neutral"), fps=fps)
        onsets = np.array([w.start for w in words])
        key = onsets[list(KEYWORDS)] if len(words) == 6 else onsets[:0]
        other = np.delete(onsets, list(KEYWORDS)) if len(words) == 6 else onsets
        rand = rng.uniform(words[0].start, words[-1].end, size=len(onsets))
        for name, anim in (("video", take), ("with", with_text), ("without", without)):
            curve = brow_curve(anim.weights[:len(take.weights)])
            rows[name]["key"] += onset_change(curve, fps, key)
            rows[name]["other"] += onset_change(curve, fps, other)
            rows[name]["random"] += onset_change(curve, fps, rand)
        n = min(len(take.weights), len(with_text.weights))
        speech = slice(int(words[0].start * fps), int(words[-1].end * fps))
        video_brow = brow_curve(take.weights[:n])[speech]
        for name, anim in (("with", with_text), ("without", without)):
            corr[name].append(float(np.corrcoef(video_brow, brow_curve(anim.weights[:n])[speech])[0, 1]))
        peaks = blink_peaks(take.weights, fps)
        last = words[-1].end
        if last + END_WINDOW <= len(take.weights) / fps:   # the whole window is on video
            end_clips += 1
            end_blinks += bool(((peaks >= last) & (peaks < last + END_WINDOW)).any())
        for s in np.arange(words[0].start, last - END_WINDOW, END_WINDOW):
            inside_windows += 1
            inside_blinks += bool(((peaks >= s) & (peaks < s + END_WINDOW)).any())
        print(f"\r{i + 1}/{len(clips)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"GRID s1 held-out clips: {len(clips)}")
    print("brow change after word onsets (mean over words, weight units; 95% CI half-width)")
    for name, label in (("video", "captured video"), ("with", "rules, transcript given"),
                        ("without", "rules, audio only")):
        cells = []
        for kind in ("key", "other", "random"):
            x = np.asarray(rows[name][kind])
            cells.append(f"{kind} {x.mean():+.4f} +-{1.96 * x.std() / np.sqrt(len(x)):.4f}")
        print(f"  {label:26s} " + "  ".join(cells))
    for name in ("with", "without"):
        c = np.asarray(corr[name])
        print(f"brow r (captured vs rules {name} transcript) over speech: "
              f"median {np.nanmedian(c):+.3f}, mean {np.nanmean(c):+.3f}")
    print(f"clips with a captured blink in the {END_WINDOW} s after the last word: "
          f"{end_blinks}/{end_clips} = {end_blinks / max(1, end_clips):.2f} (clips whose video "
          f"lasts that long); "
          f"{END_WINDOW} s windows inside speech with a blink: {inside_blinks}/{inside_windows}"
          f" = {inside_blinks / max(1, inside_windows):.2f}")


if __name__ == "__main__":
    main()
