"""Reading a built corpus (the training side of :mod:`emoface.data.build`).

    corpus = Corpus("corpus")
    for row in corpus.rows(split="train"):
        feats = corpus.features(row)        # logmel (T, 80) float32, f0_st, voiced, loudness...
        targets = corpus.targets(row)       # {"label": Animation, "happy:0.35": Animation, ...}
        audio = corpus.audio(row)           # 16 kHz mono float32 (for augmentation)

Feature frames are at 100 Hz, target frames at ``row["target_fps"]`` (30 for the teacher).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..audio.io import load_audio
from ..audio.phones import Phone
from .features import load
from .manifest import read_manifest, resolve
from .store import load_json, load_npz
from .teacher import variant_key


class Corpus:
    """A corpus folder: its validated manifest rows and accessors for each clip's files."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.manifest: list[dict] = read_manifest(self.root)
        self._by_id = {row["id"]: row for row in self.manifest}

    def __len__(self) -> int:
        return len(self.manifest)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.manifest)

    def __getitem__(self, clip_id: str) -> dict:
        return self._by_id[clip_id]

    def rows(self, split: str | None = None, source: str | None = None,
             exclude_flags: tuple[str, ...] = (), speakers=None) -> list[dict]:
        """Rows filtered by split, source, flags to leave out (e.g. ``("boredom",)`` for the
        voice emotion classifier) and a set of speakers (for leave-speaker-out folds)."""
        out = []
        for row in self.manifest:
            if split is not None and row["split"] != split:
                continue
            if source is not None and row["source"] != source:
                continue
            if exclude_flags and set(exclude_flags) & set(row["flags"]):
                continue
            if speakers is not None and row["speaker"] not in speakers:
                continue
            out.append(row)
        return out

    def speakers(self, source: str | None = None) -> list[str]:
        return sorted({r["speaker"] for r in self.manifest
                       if source is None or r["source"] == source})

    def path(self, row: dict, field: str) -> Path:
        return resolve(self.root, row[field])

    # ------------------------------------------------------------ per clip
    def audio(self, row: dict) -> np.ndarray:
        """The clip's audio, mono float32 at 16 kHz (8 kHz sources are upsampled and keep
        their empty top band)."""

        return load_audio(self.path(row, "audio"))

    def features(self, row: dict) -> dict[str, np.ndarray]:
        """Cached log-mel (float32) and prosody tracks, 100 frames per second."""

        return load(self.path(row, "features"))

    def phones(self, row: dict) -> list[Phone]:

        data = load_json(self.path(row, "phones"))
        return [Phone(float(a), float(b), p, label, word) for a, b, p, label, word in data["phones"]]

    def target_arrays(self, row: dict) -> dict[str, np.ndarray]:
        """The raw target file: ``weights`` (V, T, 52) float16 teacher variants, ``head``,
        ``eyes``, ``emotions``, ``intensities``, ``label`` (index of the clip's own variant
        or -1), ``fps``, and for captured clips ``captured_weights`` etc. (float32)."""

        return load_npz(self.path(row, "targets"))

    def targets(self, row: dict) -> dict[str, Animation]:
        """Target curves by variant: ``"label"`` is the clip's own target (captured curves
        when there are any, else the teacher at the clip's emotion and intensity), then
        the exchange set ``"neutral"``, ``"happy:0.35"``, ... ``"contempt:1.00"``."""
        arrays = self.target_arrays(row)
        fps = float(arrays["fps"])
        out: dict[str, Animation] = {}
        label = int(arrays["label"])
        if "captured_weights" in arrays:
            out["label"] = Animation(arrays["captured_weights"], fps,
                                     head=arrays.get("captured_head"),
                                     eyes=arrays.get("captured_eyes"),
                                     meta={"kind": "captured", "emotion": row["emotion"],
                                           "intensity": row["intensity"]})
        for v, (emotion, intensity) in enumerate(zip(arrays["emotions"], arrays["intensities"])):
            anim = Animation(arrays["weights"][v].astype(np.float32), fps,
                             head=arrays["head"][v].astype(np.float32),
                             eyes=arrays["eyes"][v].astype(np.float32),
                             meta={"kind": "teacher", "emotion": str(emotion),
                                   "intensity": float(intensity)})
            out["label" if v == label else variant_key(str(emotion), float(intensity))] = anim
        return out


def leave_one_speaker_out(corpus: Corpus, source: str = "emodb") -> list[tuple[list[str], str]]:
    """(training speakers, held-out speaker) for each speaker of ``source``: the folds a
    voice emotion classifier rotates over (EmoDB's 8 speakers)."""
    speakers = corpus.speakers(source)
    return [([s for s in speakers if s != held], held) for held in speakers]
