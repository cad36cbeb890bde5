"""Animating a folder of recordings: one job per file, and the one function that does a
job, whether this process runs it or a worker of a pool does (:mod:`emoface.cluster`).

A job names its audio file and the output files planned for it. Every output is written
under a temporary name and renamed when complete (:func:`emoface.files.atomic_path`), so
a job whose outputs are all present is finished, whatever stopped the run that wrote them
(``--resume`` skips it); a run stopped between two outputs of one file leaves that file
to be done again.
"""
from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import outputs
from .audio.io import AUDIO_EXTENSIONS, SAMPLE_RATE, audio_duration
from .audio.speech import Speech
from .emotion import EmotionSpec, parse_emotion
from .engines import Engine, load_engine
from .engines.long_input import LONG_INPUT_S
from .errors import UserError, note, warn
from .files import leftover_temporaries
from .speech import SpeechModel, Transcription, load_speech_model, transcribed, transcript_source
from .version import __version__


@dataclass(frozen=True)
class Settings:
    """What every file of a batch is animated with (plain values: workers receive it)."""
    engine: str | None
    emotion: str = "auto"
    intensity: float | None = None
    fps: float = 30.0
    seed: int = 0
    transcribe: bool = False            # files without NAME.txt: Whisper hears the words
    speech_model: str | None = None
    use_words: bool = True              # False (--no-text): words place phones only



@dataclass(frozen=True)
class Job:
    audio: Path
    outputs: tuple[Path, ...]

    @property
    def done(self) -> bool:
        return all(p.is_file() for p in self.outputs)

    def remove_leftovers(self) -> None:
        """Delete the temporary files a killed run left beside this job's outputs (before
        the job is done again: nothing else writes there then)."""
        for path in self.outputs:
            for tmp in leftover_temporaries(path):
                tmp.unlink(missing_ok=True)

    def absolute(self) -> Job:
        """The same job named from the root: a worker on another machine has another
        working folder."""
        return Job(Path(os.path.abspath(self.audio)),
                   tuple(Path(os.path.abspath(p)) for p in self.outputs))


def plan_folder(folder: Path, out: str, formats: str | None = None) -> list[Job]:
    """One job per audio file in ``folder`` (sorted by name), outputs planned and
    checked before any work: ``out`` is a folder receiving ``formats`` (comma-separated
    extensions) or the default set."""
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise UserError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {str(folder)!r}")
    exts = None
    if formats:
        exts = tuple("." + e.strip().lstrip(".").lower() for e in formats.split(",") if e.strip())
    out = out if str(out).endswith("/") else str(out) + "/"
    return [Job(f, tuple(outputs.plan(out, f.stem, exts))) for f in files]


# Engines are loaded once per thread of a process, on first use: a worker's task thread
# keeps its engine for every file it is given. Per thread rather than per process because
# an engine's parts (the phone recogniser's decoder) are not known to be thread-safe.
_loaded = threading.local()


def engine_here(name: str | None) -> Engine:
    engines = _loaded.__dict__.setdefault("engines", {})
    if name not in engines:
        engines[name] = load_engine(name)
    return engines[name]


def warm_up(settings: Settings) -> dict:
    """Load the engine in this thread and animate two seconds of a synthetic voice with
    the batch's settings, so that what engines load on first use (the phone recogniser,
    the voice emotion network) is loaded before the first file; what a pool reports of
    each worker's start."""
    start = time.perf_counter()
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 8))
    voice = (0.1 * buzz * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    engine_here(settings.engine).animate(
        Speech(voice, SAMPLE_RATE, source="warm-up"), _spec(settings.emotion, settings.intensity),
        fps=settings.fps, seed=settings.seed)
    return {"emoface": __version__, "start_s": time.perf_counter() - start}


@functools.lru_cache(maxsize=8)
def _spec(emotion: str, intensity: float | None) -> EmotionSpec:
    return parse_emotion(emotion, intensity)


def speech_model_for(engine: Engine | type[Engine], transcribe: bool, spec: str | None,
                     quiet: bool = False) -> SpeechModel | None:
    """The Whisper model ``--transcribe`` asks for, loaded before any work (a missing
    weights package fails first), or None when there is nothing to transcribe for
    (``engine``, loaded or its class, says whether it reads a transcript)."""
    if not transcribe:
        if spec and not quiet:
            warn("--speech-model is used with --transcribe only; ignored")
        return None
    if not engine.capabilities.reads_text:
        if not quiet:
            warn(f"the {engine.name} engine does not read a transcript; --transcribe is "
                 "skipped (animating from the audio alone)")
        return None
    return load_speech_model(spec)


def heard(source: Path, model: SpeechModel | None,
          release: bool = True) -> tuple[Path | Speech, Transcription | None]:
    """(what the engine animates, what Whisper heard): the path itself without a model,
    else the loaded speech carrying Whisper's words as its transcript. ``release`` frees
    Whisper before the aligner's memory peak (a batch keeps it for the next file)."""
    if model is None:
        return source, None
    if audio_duration(source) > LONG_INPUT_S:
        note(f"--transcribe reads audio up to {LONG_INPUT_S / 60:g} min; {source.name} is "
             "longer and is animated from the audio alone, window by window")
        return source, None
    try:
        return transcribed(Speech.from_file(source), model)
    finally:
        if release:
            model.release()


def record_heard(anim, model: SpeechModel | None, heard_: Transcription | None) -> None:
    """Keep what Whisper heard in the take's meta (``transcript``)."""
    if heard_ is not None:
        anim.meta["transcript"] = {"source": transcript_source(model), "text": heard_.text,
                                   "language": heard_.language,
                                   "language_probability": round(heard_.language_probability, 3)}


def animate_job(job: Job, settings: Settings, engine: Engine | None = None) -> str | None:
    """Animate one file with ``engine`` (None: this thread's, loaded on first use) and
    write its outputs (all or none); the reason, one line, when the file cannot be used.
    Anything else (a bug) is raised."""
    engine = engine or engine_here(settings.engine)
    engine.use_words = settings.use_words
    sidecar = job.audio.with_suffix(".txt")
    try:
        text = sidecar.read_text(encoding="utf-8") if sidecar.exists() else None
        model = None if text else speech_model_for(engine, settings.transcribe,
                                                   settings.speech_model, quiet=True)
        audio, words = heard(job.audio, model, release=False)
        anim = engine.animate(
            audio, _spec(settings.emotion, settings.intensity), text=text,
            fps=settings.fps, seed=settings.seed)
        record_heard(anim, model, words)
        outputs.write_all(anim, list(job.outputs), audio=str(job.audio))
    except UserError as exc:  # one bad file must not stop a batch
        return str(exc)
    return None


def animate_here(jobs: Iterable[Job], settings: Settings) -> Iterator[tuple[Job, str | None]]:
    """Run the jobs one after another in this process, the engine loaded once for all of
    them: (job, reason it failed or None) as each ends."""
    engine = load_engine(settings.engine)
    for job in jobs:
        yield job, animate_job(job, settings, engine)
