"""Run a suite: every system on every item, each metric once, results cached per item.

A *system* is a column of the table: a registered engine (:mod:`emoface.engines`), given
the transcript or not, animating the neutral emotion (or, for an engine with an emotion
branch of its own, also ``auto``: the emotion it hears). Which columns an engine gets
follows from its capabilities, so engines registered later are benchmarked without any
change here.
Results are cached as small JSON files under ``OUT/cache/<code fingerprint>/`` so an
interrupted run resumes where it stopped, and a change to any code that could move a
number (engines, audio, metrics) starts afresh.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..audio.espeak import synthesize
from ..audio.io import audio_duration, load_audio
from ..audio.lablaut import read_lablaut
from ..audio.speech import Speech
from ..audio.voice_styles import style_for
from ..data.livelink_stats import default_folder, detect_blinks, load_takes
from ..emotion import DEFAULT_INTENSITY, EMOTIONS, EmotionTrack
from ..engines import (
    Capabilities,
    Engine,
    VoiceEmotion,
    engine_class,
    list_engines,
    load_engine,
    voice_emotion_available,
)
from ..engines.neural.checkpoint import default_weights
from ..errors import UserError
from ..paths import ASSETS_DIR, PACKAGE_DIR, PROJECT_DIR
from . import control, lipsync, motion, vertex
from .emotion import (
    AlwaysClassifier,
    SoftmaxClassifier,
    SpeakerFoldResult,
    expression_classifier,
    leave_one_speaker_out,
    voice_features,
)
from .heldout import model_training_data
from .motion import diversity
from .suites import ESPEAK_VOICE, Item, Suite, load_reference_curves
from .vertex import reference_rig

FPS = 30.0
SEED = 0


def capabilities(engine: str) -> Capabilities:
    return engine_class(engine).capabilities


def teacher_engine() -> str:
    """The engine that labels the training corpus: the reference of the teacher rows."""
    return next(n for n in list_engines() if capabilities(n).teacher)


def trained_engines() -> list[str]:
    """Engines whose behaviour was learnt from data: their cells say when an input was
    heard in training (``emoface.eval.heldout``)."""
    return [n for n in list_engines() if capabilities(n).trained]


class Engines(dict):
    """Engines loaded on first use and kept for one benchmark run, by name."""

    def __missing__(self, name: str) -> Engine:
        self[name] = load_engine(name)
        return self[name]

    def animate(self, speech, emotion: str, engine: str, fps: float, seed: int):
        return self[engine].animate(speech, emotion, fps=fps, seed=seed)


@dataclass(frozen=True)
class System:
    label: str
    engine: str
    transcript: bool
    emotion: str = "neutral"    # what the lip-sync, motion and speed rows animate


def systems_for(engines: list[str] | None = None) -> list[System]:
    """Columns for ``engines`` (default: every registered engine), baselines first."""
    order = list_engines()
    names = sorted(engines, key=order.index) if engines else order
    out = []
    for name in names:
        caps = capabilities(name)
        out.append(System(name, name, False))
        if caps.reads_transcript:
            out.append(System(f"{name} + transcript", name, True))
        if caps.hears_emotion:
            out.append(System(f"{name} (auto emotion)", name, False, "auto"))
    return out


def takes_explicit_emotion(system: System) -> bool:
    """Columns the explicit-emotion and control rows apply to."""
    return capabilities(system.engine).follows_emotion and system.emotion != "auto"


def auto_row_systems(systems: list[System]) -> list[System]:
    """Columns of the auto-emotion row: the ``auto`` columns, and columns of engines that
    listen to the voice model without one of their own (the rules engine)."""
    own = {(s.engine, s.transcript) for s in systems if s.emotion == "auto"}
    return [s for s in systems if capabilities(s.engine).follows_emotion
            and (s.emotion == "auto" or (s.engine, s.transcript) not in own)]


def _probe_signal(seconds: float = 1.2, sr: int = 16000) -> np.ndarray:
    """A voiced, syllable-paced buzz: enough for any engine to run end to end."""
    t = np.arange(int(seconds * sr)) / sr
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 8))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) * (t > 0.1) * (t < seconds - 0.1)
    return (0.1 * buzz * envelope).astype(np.float32)


def usable_systems(systems: list[System]) -> tuple[list[System], dict[str, str]]:
    """The systems whose engine runs here, and why each other engine does not (a model
    whose weights are not installed, a missing optional library)."""

    speech = Speech(_probe_signal(), 16000, source="probe")
    broken: dict[str, str] = {}
    for name in dict.fromkeys(s.engine for s in systems):
        try:
            load_engine(name).animate(speech, "neutral", fps=FPS, seed=SEED)
        except (UserError, ImportError) as exc:
            broken[name] = str(exc)
    return [s for s in systems if s.engine not in broken], broken


# -------------------------------------------------------------------------- cache
# Code that cannot change a number: writers, renderers, streaming, the command line and
# the report itself. Everything else in the package (and every asset) is hashed.
_NUMBER_FREE_DIRS = {"export", "render", "stream", "cli"}
_NUMBER_FREE_FILES = {"report.py", "demo.py", "diagnostics.py", "outputs.py", "__main__.py",
                      "graphics.py"}


def code_fingerprint() -> str:
    """Hash of every source file and bundled asset that can change a number, and of the
    model weights in use when they live outside the package ($EMOFACE_MODEL), so a cache
    never outlives the code or weights that made it while restyling a table keeps it."""

    h = hashlib.sha1()
    files = sorted(p for p in PACKAGE_DIR.rglob("*.py")
                   if p.name not in _NUMBER_FREE_FILES
                   and not _NUMBER_FREE_DIRS & set(p.relative_to(PACKAGE_DIR).parts[:-1]))
    files += sorted(p for p in ASSETS_DIR.rglob("*") if p.is_file())
    for p in files:
        h.update(str(p.relative_to(PACKAGE_DIR)).encode())
        h.update(p.read_bytes())
    weights = default_weights()
    if weights.is_file() and ASSETS_DIR not in weights.resolve().parents:
        h.update(b"weights")
        h.update(weights.read_bytes())
    return h.hexdigest()[:12]


class Cache:
    """JSON (and npz) files keyed by what produced them; ``root=None`` caches nothing."""

    def __init__(self, root: Path | None):
        self.root = Path(root) / code_fingerprint() if root else None

    @staticmethod
    def key(*parts) -> str:
        text = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def _path(self, kind: str, key: str, ext: str = ".json") -> Path | None:
        return self.root / kind / f"{key}{ext}" if self.root else None

    def get(self, kind: str, key: str):
        p = self._path(kind, key)
        if p is None or not p.exists():
            return None
        try:
            return json.loads(p.read_text())
        except (OSError, ValueError):
            return None

    def put(self, kind: str, key: str, value) -> None:
        p = self._path(kind, key)
        if p is None:
            return
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, default=_jsonable))
        tmp.replace(p)

    def get_arrays(self, kind: str, key: str) -> dict | None:
        p = self._path(kind, key, ".npz")
        if p is None or not p.exists():
            return None
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def put_arrays(self, kind: str, key: str, arrays: dict) -> None:
        p = self._path(kind, key, ".npz")
        if p is None:
            return
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.stem + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(p)


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x))


def _item_key(item: Item) -> dict:
    d = asdict(item)
    for f in ("audio", "curves", "lablaut"):  # a user's file edited in place is a new item
        if d.get(f) and Path(d[f]).exists():
            st = Path(d[f]).stat()
            d[f + "_stamp"] = [st.st_size, int(st.st_mtime)]
    return d


# ------------------------------------------------------------------------ inputs
@dataclass
class Prepared:
    """An item's audio as the systems see it, plus its reference."""

    item: Item
    plain: object                  # Speech without a transcript
    with_text: object | None       # Speech with the transcript (None without one)
    ref_phones: list | None        # phones the lip-sync metrics are judged on
    ref_note: str = ""
    curves: object | None = None   # a user's reference Animation


def prepare(item: Item) -> Prepared:

    if item.dataset == "espeak":

        style = style_for(EmotionTrack.constant(item.emotion or "neutral").amounts[0])
        samples, sr, phones = synthesize(item.text, voice=ESPEAK_VOICE, rate=int(style.rate),
                                         pitch=int(style.pitch),
                                         pitch_range=int(style.pitch_range),
                                         volume=int(style.volume))
        return Prepared(item, Speech(samples, sr, source=item.id),
                        Speech(samples, sr, text=item.text, source=item.id), phones)
    plain = Speech.from_file(item.audio)
    plain.source = item.id
    with_text = None
    if item.text:
        with_text = Speech(plain.samples, plain.sample_rate, text=item.text, source=item.id)
    if item.reference == "hand":

        phones = read_lablaut(item.lablaut, plain.duration) if item.lablaut else []
        return Prepared(item, plain, with_text, phones or None,
                        "" if phones else "no hand labels for this file")
    if item.reference == "alignment":
        phones = with_text.phones()
        if with_text.phone_method != "alignment":
            return Prepared(item, plain, with_text, None,
                            f"alignment failed ({with_text.phone_method}): no reference")
        return Prepared(item, plain, with_text, phones)
    if item.reference == "curves":

        curves = load_reference_curves(item.curves, FPS).resample(FPS)
        phones = with_text.phones() if with_text is not None else None
        if with_text is not None and with_text.phone_method != "alignment":
            phones = None
        return Prepared(item, plain, with_text, phones, curves=curves)
    raise ValueError(f"unknown reference kind {item.reference!r}")


def teacher(prep: Prepared, engines: Engines | None = None):
    """The reference animation: captured curves, or the teacher engine on the reference
    phones (neutral emotion, the benchmark's seed)."""

    engines = Engines() if engines is None else engines
    if prep.curves is not None:
        return prep.curves
    if not prep.ref_phones:
        return None
    speech = Speech(prep.plain.samples, prep.plain.sample_rate, source=prep.item.id,
                    phones=prep.ref_phones, phone_source=prep.item.reference)
    return engines.animate(speech, emotion="neutral", engine=teacher_engine(), fps=FPS, seed=SEED)


def is_self_reference(item: Item, system: System) -> bool:
    """On forced-alignment sets the teacher *is* the rules engine with the transcript."""
    return (item.reference == "alignment" and capabilities(system.engine).teacher
            and system.transcript)


# ----------------------------------------------------------------- lip sync item
def score(anim, ref_anim, ref_phones, item: Item, system: System | None, rig) -> dict:

    w = anim.weights
    out: dict = {"frames": len(w), "duration": float(anim.duration),
                 "jitter": motion.jitter(anim), "blinks": len(detect_blinks(anim))}
    if ref_phones:
        out["closure"] = lipsync.bilabial_closure(w, anim.fps, ref_phones).as_dict()
        v = lipsync.viseme_accuracy(w, anim.fps, ref_phones)
        out["viseme"] = {"correct": v.correct, "total": v.total, "confusion": v.confusion.tolist()}
    if ref_anim is not None and system is not None:
        out["self_reference"] = is_self_reference(item, system)
        r = ref_anim.resample(anim.fps) if ref_anim.fps != anim.fps else ref_anim
        out["mouth"] = lipsync.mouth_opening_correlation(
            *[x[:min(len(w), len(r.weights))] for x in (w, r.weights)], anim.fps).as_dict()
        out["vertex"] = vertex.vertex_metrics(anim, r, rig).as_dict()
        if item.reference == "curves":
            out["viseme_agreement"] = lipsync.viseme_agreement(w, r.weights)
    return out


def run_lipsync(item: Item, systems: list[System], rig, cache: Cache,
                keep_curves: bool = False, engines: Engines | None = None) -> dict:
    """{system label: scores} for one item, plus "reference": the teacher's own scores
    and a note when the item has no reference. Computes only what the cache lacks."""
    engines = Engines() if engines is None else engines
    animate = engines.animate

    base = _item_key(item)
    keys = {s.label: Cache.key("lipsync", base, asdict(s), FPS, SEED) for s in systems}
    ref_key = Cache.key("lipsync-reference", base, FPS, SEED)
    results = {label: cache.get("lipsync", k) for label, k in keys.items()}
    results["reference"] = cache.get("lipsync", ref_key)
    curves_key = Cache.key("curves", base, [s.label for s in systems])
    need_curves = keep_curves and cache.get_arrays("curves", curves_key) is None
    if all(v is not None for v in results.values()) and not need_curves:
        return results
    prep = prepare(item)
    ref_anim = teacher(prep, engines)
    ref_scores = score(ref_anim, None, prep.ref_phones, item, None, rig) if ref_anim is not None \
        else {"note": prep.ref_note}
    ref_scores["note"] = prep.ref_note
    cache.put("lipsync", ref_key, ref_scores)
    results["reference"] = ref_scores
    curves = {}
    for s in systems:
        if results[s.label] is not None and not need_curves:
            continue
        speech = prep.with_text if s.transcript else prep.plain
        if speech is None:
            results[s.label] = {"skipped": "no transcript"}
            cache.put("lipsync", keys[s.label], results[s.label])
            continue
        t0 = time.perf_counter()
        try:
            anim = animate(speech, emotion=s.emotion, engine=s.engine, fps=FPS, seed=SEED)
        except UserError as exc:  # an engine refusing one input must not sink the suite
            results[s.label] = {"error": str(exc)}
            cache.put("lipsync", keys[s.label], results[s.label])
            continue
        seconds = time.perf_counter() - t0
        res = score(anim, ref_anim, prep.ref_phones, item, s, rig)
        res.update(seconds=seconds, phone_method=speech.phone_method)
        results[s.label] = res
        cache.put("lipsync", keys[s.label], res)
        curves[s.label] = anim.weights
    if keep_curves:
        arrays = {f"sys:{k}": v for k, v in curves.items()}
        if ref_anim is not None:
            arrays["reference"] = ref_anim.resample(FPS).weights
        arrays["envelope"] = _envelope(prep.plain.samples, prep.plain.sample_rate)
        arrays["phones"] = np.array(json.dumps(
            [[p.start, p.end, p.phone] for p in (prep.ref_phones or [])]))
        cache.put_arrays("curves", curves_key, arrays)
    return results


def _envelope(samples: np.ndarray, sr: int, rate: int = 1000) -> np.ndarray:
    """Peak amplitude per 1 ms: enough to draw a waveform under the curves."""
    hop = max(1, sr // rate)
    n = len(samples) // hop
    return np.abs(samples[:n * hop]).reshape(n, hop).max(1).astype(np.float32)


def stored_curves(cache: Cache, item: Item, systems: list[System]) -> dict | None:
    """The curves :func:`run_lipsync` kept for a figure, or None."""
    return cache.get_arrays("curves", Cache.key("curves", _item_key(item),
                                                [s.label for s in systems]))


# ---------------------------------------------------------------- expression
def run_expression(item: Item, systems: list[System], cache: Cache,
                   intensity: float = DEFAULT_INTENSITY, engines: Engines | None = None) -> dict:
    """{system label: [[requested, predicted], ...]} animating ``item`` in every emotion."""
    engines = Engines() if engines is None else engines
    animate = engines.animate

    systems = [s for s in systems if s.emotion != "auto"]
    base = _item_key(item)
    keys = {s.label: Cache.key("expression", base, asdict(s), intensity, FPS, SEED)
            for s in systems}
    out = {label: cache.get("expression", k) for label, k in keys.items()}
    if all(v is not None for v in out.values()):
        return out
    prep = prepare(item)
    clf = expression_classifier()
    for s in systems:
        if out[s.label] is not None:
            continue
        speech = prep.with_text if s.transcript else prep.plain
        if speech is None:
            continue
        rows = []
        try:
            for emotion in EMOTIONS:
                arg = emotion if emotion == "neutral" else f"{emotion}:{intensity}"
                anim = animate(speech, emotion=arg, engine=s.engine, fps=FPS, seed=SEED)
                rows.append([emotion, clf.predict(anim)])
        except UserError:
            continue
        out[s.label] = rows
        cache.put("expression", keys[s.label], rows)
    return out


def auto_emotion_available() -> bool:
    """Whether ``emotion='auto'`` reaches a voice-emotion model (the neural model's
    emotion branch); without it the pipeline animates neutral, which is not worth a row."""
    return voice_emotion_available()


def run_auto_expression(item: Item, systems: list[System], cache: Cache, engines: Engines | None = None) -> dict:
    """{system label: emotion the expression classifier sees} animating an EmoDB item with
    ``emotion='auto'`` (the columns of :func:`auto_row_systems`)."""
    engines = Engines() if engines is None else engines
    animate = engines.animate

    base = _item_key(item)
    out = {}
    prep = None
    for s in auto_row_systems(systems):
        k = Cache.key("auto", base, asdict(s), FPS, SEED)
        hit = cache.get("auto", k)
        if hit is None:
            prep = prep or prepare(item)
            speech = prep.with_text if s.transcript else prep.plain
            if speech is None:
                continue
            try:
                anim = animate(speech, emotion="auto", engine=s.engine, fps=FPS, seed=SEED)
            except UserError:
                continue
            hit = {"predicted": expression_classifier().predict(anim)}
            cache.put("auto", k, hit)
        out[s.label] = hit["predicted"]
    return out


# ------------------------------------------------------------------- control
def run_control_content(item: Item, systems: list[System], rig, cache: Cache, engines: Engines | None = None) -> dict:
    """{system label: scores} animating ``item`` neutral and in every other emotion at each
    of :data:`emoface.eval.control.INTENSITIES`: the mouth-opening r and the upper-face
    difference (EVE, mm) against neutral at full intensity, and every channel's mean at
    every intensity (for the monotonicity check, pooled over items by the report)."""
    engines = Engines() if engines is None else engines
    animate = engines.animate

    base = _item_key(item)
    out = {}
    prep = None
    for s in systems:
        if not takes_explicit_emotion(s):
            continue
        k = Cache.key("control-content", base, asdict(s), control.INTENSITIES, FPS, SEED)
        hit = cache.get("control", k)
        if hit is None:
            prep = prep or prepare(item)
            speech = prep.with_text if s.transcript else prep.plain
            if speech is None:
                continue
            try:
                neutral = animate(speech, emotion="neutral", engine=s.engine, fps=FPS, seed=SEED)
                levels: dict[str, list] = {}
                mouth, upper = {}, {}
                for emotion in EMOTIONS[1:]:
                    anims = [animate(speech, emotion=f"{emotion}:{level}", engine=s.engine,
                                     fps=FPS, seed=SEED) for level in control.INTENSITIES]
                    levels[emotion] = [control.channel_means(a.weights).tolist() for a in anims]
                    mouth[emotion] = control.mouth_correlation(neutral.weights, anims[-1].weights)
                    upper[emotion] = vertex.vertex_metrics(anims[-1], neutral, rig).eve
            except UserError:
                continue
            hit = {"frames": neutral.num_frames, "mouth_r": mouth, "upper_mm": upper,
                   "neutral_means": control.channel_means(neutral.weights).tolist(),
                   "level_means": levels}
            cache.put("control", k, hit)
        out[s.label] = hit
    return out


def run_control_label(item: Item, systems: list[System], cache: Cache,
                      intensity: float = DEFAULT_INTENSITY, engines: Engines | None = None) -> dict:
    """{system label: [[acted, requested, seen], ...]}: ``item``, acted in one emotion,
    animated in each other emotion; "seen" is the expression classifier's answer."""
    engines = Engines() if engines is None else engines
    animate = engines.animate

    base = _item_key(item)
    out = {}
    prep = None
    for s in systems:
        if not takes_explicit_emotion(s):
            continue
        k = Cache.key("control-label", base, asdict(s), intensity, FPS, SEED)
        hit = cache.get("control", k)
        if hit is None:
            prep = prep or prepare(item)
            speech = prep.with_text if s.transcript else prep.plain
            if speech is None:
                continue
            rows = []
            try:
                for emotion in EMOTIONS:
                    if emotion == item.emotion:
                        continue
                    anim = animate(speech, emotion=f"{emotion}:{intensity}", engine=s.engine,
                                   fps=FPS, seed=SEED)
                    rows.append([item.emotion, emotion, expression_classifier().predict(anim)])
            except UserError:
                continue
            hit = rows
            cache.put("control", k, hit)
        out[s.label] = hit
    return out


def held_out(items: list[Item], training) -> list[Item]:
    """The items a trained model never heard (all of them when none is benchmarked)."""
    return items if training is None else [i for i in items if training.status(i) is None]


# ------------------------------------------------------------------ diversity
def run_diversity(item: Item, systems: list[System], rig, cache: Cache, seeds: int, engines: Engines | None = None) -> dict:
    engines = Engines() if engines is None else engines
    animate = engines.animate

    base = _item_key(item)
    out = {}
    prep = None
    for s in systems:
        k = Cache.key("diversity", base, asdict(s), seeds, FPS)
        hit = cache.get("diversity", k)
        if hit is None:
            prep = prep or prepare(item)
            speech = prep.with_text if s.transcript else prep.plain
            if speech is None:
                continue
            try:
                anims = [animate(speech, emotion=s.emotion, engine=s.engine, fps=FPS, seed=seed)
                         for seed in range(seeds)]
            except UserError:
                continue
            hit = {"mm": diversity(anims, rig), "weights": diversity(anims)}
            cache.put("diversity", k, hit)
        out[s.label] = hit
    return out


# -------------------------------------------------------------- voice emotion
def voice_features_for(items: list[Item], cache: Cache, progress) -> np.ndarray:

    rows = []
    for item in progress(items, "voice features"):
        k = Cache.key("voice", _item_key(item))
        hit = cache.get("voice", k)
        if hit is None:
            hit = voice_features(load_audio(item.audio), 16000).tolist()
            cache.put("voice", k, hit)
        rows.append(hit)
    return np.array(rows)


VOICE_L2 = 3.0


def run_voice_emotion(items: list[Item], cache: Cache, progress, training=None) -> dict:
    """Leave-one-speaker-out UAR of each voice-emotion classifier on EmoDB's six shared
    emotions: the prosodic softmax baseline and the always-neutral chance row; and the
    installed model's emotion branch on the speakers it never trained on."""

    if not items:
        return {}
    labels = list(VOICE_LABELS)
    X = voice_features_for(items, cache, progress)
    y = [i.emotion for i in items]
    speakers = [i.speaker for i in items]
    classifiers: dict[str, Callable] = {
        "prosodic statistics + softmax regression": lambda: SoftmaxClassifier(labels, l2=VOICE_L2),
        "always neutral (chance)": lambda: AlwaysClassifier("neutral"),
    }
    out = {name: leave_one_speaker_out(X, y, speakers, make, labels).as_dict()
           for name, make in classifiers.items()}
    out.update(_model_voice_emotion(items, labels, cache, progress, training))
    return out


VOICE_LABELS = ("angry", "disgusted", "fearful", "happy", "sad", "neutral")


def _model_voice_emotion(items: list[Item], labels: list[str], cache: Cache, progress,
                         training) -> dict:
    """The installed model's own voice-emotion answer on the EmoDB speakers it never
    trained on (``training``: :func:`emoface.eval.heldout.training_data`). Nothing when
    it is not installed, or when what it trained on cannot be told."""
    if not auto_emotion_available() or training is None:
        return {}

    test = [i for i in items if training.status(i) is None]
    if not test:
        return {}
    preds = []
    voice = None
    for item in progress(test, "model voice emotion"):
        k = Cache.key("model-voice", _item_key(item))
        hit = cache.get("model-voice", k)
        if hit is None:
            voice = voice or VoiceEmotion()
            hit = voice.hear(Speech.from_file(item.audio)).top   # the classifier's answer, not the verdict
            cache.put("model-voice", k, hit)
        preds.append(hit)
    held = sorted({i.speaker for i in test})
    name = f"neural model as installed, 8-way (held-out speakers {', '.join(held)})"
    return {name: SpeakerFoldResult([i.emotion for i in test], preds,
                                    [i.speaker for i in test], labels).as_dict()}


FOLDS_RESULTS = Path("runs") / "folds" / "results.json"
FOLDS_COMMAND = "emoface dev emotion-folds"


WHISPER_EMOTION_RESULTS = Path("runs") / "voice_emotion_whisper" / "results.json"
WHISPER_EMOTION_COMMAND = "make voice-emotion"


def folds_results(relative: Path = FOLDS_RESULTS) -> dict | None:
    """The leave-one-speaker-out retraining of the emotion branch, when it has been run
    (``emoface dev emotion-folds`` writes runs/folds/results.json): pooled and
    per-speaker UAR; or, with ``relative`` the Whisper classifier's results
    (``make voice-emotion``). Looked for in the working folder, then the project."""

    for base in (Path.cwd(), PROJECT_DIR):
        path = base / relative
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                return None
            data["path"] = str(path)
            data["written"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
            return data
    return None


# ------------------------------------------------------------------- captures
def run_livelink(cache: Cache) -> dict | None:

    folder = default_folder()
    if not folder.is_dir():
        return None
    stamps = sorted(str(p.stat().st_mtime) for p in folder.rglob("*.csv"))
    k = Cache.key("livelink", str(folder), stamps)
    hit = cache.get("livelink", k)
    if hit is None:
        takes = load_takes(folder)
        anims = [t.anim for t in takes]
        hit = {"takes": len(takes), "minutes": sum(a.duration for a in anims) / 60,
               "blinks_per_min": motion.pooled_blink_rate(anims),
               "jitter": float(np.average([motion.jitter(a) for a in anims],
                                          weights=[a.duration for a in anims]))}
        cache.put("livelink", k, hit)
    return hit


# ----------------------------------------------------------------------- speed
def _speed_process(args: list[str]) -> dict:
    """One ``emoface dev speed`` run in a fresh process: its JSON, or the error."""
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "emoface", "dev", "speed", *args],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_speed(systems: list[System], seconds: float, progress) -> dict:
    """Each system timed in a fresh process (so peak memory is its own)."""
    out = {}
    for s in progress(systems, "speed"):
        out[s.label] = _speed_process(
            ["--engine", s.engine, "--seconds", str(seconds), "--emotion", s.emotion]
            + (["--transcript"] if s.transcript else []))
    return out


def run_model_speed(systems: list[System], seconds: float) -> dict:
    """The network alone per backend, and `emoface animate --engine neural` end to end,
    when the neural engine is among the systems."""
    if not any(capabilities(s.engine).trained for s in systems):
        return {}
    return {"model": _speed_process(["--model", "--seconds", str(seconds)]),
            "cli": _speed_process(["--cli", "--seconds", str(seconds)])}


def run_graphics(settings) -> dict:
    """The render and export benchmark (``emoface dev graphics``) in a fresh process: a GL
    context and USD's plugins never share a process with the rest of the suite."""
    import subprocess

    cmd = [sys.executable, "-m", "emoface", "dev", "graphics", "all", "--json",
           "--rigs", ",".join(settings.rigs), "--size", str(settings.size),
           "--frames", str(settings.frames), "--repeat", str(settings.repeat),
           "--seconds", str(settings.export_seconds)] + ([] if settings.video else ["--no-video"])
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["settings"] = asdict(settings)
    return out


# ------------------------------------------------------------------------ suite
def _training(systems: list[System]):
    """What the benchmarked trained engine learnt from, or None (no such engine, or its
    weights carry no readable recipe)."""
    if not any(capabilities(s.engine).trained for s in systems):
        return None

    return model_training_data()


def run_suite(suite: Suite, systems: list[System], out_dir: Path | None, *,
              use_cache: bool = True, show_progress: bool = True, speed: bool = True) -> dict:
    """Everything a report needs, as plain JSON-able data."""

    cache = Cache(Path(out_dir) / "cache" if (out_dir and use_cache) else None)

    def progress(seq, desc):
        seq = list(seq)
        if not show_progress:
            return seq
        from tqdm import tqdm

        return tqdm(seq, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)

    rig = reference_rig()
    engines = Engines()   # each engine loaded once for the whole run
    started = time.time()
    timings = {}
    results: dict = {"suite": suite.name, "systems": [asdict(s) for s in systems],
                     "fps": FPS, "seed": SEED, "items": {}, "notes": list(suite.notes)}
    training = _training(systems)
    results["training"] = _training_summary(suite, systems, training)
    t = time.time()
    plots = set(suite.plots)
    for item in progress(suite.lipsync, f"{suite.name}: lip sync"):
        results["items"][item.id] = {
            "dataset": item.dataset, "reference": item.reference, "speaker": item.speaker,
            "scores": run_lipsync(item, systems, rig, cache, keep_curves=item.id in plots,
                                  engines=engines)}
    timings["lipsync"] = time.time() - t
    results["curves"] = {}
    for item in suite.lipsync:
        if item.id in plots:
            data = stored_curves(cache, item, systems)
            if data is not None:
                results["curves"][item.id] = data  # arrays: the report draws, never saves them
    t = time.time()
    expr = {}
    for item in progress(suite.expression, "expression"):
        expr[item.id] = run_expression(item, systems, cache, engines=engines)
    results["expression"] = expr
    auto = {}
    if auto_emotion_available():
        # The voice model's answer on speakers it trained on says little: held-out only.
        for item in progress(held_out(suite.voice_emotion, training), "auto emotion"):
            auto[item.id] = {"true": item.emotion, "speaker": item.speaker,
                             "pred": run_auto_expression(item, systems, cache, engines=engines)}
    results["auto_expression"] = auto
    results["auto_available"] = auto_emotion_available()
    timings["expression"] = time.time() - t
    t = time.time()
    content = held_out(suite.control_content, training)
    label = held_out(suite.control_label, training)
    results["control"] = {
        "content": {item.id: run_control_content(item, systems, rig, cache, engines=engines)
                    for item in progress(content, "control: content")},
        "label": {item.id: run_control_label(item, systems, cache, engines=engines)
                  for item in progress(label, "control: label")},
        "content_seconds": sum(_duration(i) for i in content),
        "label_speakers": sorted({i.speaker for i in label if i.speaker}),
        "held_out_only": training is not None}
    timings["control"] = time.time() - t
    t = time.time()
    results["diversity"] = {item.id: run_diversity(item, systems, rig, cache, suite.diversity_seeds,
                                                 engines=engines)
                            for item in progress(suite.diversity, "diversity")}
    results["diversity_seeds"] = suite.diversity_seeds
    timings["diversity"] = time.time() - t
    t = time.time()
    results["voice_emotion"] = run_voice_emotion(suite.voice_emotion, cache, progress, training)
    results["voice_emotion_items"] = len(suite.voice_emotion)
    results["folds"] = folds_results()
    results["whisper_emotion"] = folds_results(WHISPER_EMOTION_RESULTS)
    timings["voice_emotion"] = time.time() - t
    results["livelink"] = run_livelink(cache) if suite.livelink else None
    t = time.time()
    run_speed_now = speed and suite.speed_seconds
    results["speed"] = run_speed(systems, suite.speed_seconds, progress) if run_speed_now else {}
    results["model_speed"] = run_model_speed(systems, suite.speed_seconds) if run_speed_now \
        else {}
    results["speed_seconds"] = suite.speed_seconds
    timings["speed"] = time.time() - t
    t = time.time()
    results["graphics"] = run_graphics(suite.graphics) if (speed and suite.graphics) else None
    timings["graphics"] = time.time() - t
    timings["total"] = time.time() - started
    results["timings"] = timings
    return results


def _duration(item: Item) -> float:

    return audio_duration(item.audio) if item.audio else 0.0


def _training_summary(suite: Suite, systems: list[System], training) -> dict | None:
    """What the report needs to mark cells: the training data in words, and the status
    of every input (None: held out)."""
    if training is None:
        if any(capabilities(s.engine).trained for s in systems):
            return {"unknown": True}
        return None
    items = {i.id: i for group in (suite.lipsync, suite.expression, suite.voice_emotion,
                                   suite.diversity, suite.control_content, suite.control_label)
             for i in group}
    return {**training.summary(), "engines": sorted(trained_engines()),
            "status": {item_id: training.status(i) for item_id, i in items.items()}}
