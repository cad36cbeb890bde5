"""Fit the voice emotion's calibration (``emoface/assets/voice_calibration.json``) and
print its figures.

Which speakers: the bundled emotion branch trained on EmoDB speakers 03, 08, 09, 10, 11 and
12 (all of EmoDB's here but the held-out 13 and 14) and on espeak-ng TTS clips of every
variant but the corpus's validation and test ones (``emoface.data.sources.tts``). There are
no leave-one-speaker-out fold weights in this checkout (no ``runs/folds``). So the bundled
calibration is fitted on the one set of speakers the branch never heard that is not the
test set: clips of the TTS plan (seed 1, the corpus's) spoken by the *validation* variants
(``VAL_VARIANTS``: f2, m4, Annie, klatt3, edward2, grandpa, over all English accents),
synthesised here with espeak-ng. EmoDB 13 and 14 are only measured, never fitted on.

With ``--folds runs/folds`` (``emoface dev emotion-folds`` trains them), it fits instead on
each training speaker's EmoDB clips as heard by the fold that left that speaker out
(speakers 13 and 14 skipped): real speech by speakers those weights never heard, the better
source; not run for the bundled asset (no folds here).

    python tools/calibrate_voice_emotion.py            # fit, write the asset, report
    python tools/calibrate_voice_emotion.py --report   # report with the asset as it is
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from emoface.audio.nonspeech import non_speech_signals
from emoface.audio.speech import Speech
from emoface.data.sources import tts
from emoface.data.sources.common import SkipClip
from emoface.data.sources.emodb import default_root as emodb_root
from emoface.emotion import EMOTIONS
from emoface.engines.neural.calibration import (
    CALIBRATION_ASSET,
    FORMAT,
    Calibration,
    expected_calibration_error,
    fit_temperature,
)
from emoface.engines.neural.voice_emotion import VoiceEmotion
from emoface.eval.emotion import EMODB_EMOTIONS, uar

EMODB = emodb_root() / "wav"
TEST_SPEAKERS = ("13", "14")


def tts_validation(n: int) -> list[tuple[Speech, int]]:
    """The first ``n`` clips of the TTS plan spoken by a validation variant."""
    items = tts.plan(None, SimpleNamespace(tts_hours=12.0, tts_clips_per_sentence=2,
                                           tts_seed=tts.SEED))
    out = []
    for item in items:
        if item.params["variant"] not in tts.VAL_VARIANTS:
            continue
        try:
            clip = tts.load(item)
        except SkipClip:
            continue
        out.append((Speech(clip.samples, clip.sample_rate, source=item.id),
                    EMOTIONS.index(item.params["emotion"])))
        if len(out) >= n:
            break
    return out


def emodb(speakers) -> list[tuple[Speech, int, str]]:
    out = []
    for f in sorted(EMODB.glob("*.wav")):
        if f.name[:2] in speakers and f.name[5] in EMODB_EMOTIONS:
            out.append((Speech.from_file(f), EMOTIONS.index(EMODB_EMOTIONS[f.name[5]]),
                        f.name[:2]))
    return out


def raw_outputs(voice: VoiceEmotion, speeches) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The branch's own probabilities (n, 8), intensity head (n,), voiced share (n,)."""
    probs, heads, voiced = [], [], []
    for s in speeches:
        p, h = voice.raw(s)
        probs.append(p)
        heads.append(h)
        voiced.append(float(np.mean(s.prosody().voiced)))
    return np.array(probs), np.array(heads), np.array(voiced)


def fold_outputs(folds: Path):
    """Each EmoDB training speaker's clips through the fold that left the speaker out."""
    probs, heads, voiced, labels, used = [], [], [], [], []
    for weights in sorted(folds.glob("*/last.safetensors")):
        speaker = weights.parent.name[-2:]
        if speaker in TEST_SPEAKERS or not speaker.isdigit():
            continue
        clips = emodb((speaker,))
        p, h, v = raw_outputs(VoiceEmotion(weights, calibration=Calibration()),
                              [s for s, _, _ in clips])
        probs.append(p), heads.append(h), voiced.append(v)
        labels.append(np.array([y for _, y, _ in clips]))
        used.append(speaker)
    if not used:
        raise SystemExit(f"no fold weights under {folds}")
    what = (f"EmoDB speakers {', '.join(used)}, each heard by the leave-one-speaker-out fold "
            f"that never trained on it ({folds}); 13 and 14 not used")
    return (np.concatenate(probs), np.concatenate(heads), np.concatenate(voiced),
            np.concatenate(labels), what)


def fit_p_min(calibrated: np.ndarray, labels: np.ndarray) -> float:
    """The calibrated top probability at which the top emotion is right half the time: a
    logistic fit of right/wrong on the top probability, solved for 0.5."""
    conf = calibrated.max(1)
    ok = (calibrated.argmax(1) == labels).astype(float)
    a, b = 0.0, 1.0
    for _ in range(200):  # Newton's method on the log-likelihood
        z = a + b * conf
        p = 1 / (1 + np.exp(-z))
        g = np.array([np.sum(ok - p), np.sum((ok - p) * conf)])
        w = p * (1 - p)
        H = -np.array([[w.sum(), (w * conf).sum()], [(w * conf).sum(), (w * conf ** 2).sum()]])
        step = np.linalg.solve(H - 1e-9 * np.eye(2), g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(np.clip(-a / b, 1.0 / len(EMOTIONS), 0.9))


def figures(cal: Calibration | None, probs, heads, labels) -> dict:
    """ECE, accuracy, UAR, ...; ``cal`` None: the branch as it was (its own softmax,
    intensity = its head, never neutral for want of certainty)."""
    raw = cal is None
    cal = cal or Calibration(p_min=0.0, min_intensity=0.0, min_voiced=0.0)
    cp = cal.probs(probs)
    six = [EMOTIONS.index(e) for e in EMODB_EMOTIONS.values()]
    names = [EMOTIONS[i] for i in labels]
    strength = np.asarray(heads, np.float64) if raw else cal.intensity(cp, heads)
    verdict = np.where(strength >= cal.min_intensity, cp.argmax(1), EMOTIONS.index("neutral"))
    return {
        "ece": expected_calibration_error(cp.max(1), cp.argmax(1) == labels),
        "uar_verdict": uar(names, [EMOTIONS[i] for i in verdict], [EMOTIONS[i] for i in six]),
        "unsure": float(np.mean(strength < cal.min_intensity)),
        "accuracy": float(np.mean(cp.argmax(1) == labels)),
        "uar": uar(names, [EMOTIONS[i] for i in cp.argmax(1)], [EMOTIONS[i] for i in six]),
        "mean_top_p": float(cp.max(1).mean()),
        "mean_intensity": float(strength.mean()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--report", action="store_true", help="only report, with the asset as is")
    ap.add_argument("--folds", default=None,
                    help="fit on leave-one-speaker-out folds (FOLDS/<speaker>/last.safetensors)")
    ap.add_argument("--n", type=int, default=400, help="TTS validation clips (default 400)")
    args = ap.parse_args(argv)
    voice = VoiceEmotion(calibration=Calibration(), branch="network")   # the branch as it is

    if not args.report:
        if args.folds:
            probs, heads, voiced, labels, what = fold_outputs(Path(args.folds))
        else:
            val = tts_validation(args.n)
            labels = np.array([y for _, y in val])
            probs, heads, voiced = raw_outputs(voice, [s for s, _ in val])
            what = (f"{len(val)} espeak-ng TTS clips by the corpus's validation variants "
                    f"({', '.join(tts.VAL_VARIANTS)}; plan seed {tts.SEED}), which the "
                    "bundled emotion branch never trained on; EmoDB 13 and 14 not used")
        t = fit_temperature(probs, labels)
        p_min = fit_p_min(Calibration(temperature=t).probs(probs), labels)
        asset = {
            "format": FORMAT,
            "temperature": round(t, 4), "p_min": round(p_min, 4),
            "min_intensity": 0.15, "min_voiced": 0.05,
            "fitted_on": what,
            "how": "tools/calibrate_voice_emotion.py: temperature by NLL; p_min where a "
                   "logistic fit of right/wrong on the calibrated top probability crosses "
                   "0.5; min_intensity and min_voiced set by hand (documented in "
                   "emoface/engines/neural/calibration.py)",
            "validation": {"clips": len(labels), "accuracy_raw": round(float(np.mean(
                probs.argmax(1) == labels)), 4),
                "ece_raw": round(expected_calibration_error(probs.max(1), probs.argmax(1) == labels), 4),
                "voiced_share_min": round(float(voiced.min()), 3)},
        }
        CALIBRATION_ASSET.write_text(json.dumps(asset, indent=1) + "\n")
        print(f"wrote {CALIBRATION_ASSET}: T {t:.3f}, p_min {p_min:.3f} "
              f"({len(labels)} clips, raw accuracy {asset['validation']['accuracy_raw']})")

    cal = Calibration.load()
    test = emodb(TEST_SPEAKERS)
    labels = np.array([y for _, y, _ in test])
    probs, heads, _ = raw_outputs(voice, [s for s, _, _ in test])
    print(f"EmoDB speakers 13+14, {len(test)} clips of the 6 shared emotions:")
    for name, c in (("before (raw)", None), ("after", cal)):
        f = figures(c, probs, heads, labels)
        print(f"  {name:13s} ECE {f['ece']:.3f}  accuracy {f['accuracy']:.3f}  "
              f"UAR {f['uar']:.3f}  mean top p {f['mean_top_p']:.3f}  "
              f"mean intensity {f['mean_intensity']:.3f}  neutral verdicts from "
              f"unsure {f['unsure']:.3f}  UAR of the verdict {f['uar_verdict']:.3f}")
    calibrated = VoiceEmotion(calibration=cal, branch="network")
    print("non-speech (4 s each):")
    for name, x in non_speech_signals().items():
        h = calibrated.hear(Speech(x, source=name))
        print(f"  {name:12s} {h.emotion:9s} top {h.top} p {h.probability:.3f}  "
              f"intensity {h.intensity:.3f}  (raw: {max(h.raw_probs, key=h.raw_probs.get)} "
              f"{max(h.raw_probs.values()):.3f}, head {h.raw_intensity:.3f}; voiced "
              f"{h.voiced:.2f}, {h.reason or 'sure'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
