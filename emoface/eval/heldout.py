"""Which benchmark inputs a trained model has seen, read from the data rather than assumed.

A checkpoint carries its training recipe (``train_config`` in its metadata: the corpus,
the fold speaker, the weights it started from). Following
``init_from`` back gives every stage of the recipe. A stage trains on the rows of its
corpus's manifest that ``emoface.train.loop.load_clips`` picks for the ``train`` split
(a leave-one-speaker-out fold leaves its speaker out and also takes the fold source's
other splits), from the sources it samples (``source_weights`` above zero).

A benchmark input is *trained on* when its audio file is one of those clips, or when it
was spoken by one of their speakers (or synthetic voices): a new sentence read by a
training voice is not held-out speech.

    data = training_data(weights)            # None: no recipe in the file
    data.status(item)                        # None when held out, else why not

Bundled weights carry this answer with them (``write_record``: ``model.training.json``
beside ``model.safetensors``), so a checkout without the corpus or the training runs
still knows which inputs are held out.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..data.manifest import MANIFEST_NAME, read_manifest, resolve
from ..engines.neural.checkpoint import default_weights, file_sha256, read_metadata
from ..errors import UserError
from ..files import atomic_path
from ..paths import PROJECT_DIR, shared_data_dir

# A recipe that names no sources samples the training loop's defaults.
DEFAULT_SOURCES = ("tts", "asterisk", "emodb")
MAX_STAGES = 8


def recipe_of(metadata: dict) -> dict | None:
    """The training recipe stored with a checkpoint, flattened (``[data]`` and ``[train]``
    together, as ``TrainConfig.load`` reads them); None when absent or unreadable."""
    text = metadata.get("train_config")
    if not text:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    flat.update(data.get("data", {}))
    flat.update(data.get("train", {}))
    return flat


def _stage_sources(recipe: dict) -> set[str]:
    weights = recipe.get("source_weights")
    if weights is None:
        return set(DEFAULT_SOURCES)
    return {s for s, w in weights.items() if w > 0}


def training_rows(recipe: dict, rows: list[dict]) -> list[dict]:
    """The manifest rows one stage of ``recipe`` trains on (its ``train`` split, as
    ``emoface.train.loop.load_clips`` selects it, from the sources it samples)."""
    fold = str(recipe.get("fold_speaker") or "")
    excluded = {fold} if fold else set()
    picked = [r for r in rows if r["split"] == "train" and r["speaker"] not in excluded]
    if fold:
        fold_sources = {r["source"] for r in rows if r["speaker"] == fold}
        picked += [r for r in rows if r["source"] in fold_sources and r["split"] != "train"
                   and r["speaker"] not in excluded]
    sources = _stage_sources(recipe)
    return [r for r in picked if r["source"] in sources]


def validation_rows(recipe: dict, rows: list[dict]) -> list[dict]:
    """Rows a stage validates on (used to pick ``best.safetensors``, never trained on)."""
    if recipe.get("fold_speaker"):
        return []
    sources = _stage_sources(recipe)
    return [r for r in rows if r["split"] == "val" and r["source"] in sources]


def _norm(path: str | os.PathLike) -> str:
    return os.path.realpath(path)


def _find(path: str, bases: tuple[Path, ...]) -> Path | None:
    """A path from a recipe: absolute, or relative to the working folder or the project."""
    p = Path(path)
    if p.is_absolute():
        return p if p.exists() else None
    for base in bases:
        if (base / p).exists():
            return base / p
    return None


@dataclass
class Stage:
    weights: str          # the file this recipe was read from
    corpus: str
    parts: str            # train_parts: animation, emotion or all
    sources: list[str]
    clips: int
    speakers: int

    def describe(self) -> str:
        return (f"{self.parts} stage ({Path(self.weights).name}): {self.clips} clips by "
                f"{self.speakers} speakers/voices from {', '.join(self.sources)} of "
                f"corpus {self.corpus!r}")


@dataclass
class TrainingData:
    """Everything a model was trained on, and how to tell an input's status."""

    weights: str
    stages: list[Stage] = field(default_factory=list)
    audio: set[str] = field(default_factory=set)          # resolved paths of training clips
    speakers: set[str] = field(default_factory=set)       # casefolded training speakers
    validation_speakers: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    # Clips trained on, counted when read from a record (which keeps only shared-data paths).
    clip_count: int | None = None
    # Every row of the corpora read, to find an input's speaker.
    _speaker_by_audio: dict[str, str] = field(default_factory=dict)
    _speakers_by_source: dict[str, set[str]] = field(default_factory=dict)
    _all_speakers: set[str] = field(default_factory=set)

    def add_rows(self, rows: list[dict], corpus_root: Path) -> None:
        """Index a corpus's rows (all of them, trained on or not) for speaker lookup."""

        for r in rows:
            sp = r["speaker"].casefold()
            self._speaker_by_audio[_norm(resolve(corpus_root, r["audio"]))] = sp
            self._speakers_by_source.setdefault(r["source"], set()).add(sp)
            self._all_speakers.add(sp)

    def train_on(self, rows: list[dict], corpus_root: Path) -> None:

        for r in rows:
            self.audio.add(_norm(resolve(corpus_root, r["audio"])))
            self.speakers.add(r["speaker"].casefold())

    def speaker_of(self, item) -> str | None:
        """The corpus speaker of a benchmark item: by its audio file, else by its own
        speaker name (``espeak-en-us``, or ``emodb`` + ``03``), else the only speaker of
        its dataset; None when the corpus does not know it."""
        if item.audio:
            found = self._speaker_by_audio.get(_norm(item.audio))
            if found:
                return found
        if item.speaker:
            for name in (item.speaker.casefold(), f"{item.dataset}-{item.speaker}".casefold()):
                if name in self._all_speakers:
                    return name
        candidates = self._speakers_by_source.get(item.dataset, set())
        return next(iter(candidates)) if len(candidates) == 1 else None

    def status(self, item) -> str | None:
        """None when ``item`` is held out from every stage's training, else the reason."""
        if item.audio and _norm(item.audio) in self.audio:
            return "clip trained on"
        speaker = self.speaker_of(item)
        if speaker is not None and speaker in self.speakers:
            return "voice trained on" if item.audio is None else "speaker trained on"
        return None

    def summary(self) -> dict:
        return {"weights": self.weights, "stages": [s.describe() for s in self.stages],
                "clips": len(self.audio) if self.clip_count is None else self.clip_count,
                "speakers": len(self.speakers),
                "validation_speakers": sorted(self.validation_speakers), "notes": self.notes}


def _read_corpus(path: str, bases: tuple[Path, ...]) -> tuple[list[dict], Path] | None:

    root = _find(str(Path(path) / MANIFEST_NAME), bases)
    if root is None:
        return None
    try:
        return read_manifest(root.parent), root.parent
    except UserError:
        return None


def training_data(weights: str | os.PathLike, bases: tuple[Path, ...] | None = None
                  ) -> TrainingData | None:
    """What the checkpoint at ``weights`` (and the weights it started from) trained on.
    None when it carries no recipe or its corpus is not here: then nothing can be called
    held out. ``bases``: folders relative paths in recipes are looked up in (default: the
    working folder, then the project)."""

    bases = bases or (Path.cwd(), PROJECT_DIR)
    data = TrainingData(str(weights))
    seen: set[str] = set()
    path: Path | None = Path(weights)
    corpora: dict[str, tuple[list[dict], Path]] = {}
    while path is not None and len(data.stages) < MAX_STAGES:
        key = _norm(path)
        if key in seen:
            break
        seen.add(key)
        frozen = read_record(path) if data.stages else None
        if frozen is not None:   # weights started from bundled ones: their record holds the rest
            _merge_record(data, frozen)
            break
        try:
            recipe = recipe_of(read_metadata(path))
        except Exception:  # noqa: BLE001 - an unreadable file has no recipe to offer
            recipe = None
        if recipe is None:
            if not data.stages:
                return None
            data.notes.append(f"{path} carries no training recipe; taken as trained on the "
                              "whole train split of the corpus")
            _assume_whole_train_split(data, corpora)
            break
        corpus = str(recipe.get("corpus") or "corpus")
        if corpus not in corpora:
            found = _read_corpus(corpus, bases)
            if found is None:
                if not data.stages:
                    return None
                data.notes.append(f"corpus {corpus!r} of an earlier stage is not here; taken as "
                                  "the later stages' whole train split")
                _assume_whole_train_split(data, corpora)
                break
            corpora[corpus] = found
            data.add_rows(*found)
        rows, root = corpora[corpus]
        picked = training_rows(recipe, rows)
        data.train_on(picked, root)
        data.validation_speakers |= {r["speaker"] for r in validation_rows(recipe, rows)}
        data.stages.append(Stage(str(path), corpus, str(recipe.get("train_parts", "all")),
                                 sorted({r["source"] for r in picked}), len(picked),
                                 len({r["speaker"] for r in picked})))
        start = str(recipe.get("init_from") or "")
        if not start:
            break
        path = _find(start, bases)
        if path is None:
            data.notes.append(f"the recipe started from {start!r}, which is not here; that "
                              "stage is taken as trained on the whole train split")
            _assume_whole_train_split(data, corpora)
    data.validation_speakers -= {s for s in data.validation_speakers
                                 if s.casefold() in data.speakers}
    return data


def _merge_record(data: TrainingData, frozen: TrainingData) -> None:
    """Add the frozen record of the weights a stage started from (their earlier stages)."""
    own = set(data.audio)
    data.stages.extend(frozen.stages)
    data.audio |= frozen.audio
    data.speakers |= frozen.speakers
    data.validation_speakers |= frozen.validation_speakers
    data.notes.extend(frozen.notes)
    data._speaker_by_audio.update(frozen._speaker_by_audio)
    for source, speakers in frozen._speakers_by_source.items():
        data._speakers_by_source.setdefault(source, set()).update(speakers)
    data._all_speakers |= frozen._all_speakers
    data.clip_count = len(own - frozen.audio) + (frozen.clip_count or len(frozen.audio))


def _assume_whole_train_split(data: TrainingData,
                              corpora: dict[str, tuple[list[dict], Path]]) -> None:
    """The cautious guess for a stage we cannot read: every train-split clip of every
    corpus seen, from every source."""
    for rows, root in corpora.values():
        data.train_on([r for r in rows if r["split"] == "train"], root)


# --------------------------------------------------------------- the frozen record
# Recipes point at a corpus and at earlier runs that a fresh checkout does not have, so
# bundling weights also writes down what they heard, beside them: with it the benchmark
# can tell held-out inputs on any machine. Paths are kept relative to the shared data
# folder (the only audio a benchmark input can share with the corpus); synthetic clips
# are remembered by their voices.
RECORD_FORMAT = "emoface-training-record-1"


def record_path(weights: str | os.PathLike) -> Path:
    """Where the record of ``weights`` lives: ``model.safetensors`` -> ``model.training.json``."""
    return Path(weights).with_suffix(".training.json")


def _relative_to(path: str, root: Path) -> str | None:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return None


def write_record(data: TrainingData, weights: str | os.PathLike) -> Path:
    """Freeze ``data`` (what ``weights`` trained on) into :func:`record_path`."""
    import json


    root = Path(_norm(shared_data_dir()))
    audio = sorted(r for r in (_relative_to(a, root) for a in data.audio) if r)
    speaker_by_audio = {rel: sp for a, sp in data._speaker_by_audio.items()
                        if (rel := _relative_to(a, root))}
    record = {"format": RECORD_FORMAT, "weights_sha256": file_sha256(weights),
              "stages": [asdict(s) for s in data.stages],
              "clips": data.summary()["clips"], "audio": audio,
              "speakers": sorted(data.speakers),
              "validation_speakers": sorted(data.validation_speakers), "notes": data.notes,
              "speaker_by_audio": dict(sorted(speaker_by_audio.items())),
              "speakers_by_source": {k: sorted(v) for k, v in
                                     sorted(data._speakers_by_source.items())}}
    path = record_path(weights)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    return path


def read_record(weights: str | os.PathLike) -> TrainingData | None:
    """The frozen record of ``weights``; None when there is none, it is unreadable, or it
    describes other weights (its checksum differs)."""
    import json


    path = record_path(weights)
    try:
        record = json.loads(path.read_text())
        if record.get("format") != RECORD_FORMAT or \
                record.get("weights_sha256") != file_sha256(weights):
            return None
        root = Path(_norm(shared_data_dir()))
        data = TrainingData(str(weights), stages=[Stage(**s) for s in record["stages"]],
                            audio={_norm(root / a) for a in record["audio"]},
                            speakers=set(record["speakers"]),
                            validation_speakers=set(record["validation_speakers"]),
                            notes=list(record["notes"]), clip_count=int(record["clips"]))
        data._speaker_by_audio = {_norm(root / a): sp
                                  for a, sp in record["speaker_by_audio"].items()}
        data._speakers_by_source = {k: set(v) for k, v in record["speakers_by_source"].items()}
        data._all_speakers = set().union(*data._speakers_by_source.values(),
                                         data._speaker_by_audio.values())
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return None


def model_training_data() -> TrainingData | None:
    """What the weights the neural engine uses here trained on: their frozen record when
    it matches them, else read from their recipes and the corpus."""

    path = default_weights()
    if not path.exists():
        return None
    return read_record(path) or training_data(path)
