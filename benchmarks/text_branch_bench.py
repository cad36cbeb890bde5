"""The neural engine's text branch against the text-aware teacher, on sentences it never
trained on: an ablation (audio only, audio + the true words, audio + Whisper's words, and
the teacher itself) and what the words cost.

    .venv/bin/python benchmarks/text_branch_bench.py [--clips 60] [--json OUT.json]

Held out: the sentences whose stable hash puts them in the test split of
tools/train_text_branch.py (never built there), spoken by espeak-ng's test voice variants;
Cathy's test-split recordings (real voice, CC0); the LibriVox clips (never in any training).

Per clip and emotion (neutral, angry 0.7; seed 0), on the ICT FaceKit rig with the drawn
channels (blinks, gaze) left out of both sides:
- EVE vs teacher: upper-face vertex error (mm) against the rules engine with the words;
- EVE of the words' part: the engine's change from its own audio-only take, against the
  teacher's change from its audio-only take (what the words add, compared directly);
- head: RMS (degrees) of the same difference for yaw, pitch and roll;
- lips: mouth-opening r (best lag within 0.1 s) between the take with words and without.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from emoface.arkit import ARKIT_NAMES  # noqa: E402
from emoface.audio.io import load_audio  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402
from emoface.data.sentences import load_sentences  # noqa: E402
from emoface.data.sources import tts  # noqa: E402
from emoface.engines import load_engine  # noqa: E402
from emoface.eval.lipsync import mouth_opening_correlation  # noqa: E402
from emoface.eval.vertex import vertex_metrics  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402

EMOTIONS = ("neutral", "angry:0.7")
DRAWN = np.array([n.startswith(("eyeBlink", "eyeLook")) for n in ARKIT_NAMES])


def espeak_clips(count: int, seed: int) -> list[tuple[str, Speech, str]]:
    from train_text_branch import mark_emphasis, split_of_text

    rng = np.random.default_rng(seed)
    sentences = [s for s in load_sentences() if split_of_text(s) == "test"]
    # the cues' subjects in proportion: questions, negations and the rest
    questions = [s for s in sentences if s.endswith("?")]
    negations = [s for s in sentences if any(w in s.lower().split() for w in ("not", "no", "never"))
                 or "n't" in s]
    pools = [questions, negations, sentences]
    voices = [v + (f"+{var}" if var else "") for _, v, var in tts.speakers()
              if tts.split_of(var) == "test"]
    out = []
    for i in range(count):
        pool = pools[i % 3]
        text = pool[int(rng.integers(len(pool)))]
        written = mark_emphasis(text, rng) if rng.random() < 0.25 else text
        speech = Speech.synthesize(text, voice=voices[int(rng.integers(len(voices)))],
                                   rate=int(rng.integers(130, 230)), pitch=int(rng.integers(25, 75)))
        out.append(("espeak-ng", Speech(speech.samples, 16000, text=written,
                                        source=speech.source, phones=speech.phones(),
                                        phone_source="espeak"), text))
    return out


def cathy_clips() -> list[tuple[str, Speech, str]]:
    from train_text_branch import split_of_text

    folder = shared_data_dir() / "speech" / "cathy"
    out = []
    for line in (folder / "transcripts.txt").read_text(encoding="utf-8").splitlines():
        name, _, text = line.partition(":")
        if text and split_of_text(text) == "test":
            out.append(("Cathy", Speech(load_audio(folder / name.strip()), 16000,
                                        text=text.strip(), source=name.strip()), text.strip()))
    return out


def librivox_clips() -> list[tuple[str, Speech, str]]:
    from text_bench import librivox

    return [("LibriVox", s, s.text) for s in librivox()]


def upper(anim) -> np.ndarray:
    w = anim.weights.copy()
    w[:, DRAWN] = 0.0
    return w


def animate(engine, speech: Speech, emotion: str, words: bool):
    engine.use_words = words
    return engine.animate(speech, emotion, fps=30.0, seed=0)


def scores(with_words, without, teacher_with, teacher_without) -> dict:
    reference = upper(without) + upper(teacher_with) - upper(teacher_without)
    n = min(len(with_words.weights), len(teacher_with.weights))
    head = np.degrees((with_words.head[:n] - without.head[:n])
                      - (teacher_with.head[:n] - teacher_without.head[:n]))
    r = mouth_opening_correlation(with_words.weights, without.weights, 30.0).r
    return {"eve_teacher": vertex_metrics(upper(with_words), upper(teacher_with)).eve,
            "eve_words": vertex_metrics(upper(with_words), reference).eve,
            "head_deg": float(np.sqrt((head ** 2).mean())),
            "mouth_r": float(r) if np.isfinite(r) else 1.0}


def heard_speech(model, speech: Speech) -> Speech:
    from emoface.speech.transcripts import transcribed

    return transcribed(Speech(speech.samples, 16000, source=speech.source), model)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=60, help="espeak-ng clips (default 60)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cost-only", action="store_true", help="only what the words cost")
    args = ap.parse_args()
    from emoface.speech import load_speech_model

    neural, rules = load_engine("neural"), load_engine("rules")
    if args.cost_only:
        print(cost(neural))
        return
    whisper = load_speech_model("tiny.en")
    sets = espeak_clips(args.clips, args.seed) + cathy_clips() + librivox_clips()
    rows: dict[str, dict[str, list]] = {}
    for k, (corpus, speech, _) in enumerate(sets):
        heard = heard_speech(whisper, speech)
        for emotion in EMOTIONS:
            t_with = animate(rules, speech, emotion, True)
            t_without = animate(rules, speech, emotion, False)
            n_without = animate(neural, speech, emotion, False)
            takes = {"audio only": n_without,
                     "audio + text (given)": animate(neural, speech, emotion, True),
                     "audio + text (transcribed)": animate(neural, heard, emotion, True),
                     "text-aware teacher": t_with}
            for name, take in takes.items():
                base = t_without if name == "text-aware teacher" else n_without
                s = scores(take, base, t_with, t_without)
                for key in ((corpus, name), ("all", name)):
                    rows.setdefault(" | ".join(key), {}).setdefault("x", []).append(s)
        print(f"{k + 1}/{len(sets)} {corpus} {speech.source}", file=sys.stderr)
    table = {key: {m: float(np.mean([s[m] for s in v["x"]])) for m in v["x"][0]}
             | {"min_mouth_r": float(min(s["mouth_r"] for s in v["x"])), "n": len(v["x"])}
             for key, v in rows.items()}
    print("| set | system | EVE vs teacher, mm | EVE of the words' part, mm | head, deg RMS "
          "| mouth r with/without words (min) | takes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for key, m in table.items():
        corpus, system = key.split(" | ")
        print(f"| {corpus} | {system} | {m['eve_teacher']:.3f} | {m['eve_words']:.3f} | "
              f"{m['head_deg']:.2f} | {m['mouth_r']:.4f} ({m['min_mouth_r']:.4f}) | {m['n']} |")
    print(cost(neural))
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))


def cost(neural) -> str:
    """Seconds of each part on the LibriVox clips joined (about a minute of speech)."""
    from emoface.engines.neural import text_branch
    from emoface.engines.neural.engine import spoken_words
    from emoface.engines.neural.word_inputs import audio_features, text_features
    from emoface.text.embeddings import load_minilm

    clips = librivox_clips() * 2   # twice over: about 50 s
    samples = np.concatenate([s.samples for _, s, _ in clips])
    text = " ".join(t for _, _, t in clips)
    load_minilm()
    branch = text_branch.bundled_branch()
    times = {}
    speech = Speech(samples, 16000, text=text)
    speech.prosody()   # the engine computes it for the audio anyway
    neural.use_words = False
    neural.animate(Speech(samples, 16000), "neutral", fps=30.0, seed=0)   # warm
    t0 = time.perf_counter()
    neural.animate(Speech(samples, 16000), "neutral", fps=30.0, seed=0)
    times["engine, audio only"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    words = spoken_words(speech)
    times["forced alignment"] = time.perf_counter() - t0
    n = int(len(samples) / 16000 * 30)
    amounts = np.zeros((n, 8), np.float32)
    amounts[:, 0] = 1
    t0 = time.perf_counter()
    feats = text_features(words, text, n, 30.0)
    times["MiniLM word features"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    branch(feats, audio_features(speech.prosody(), amounts, 30.0))
    times["text branch"] = time.perf_counter() - t0
    neural.use_words = True
    t0 = time.perf_counter()
    neural.animate(Speech(samples, 16000, text=text), "neutral", fps=30.0, seed=0)
    times["engine with the words, end to end"] = time.perf_counter() - t0
    seconds = len(samples) / 16000
    lines = [f"\nCost on {seconds:.1f} s of LibriVox ({len(words)} words), warm, one process, "
             f"load average {open('/proc/loadavg').read().split()[0]}:"]
    lines += [f"- {k}: {v:.3f} s ({v / times['engine, audio only'] * 100:.1f} % of the engine)"
              for k, v in times.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
