"""Held-out lip sync of weights files in under a minute: the columns of the recipe
table in docs/experiments.md, so its rows can be re-run and new recipes compared the same way.

    emoface dev probe                        # the bundled weights
    emoface dev probe runs/a.safetensors runs/b.safetensors --misses

For each file: LibriVox (English, never trained on by the bundled recipe) bilabial closure
and mean mouth-opening r against the teacher, the phone head's frame accuracy there (when
the weights have one), and the same closure and r on EmoDB speakers 13 and 14 (German,
held out too). Teacher, emotion (neutral), seed (0) and metrics are those of
``emoface bench`` (:mod:`emoface.eval.runner`), whose full suite remains the reference;
this answers the one question a training run asks. Inputs the weights did hear in
training are named on stderr, never silently mixed in.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from ..engines.neural.checkpoint import default_weights, read_config
from ..engines.neural.engine import NeuralEngine, model_inputs
from ..errors import UserError
from ..paths import shared_data_dir
from ..train.data import phone_frames
from . import lipsync
from .heldout import training_data
from .runner import FPS, SEED, prepare, teacher
from .suites import _emodb, _librivox, _require_data

PROBE_EMODB_SPEAKERS = ("13", "14")


@dataclass
class SetScore:
    closed: int = 0
    total: int = 0
    rs: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = 100.0 * self.closed / self.total if self.total else float("nan")
        return (f"closure {self.closed}/{self.total} ({rate:.1f} %), "
                f"r {np.mean(self.rs):.3f} over {len(self.rs)} clips")


def probe_items(root=None) -> dict[str, list]:

    root = root or shared_data_dir()
    _require_data(root)
    return {"LibriVox": _librivox(root),
            "EmoDB 13+14": [i for i in _emodb(root) if i.speaker in PROBE_EMODB_SPEAKERS]}


def phone_head_accuracy(engine, prepared) -> tuple[int, int] | None:
    """(correct, judged) 50-fps frames where the content encoder's phone head names the
    reference phone; None when the weights have no phone head."""
    import torch


    net = engine.predictor.net   # the network the animations just used
    if net.content.phone_head is None:
        return None
    correct = judged = 0
    for prep in prepared:
        feats, _ = model_inputs(prep.plain.samples, prep.plain.prosody(), net.cfg.n_phonetic,
                                engine.cepstral_mean)
        with torch.no_grad():
            x = net.normalise(torch.from_numpy(feats)[None])
            logits = net.content.phone_head(net.content(x))[0]
        guess = logits.argmax(-1).numpy()
        labels = phone_frames(prep.ref_phones, len(guess))
        known = labels >= 0
        correct += int((guess[known] == labels[known]).sum())
        judged += int(known.sum())
    return correct, judged


def probe(weights_files: list[str], show_misses: bool = False, out=sys.stdout) -> None:

    sets = probe_items()
    prepared = {name: [p for p in map(prepare, items) if p.ref_phones]
                for name, items in sets.items()}
    refs = {name: [teacher(p).weights for p in preps] for name, preps in prepared.items()}
    neutral = "neutral"
    for weights in weights_files:
        print(weights, file=out)
        heard = training_data(weights)
        engine = NeuralEngine(weights, backend="torch")
        for name, preps in prepared.items():
            if heard is not None:
                seen = [p.item.id for p in preps if heard.status(p.item)]
                if seen:
                    print(f"  note: these weights were trained on {len(seen)} of the {name} "
                          f"clips ({seen[0]} ...)", file=sys.stderr)
            score = SetScore()
            for prep, ref in zip(preps, refs[name]):
                w = engine.animate(prep.plain, neutral, fps=FPS, seed=SEED).weights
                closure = lipsync.bilabial_closure(w, FPS, prep.ref_phones)
                n = min(len(w), len(ref))
                score.rs.append(lipsync.mouth_opening_correlation(w[:n], ref[:n], FPS).r)
                score.closed += closure.closed
                score.total += closure.total
                score.misses += [f"{prep.item.id} {ph} at {a:.2f} s"
                                 for a, _, ph in closure.missed]
            print(f"  {name:12s} {score.line()}", file=out)
            if show_misses and score.misses:
                print("    missed: " + "; ".join(score.misses), file=out)
            if name == "LibriVox":
                acc = phone_head_accuracy(engine, preps)
                if acc is not None:
                    print(f"  {'':12s} phone head {100.0 * acc[0] / acc[1]:.1f} % of "
                          f"{acc[1]} frames", file=out)


def run(weights: list[str], show_misses: bool = False) -> int:
    """What ``emoface dev probe`` does: probe ``weights`` (default: the bundled model); a
    wrong path is one line on stderr and exit code 2, before a minute of work."""

    files = weights or [str(default_weights())]
    try:
        for f in files:
            read_config(f)        # a wrong path fails before a minute of work, not after
        probe(files, show_misses)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
