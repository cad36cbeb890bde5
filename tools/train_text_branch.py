"""Train the neural engine's text branch (emoface/engines/neural/text_branch.py) on the
text-aware teacher's word cues, and write ``emoface/assets/text_branch.safetensors``.

    .venv/bin/python tools/train_text_branch.py [--clips 5000] [--steps 4000]

1. Clips (cached one file each under ``--cache``; a stopped build goes on where it was):
   espeak-ng speaking one or two sentences of the corpus list (a third drawn from those
   with a question, a negation or a valenced word; a fifth led by an interjection such as
   "No," or "Well,"; a quarter with one content word marked ``*emphasised*``; the voice and
   variant from the corpus's speaker split, rate and pitch drawn), its statements framed as
   yes/no or wh questions ("Is it true that ...?") or beside a short question, others with
   the transcript in lower case without punctuation (as speech recognisers and LibriSpeech
   write it), plus Cathy's recordings
   (CC0, real voice) with their transcripts, force-aligned. Each clip gets two emotion draws (neutral half the time, else one of the
   seven at intensity 0.3-1); the target is what the words add to the rules engine's face
   under that emotion (:func:`emoface.engines.rules.text_cues.delta`).
2. Split by sentence (a stable hash of the text: 1 in 10 validation, 1 in 10 test, the
   test clips are never read here) and, for espeak-ng, also by voice variant (the corpus's
   own val/test variants). Training keeps the step with the lowest validation loss.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emoface.animation import frame_count  # noqa: E402
from emoface.arkit import INDEX  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402
from emoface.data.sentences import load_sentences  # noqa: E402
from emoface.data.sources import tts  # noqa: E402
from emoface.emotion import NUM_EMOTIONS  # noqa: E402
from emoface.engines import nonverbal  # noqa: E402
from emoface.engines.neural.word_inputs import (  # noqa: E402
    HEAD_SCALE,
    audio_features,
    text_features,
)
from emoface.engines.rules import text_cues as cues_mod  # noqa: E402
from emoface.paths import shared_data_dir  # noqa: E402
from emoface.text.lexicon import FUNCTION_WORDS, NEGATIONS, VALENCE  # noqa: E402
from emoface.text.words import timed_words  # noqa: E402

FPS = 30.0
_TEXT_IDX = [INDEX[n] for n in cues_mod.TEXT_CHANNELS]


def split_of_text(text: str) -> str:
    """"val", "test" or "train" from a stable hash of the sentence (not of the voice)."""
    bucket = int(hashlib.sha1(text.strip().lower().encode()).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def draw_amounts(rng: np.random.Generator) -> np.ndarray:
    amounts = np.zeros(NUM_EMOTIONS, np.float32)
    if rng.random() < 0.5:
        amounts[0] = 1.0
    else:
        e = int(rng.integers(1, NUM_EMOTIONS))
        amounts[e] = rng.uniform(0.3, 1.0)
        amounts[0] = 1.0 - amounts[e]
    return amounts


def mark_emphasis(text: str, rng: np.random.Generator) -> str:
    """``text`` with one content word written ``*like this*`` (or unchanged)."""
    tokens = text.split()
    candidates = [i for i, t in enumerate(tokens)
                  if t.strip(".,;:!?\"'").isalpha() and len(t.strip(".,;:!?\"'")) > 3
                  and t.strip(".,;:!?\"'").lower() not in FUNCTION_WORDS]
    if not candidates:
        return text
    i = int(rng.choice(candidates))
    bare = tokens[i].rstrip(".,;:!?\"'")
    tokens[i] = f"*{bare}*" + tokens[i][len(bare):]
    return " ".join(tokens)


INTERJECTIONS = ("No,", "No.", "Oh no,", "No, no.", "Never!", "Not at all.", "Yes,", "Well,",
                 "Oh,", "So,", "Really?", "Right.")


def clip_arrays(speech: Speech, written: str, rng: np.random.Generator, draws: int = 2) -> dict | None:
    """Inputs and targets of one clip, or None when its words could not be placed."""
    phones = speech.phones()
    words = timed_words(phones, written)
    if not words:
        return None
    prosody = speech.prosody()
    n = frame_count(speech.duration, FPS)
    t = np.arange(n) / FPS
    accent_t, prominence = nonverbal.pitch_accents(np.asarray(prosody.times),
                                                   np.asarray(prosody.f0),
                                                   np.asarray(prosody.loudness))
    audios, targets = [], []
    for _ in range(draws):
        amounts = np.repeat(draw_amounts(rng)[None], n, 0)
        cues = cues_mod.text_cues(words, t, FPS, amounts, accent_t, prominence)
        weights, head = cues_mod.delta(cues, amounts)
        audios.append(audio_features(prosody, amounts, FPS))
        targets.append(np.concatenate([weights[:, _TEXT_IDX], head / HEAD_SCALE], 1))
    return {"text": text_features(words, written, n, FPS).astype(np.float16),
            "audio": np.stack(audios), "target": np.stack(targets).astype(np.float32)}


# Questions built around the list's statements, so that yes/no and wh questions of every
# length and shape occur (the list's own short questions are nearly all wh questions).
YES_NO_FRAMES = ("Did you know that {}?", "Is it true that {}?", "Do you think that {}?",
                 "Can you believe that {}?", "Are you sure that {}?", "Have you heard that {}?",
                 "Would you say that {}?", "Was it obvious that {}?")
WH_FRAMES = ("Why do you think that {}?", "Who told you that {}?", "How do you know that {}?",
             "When did you hear that {}?", "What if {}?")
SHORT_QUESTIONS = ("Did you know?", "Is that right?", "Are you sure?", "Can I help?",
                   "Was it good?", "Are they here?", "Did she leave?", "Is he ready?",
                   "Do you mind?", "Could you stay?", "Will it work?", "Has it started?",
                   "Should we go?", "Are we late?", "Does it hurt?", "Is this yours?",
                   "Why not?", "Where is it?", "Who was there?", "What happened?",
                   "How was it?", "When did they arrive?", "Which one is it?")


def _negated(sentence: str) -> bool:
    words = sentence.lower().replace(",", " ").replace(".", " ").split()
    return any(w in NEGATIONS or w.endswith("n't") for w in words)


def _valenced(sentence: str) -> bool:
    words = sentence.lower().replace(",", " ").replace(".", " ").split()
    return any(abs(VALENCE.get(w, 0.0)) >= 0.5 for w in words)


def _voices_by_split() -> dict[str, list[str]]:
    """espeak-ng voices by the corpus's split of their variant."""
    voices: dict[str, list] = {"train": [], "val": [], "test": []}
    for _name, voice, variant in tts.speakers():
        voices[tts.split_of(variant)].append(voice + (f"+{variant}" if variant else ""))
    return voices


def _espeak_job(split: str, spoken: str, written: str, voices, rng) -> dict:
    """One espeak-ng clip's recipe: a voice of ``split``, rate, pitch and a seed drawn."""
    return {"kind": "espeak", "split": split, "spoken": spoken, "written": written,
            "voice": voices[split][int(rng.integers(len(voices[split])))],
            "rate": int(rng.integers(130, 230)), "pitch": int(rng.integers(25, 75)),
            "seed": int(rng.integers(1 << 31))}


def espeak_jobs(count: int, seed: int) -> list[dict]:
    """``count`` clip recipes: sentences, emphasis, voice, rate and pitch, all drawn here."""
    rng = np.random.default_rng(seed)
    by_split: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for s in load_sentences():
        by_split[split_of_text(s)].append(s)
    voices = _voices_by_split()
    # a third of the sentences from those the cues are about: questions, negations, valence
    marked = {k: [s for s in v if s.endswith("?") or _negated(s) or _valenced(s)]
              for k, v in by_split.items()}
    jobs = []
    for i in range(count):
        split = "val" if i % 10 == 1 else "train"   # test clips: the benchmark's own
        pool = marked[split] if rng.random() < 0.33 else by_split[split]
        picks = [pool[int(rng.integers(len(pool)))] for _ in range(1 + int(rng.random() < 0.35))]
        if rng.random() < 0.2:   # an interjection first: "No," shakes, "Well," does not
            picks.insert(0, INTERJECTIONS[int(rng.integers(len(INTERJECTIONS)))])
        text = " ".join(picks)
        written = mark_emphasis(text, rng) if rng.random() < 0.25 else text
        jobs.append(_espeak_job(split, text, written, voices, rng))
    return jobs


def question_jobs(count: int, seed: int) -> list[dict]:
    """``count`` clips whose text holds a question: a statement of the list framed as a
    yes/no or wh question, or a short question beside a statement. Split by the hash of
    the text, as the list is (test texts are left out)."""
    rng = np.random.default_rng(seed + 2)
    statements = [s for s in load_sentences() if s.endswith(".") and split_of_text(s) != "test"
                  and not any(c in s[:-1] for c in ".!?")]
    voices = _voices_by_split()
    jobs = []
    while len(jobs) < count:
        statement = statements[int(rng.integers(len(statements)))]
        body = statement[:-1]
        body = body[0].lower() + body[1:] if body[:2] != "I " else body
        kind = rng.random()
        if kind < 0.45:
            text = YES_NO_FRAMES[int(rng.integers(len(YES_NO_FRAMES)))].format(body)
        elif kind < 0.7:
            text = WH_FRAMES[int(rng.integers(len(WH_FRAMES)))].format(body)
        else:
            short = SHORT_QUESTIONS[int(rng.integers(len(SHORT_QUESTIONS)))]
            text = f"{short} {statement}" if rng.random() < 0.5 else f"{statement} {short}"
        split = split_of_text(text)
        if split == "test":
            continue
        jobs.append(_espeak_job(split, text, text, voices, rng))
    return jobs


def plain_jobs(count: int, seed: int) -> list[dict]:
    """``count`` clips whose transcript is written as many are: lower case, no punctuation
    (LibriSpeech's, a speech recogniser's). Such a text marks no questions, phrase ends or
    emphasis, and the teacher adds only what its words still carry."""
    jobs = espeak_jobs(count, seed + 3)
    for job in jobs:
        job["written"] = re.sub(r"[^\w\s']", "", job["spoken"]).lower()
    return jobs


def cathy_jobs(seed: int) -> list[dict]:
    folder = shared_data_dir() / "speech" / "cathy"
    listing = folder / "transcripts.txt"
    if not listing.exists():
        return []
    rng = np.random.default_rng(seed + 1)
    jobs = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        if ":" not in line:
            continue
        name, text = line.split(":", 1)
        split = split_of_text(text)
        if split == "test":
            continue
        jobs.append({"kind": "cathy", "split": split, "path": str(folder / name.strip()),
                     "spoken": text.strip(), "written": text.strip(),
                     "seed": int(rng.integers(1 << 31))})
    return jobs


def build(cache: Path, jobs: list[dict]) -> list[Path]:
    from tqdm import tqdm

    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for job in tqdm(jobs, desc="clips", unit="clip"):
        key = hashlib.sha1(json.dumps(job, sort_keys=True).encode()).hexdigest()[:16]
        path = cache / f"{job['split']}-{key}.npz"
        skip = cache / f"{job['split']}-{key}.none"
        if path.exists():
            out.append(path)
            continue
        if skip.exists():
            continue
        if job["kind"] == "espeak":
            speech = Speech.synthesize(job["spoken"], voice=job["voice"], rate=job["rate"],
                                       pitch=job["pitch"])
        else:
            speech = Speech.from_file(job["path"], text=job["spoken"])
        arrays = clip_arrays(speech, job["written"], np.random.default_rng(job["seed"]))
        if arrays is None:
            skip.touch()
            continue
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.rename(path)
        out.append(path)
    return out


def load_set(paths: list[Path]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    items = []
    for p in paths:
        with np.load(p) as z:
            text = z["text"].astype(np.float32)
            for audio, target in zip(z["audio"], z["target"]):
                items.append((text, audio, target))
    return items


def batch(items, rng, size: int, crop: int):
    import torch

    picks = [items[int(i)] for i in rng.integers(len(items), size=size)]
    length = min(crop, max(len(p[0]) for p in picks))
    text = np.zeros((size, length, picks[0][0].shape[1]), np.float32)
    audio = np.zeros((size, length, picks[0][1].shape[1]), np.float32)
    target = np.zeros((size, length, picks[0][2].shape[1]), np.float32)
    mask = np.zeros((size, length, 1), np.float32)
    for b, (x, a, y) in enumerate(picks):
        start = int(rng.integers(0, max(1, len(x) - length + 1)))
        m = min(length, len(x) - start)
        text[b, :m], audio[b, :m], target[b, :m] = x[start:start + m], a[start:start + m], y[start:start + m]
        mask[b, :m] = 1.0
    return tuple(torch.from_numpy(v) for v in (text, audio, target, mask))


def evaluate(net, items) -> float:
    import torch

    net.eval()
    total, frames = 0.0, 0
    with torch.inference_mode():
        for x, a, y in items:
            pred = net(torch.from_numpy(x)[None], torch.from_numpy(a)[None])[0].numpy()
            total += float(((pred - y) ** 2).sum())
            frames += len(y)
    net.train()
    return total / frames


def train(train_items, val_items, steps: int, seed: int, log) -> tuple[object, dict]:
    import torch

    from emoface.engines.neural.text_branch import TextBranch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = TextBranch()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    best = (float("inf"), None, -1)
    zero = sum(float((y ** 2).sum()) for _, _, y in val_items) / sum(len(y) for _, _, y in val_items)
    log(f"validation loss without the branch (output zero): {zero:.5f}")
    started = time.perf_counter()
    for step in range(1, steps + 1):
        text, audio, target, mask = batch(train_items, rng, 32, 240)
        loss = (((net(text, audio) - target) ** 2) * mask).sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == steps:
            val = evaluate(net, val_items)
            log(f"step {step}: train {loss.item():.5f}  val {val:.5f}  "
                f"({time.perf_counter() - started:.0f} s)")
            if val < best[0]:
                best = (val, {k: v.clone() for k, v in net.state_dict().items()}, step)
    net.load_state_dict(best[1])
    return net, {"steps": steps, "best_step": best[2], "val_loss": best[0],
                 "val_loss_zero": zero, "seed": seed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/emoface/text_branch")
    ap.add_argument("--clips", type=int, default=5000, help="espeak-ng clips (default 5000)")
    ap.add_argument("--questions", type=int, default=1500,
                    help="espeak-ng clips of framed questions (default 1500)")
    ap.add_argument("--plain", type=int, default=1000,
                    help="espeak-ng clips with a lower-case, unpunctuated transcript (default 1000)")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "emoface/assets/text_branch.safetensors")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from emoface.engines.neural.text_branch import save_branch

    jobs = (espeak_jobs(args.clips, args.seed) + question_jobs(args.questions, args.seed)
            + plain_jobs(args.plain, args.seed) + cathy_jobs(args.seed))
    paths = build(args.cache, jobs)
    train_paths = [p for p in paths if p.name.startswith("train-")]
    val_paths = [p for p in paths if p.name.startswith("val-")]
    print(f"{len(train_paths)} training clips, {len(val_paths)} validation clips "
          f"({len(jobs) - len(paths)} without placeable words skipped)")
    net, summary = train(load_set(train_paths), load_set(val_paths), args.steps, args.seed, print)
    summary.update({"train_clips": len(train_paths), "val_clips": len(val_paths),
                    "espeak_clips": args.clips, "question_clips": args.questions, "plain_clips": args.plain,
                    "cathy": True,
                    "target": "emoface.engines.rules.text_cues.delta"})
    tmp = args.out.with_suffix(".tmp")
    save_branch(net, tmp, summary)
    tmp.rename(args.out)
    print(f"wrote {args.out} (best step {summary['best_step']}, validation loss "
          f"{summary['val_loss']:.5f} against {summary['val_loss_zero']:.5f} with no branch)")


if __name__ == "__main__":
    main()
