"""What the benchmark runs on: the quick suite, the full suite, and a user's own data.

An :class:`Item` is one utterance with what we know about it: a transcript (or none), and
the *reference* its metrics are judged against:

  ``exact``      espeak-ng synthesised speech: the synthesiser's own phone events
  ``hand``       EmoDB: the corpus's hand-labelled phones (lablaut)
  ``alignment``  LibriVox / Asterisk: forced alignment of the transcript (the rules engine
                 with the transcript stands on exactly these phones, so it is the
                 reference there, not a contestant)
  ``curves``     a user's data: captured ARKit curves beside the audio

For the first three the reference animation (the "teacher") is the rules engine driven by
the reference phones; there is no captured 3D ground truth for this speech.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..animation import Animation
from ..arkit import NUM_BLENDSHAPES
from ..audio.io import AUDIO_EXTENSIONS
from ..audio.lablaut import lablaut_path_for
from ..errors import UserError
from ..outputs import read
from ..paths import shared_data_dir
from .emotion import EMODB_EMOTIONS

REFERENCE_LABELS = {
    "exact": "espeak-ng exact phones",
    "hand": "EmoDB hand-labelled phones",
    "alignment": "forced alignment of the transcript",
    "curves": "captured curves beside the audio",
}


@dataclass(frozen=True)
class Item:
    id: str                      # "librivox/0870", "emodb/03a01Fa", "espeak/03-sad"
    dataset: str                 # librivox | asterisk | emodb | espeak | user
    reference: str               # exact | hand | alignment | curves
    audio: str | None = None     # a file; None for synthesised speech
    text: str | None = None      # transcript; None when there is none (EmoDB)
    lablaut: str | None = None
    curves: str | None = None    # reference curves of a user's item
    emotion: str | None = None   # the acted emotion (EmoDB) or the voice style (espeak)
    speaker: str | None = None


@dataclass(frozen=True)
class GraphicsSettings:
    """How hard the render and export benchmark works (``emoface.eval.graphics``)."""

    size: int = 512                      # render width and height, pixels
    frames: int = 150                    # rendered per timed pass
    repeat: int = 3                      # timed passes; the median counts
    export_seconds: float = 60.0         # length of the exported animation (30 fps)
    rigs: tuple[str, ...] = ("default", "ict")
    video: bool = True                   # also time the whole .mp4 path


@dataclass
class Suite:
    name: str
    lipsync: list[Item]                 # lip sync, vertex and motion metrics, every system
    voice_emotion: list[Item]           # EmoDB utterances for the voice classifiers (LOSO)
    expression: list[Item]              # held-out recorded speech animated in every emotion
    diversity: list[Item]               # animated with several seeds
    plots: list[str]                    # item ids whose curves are drawn
    speed_seconds: float = 60.0         # length of the speed clip
    diversity_seeds: int = 3
    livelink: bool = True               # captured blink rate and jitter as references
    notes: list[str] = field(default_factory=list)
    # Emotion control: speech animated neutral and in every emotion at several intensities
    # (content kept, intensity monotonic), and acted EmoDB speech animated in every other
    # emotion (the face follows the label, not the voice). Inputs a trained model has
    # heard are dropped from both when that model is benchmarked.
    control_content: list[Item] = field(default_factory=list)
    control_label: list[Item] = field(default_factory=list)
    graphics: GraphicsSettings | None = None   # render and export benchmark; None: skipped


# Sentences for synthetic items; never used to train the expression classifier.
EVAL_SENTENCES = (
    ("Bob brought a big map of the bay.", "neutral"),
    ("Maybe we should move the boat before the wind picks up.", "happy"),
    ("I remember the summer when the apple trees were blooming.", "sad"),
    ("Put the paper back where you found it, please.", "angry"),
    ("Something moved behind the bushes by the pond.", "fearful"),
    ("The soup smelled like a bucket of old fish.", "disgusted"),
    ("You bought a whole pumpkin pie for me?", "surprised"),
    ("Members of the board made promises they never kept.", "contempt"),
    ("My umbrella broke in the middle of the marketplace.", "neutral"),
    ("A bumblebee buzzed above the purple blossoms.", "happy"),
    ("The ambulance stopped beside the empty bench.", "sad"),
    ("Please pass me the blue plate and the bread.", "neutral"),
)


def _librivox(root: Path) -> list[Item]:
    folder = root / "speech" / "librivox"
    items = []
    for line in (folder / "transcription").read_text().splitlines():
        m = re.match(r"^\s*<s>\s*(.*?)\s*</s>\s*\((.+)\)\s*$", line)
        if m:
            text, stem = m.groups()
            items.append(Item(f"librivox/{stem.rsplit('-', 1)[-1]}", "librivox", "alignment",
                              audio=str(folder / f"{stem}.wav"), text=text, speaker="librivox"))
    return items


def _asterisk(root: Path) -> list[Item]:
    folder = root / "speech" / "asterisk"
    items = []
    for line in (folder / "transcripts.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(";") or ": " not in line:
            continue
        name, text = line.split(": ", 1)
        text = text.strip()
        wav = folder / f"{name.strip()}.wav"
        # "[this is a simple beep tone]": a description of a sound, not speech
        if not wav.exists() or not text or text.startswith("["):
            continue
        items.append(Item(f"asterisk/{name.strip()}", "asterisk", "alignment", audio=str(wav),
                          text=text, speaker="asterisk"))
    return items


def _emodb(root: Path, six_only: bool = False) -> list[Item]:

    folder = root / "emodb" / "wav"
    items = []
    for wav in sorted(folder.glob("*.wav")):
        letter = wav.stem[5]
        if six_only and letter not in EMODB_EMOTIONS:
            continue
        lab = lablaut_path_for(wav)
        items.append(Item(f"emodb/{wav.stem}", "emodb", "hand", audio=str(wav),
                          lablaut=str(lab) if lab else None,
                          emotion=EMODB_EMOTIONS.get(letter, "boredom"), speaker=wav.stem[:2]))
    return items


# The voice the synthetic items are spoken in. Named as the corpus names its TTS speakers
# (``espeak-`` + voice), so the held-out check can tell whether a model heard this voice.
ESPEAK_VOICE = "en-us"


def _espeak(sentences=EVAL_SENTENCES) -> list[Item]:
    return [Item(f"espeak/{k + 1:02d}-{emotion}", "espeak", "exact", text=text, emotion=emotion,
                 speaker=f"espeak-{ESPEAK_VOICE}") for k, (text, emotion) in enumerate(sentences)]


def _pick(items: list[Item], ids) -> list[Item]:
    by_id = {i.id: i for i in items}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise UserError(f"benchmark inputs missing from the shared data: {', '.join(missing)}")
    return [by_id[i] for i in ids]


def _require_data(root: Path) -> None:
    needed = [root / "speech" / "librivox", root / "speech" / "asterisk", root / "emodb",
              root / "ict-facekit" / "ict_facekit.npz"]
    absent = [str(p) for p in needed if not p.exists()]
    if absent:
        raise UserError(f"the benchmark suites need the shared data; missing {absent[0]} "
                        f"(set EMOFACE_SHARED_DATA, or use --data DIR for your own)")


QUICK_ASTERISK = ("agent-alreadyon", "auth-incorrect", "conf-getconfno", "vm-goodbye")
QUICK_EMODB = ("03a01Fa", "08a01Na", "11a02Tc", "14a05Wa")
# Voice emotion in the quick suite: two texts by all eight speakers.
QUICK_VOICE_TEXTS = ("a01", "b01")
# Label following in the quick suite: one text by two speakers (the two a model trained by
# the bundled recipe has not heard; with another model the inputs it heard are dropped).
QUICK_CONTROL_TEXT = "a01"
QUICK_CONTROL_SPEAKERS = ("13", "14")


def quick_suite(root: Path | None = None) -> Suite:
    """A handful of fixed inputs; well under 3 minutes on a 2-core laptop."""
    root = Path(root) if root else shared_data_dir()
    _require_data(root)
    libri, ast, emodb = _librivox(root), _asterisk(root), _emodb(root)
    lipsync = (_pick(libri, ["librivox/0880", "librivox/0930"])
               + _pick(ast, [f"asterisk/{n}" for n in QUICK_ASTERISK])
               + _pick(emodb, [f"emodb/{n}" for n in QUICK_EMODB])
               + _espeak(EVAL_SENTENCES[:2]))
    six = _emodb(root, six_only=True)
    return Suite(
        name="quick", lipsync=lipsync,
        voice_emotion=[i for i in six if i.id.split("/")[1][2:5] in QUICK_VOICE_TEXTS],
        expression=_pick(libri, ["librivox/0880"]) + _pick(ast, ["asterisk/agent-alreadyon"]),
        diversity=_pick(libri, ["librivox/0880"]),
        plots=["espeak/01-neutral", "emodb/03a01Fa"],
        speed_seconds=10.0, livelink=True,
        notes=["quick suite: fixed small inputs; numbers are indicative, see the full suite"],
        control_content=_pick(libri, ["librivox/0880"]),
        control_label=[i for i in six if i.id.split("/")[1][2:5] == QUICK_CONTROL_TEXT
                       and i.speaker in QUICK_CONTROL_SPEAKERS])


def full_suite(root: Path | None = None) -> Suite:
    """Every held-out set we have: all LibriVox clips, every spoken Asterisk prompt, all of
    EmoDB, the synthetic sentences, and the Live Link captures for blink statistics."""
    root = Path(root) if root else shared_data_dir()
    _require_data(root)
    libri, ast = _librivox(root), _asterisk(root)
    six = _emodb(root, six_only=True)
    expression_ast = [i for i in ast if len((i.text or "").split()) >= 6][:5]
    return Suite(
        name="full", lipsync=libri + ast + _emodb(root) + _espeak(),
        voice_emotion=six, expression=libri + expression_ast, diversity=libri,
        plots=["espeak/01-neutral", "emodb/03a01Fa", "librivox/0870"],
        speed_seconds=60.0, livelink=True,
        control_content=libri, control_label=six, graphics=GraphicsSettings())


# ----------------------------------------------------------------- a user's data
CURVE_EXTENSIONS = (".npy", ".npz", ".csv", ".json")


def user_suite(folder: str | Path) -> Suite:
    """Audio files under ``folder`` with reference curves of the same name anywhere under
    it: ``.npy`` (T, 52) ARKit weights at 30 fps in ARKit order (the 3D-ETF layout, e.g.
    ``audio/x.wav`` + ``blendshape/x.npy``), a Live Link ``.csv``, an emoface ``.npz`` or
    ``.json``. A ``.txt`` of the same name beside the audio is its transcript."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"no such folder: {str(folder)!r}")
    curves: dict[str, list[Path]] = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in CURVE_EXTENSIONS and p.is_file():
            curves.setdefault(p.stem, []).append(p)
    items = []
    for audio in sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS):
        found = curves.get(audio.stem, [])
        if not found:
            continue
        if len(found) > 1:
            near = [c for c in found if c.parent == audio.parent]
            if len(near) != 1:
                raise UserError(f"{audio}: several reference curve files named {audio.stem}.*; "
                                f"keep one")
            found = near
        txt = audio.with_suffix(".txt")
        text = txt.read_text(encoding="utf-8").strip() if txt.exists() else None
        rel = audio.relative_to(folder).with_suffix("").as_posix()
        items.append(Item(f"user/{rel}", "user", "curves", audio=str(audio), text=text or None,
                          curves=str(found[0])))
    if not items:
        raise UserError(f"no audio with reference curves under {str(folder)!r}: put x.npy "
                        f"(T, 52 weights at 30 fps), x.csv, x.npz or x.json beside x.wav")
    return Suite(name=f"data:{folder}", lipsync=items, voice_emotion=[], expression=[],
                 diversity=items[:1], plots=[items[0].id], speed_seconds=0.0, livelink=False)


def load_reference_curves(path: str | Path, fps: float = 30.0):
    """A user's reference curves as an Animation (``.npy`` is taken as 30 fps weights)."""
    import numpy as np


    p = Path(path)
    if p.suffix.lower() == ".npy":
        try:
            w = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{str(p)!r} is not a readable .npy array ({exc})") from None
        if w.ndim != 2 or w.shape[1] != NUM_BLENDSHAPES:
            raise UserError(f"{str(p)!r} holds {w.shape}; expected (frames, 52) ARKit weights")
        return Animation(np.clip(w, 0, 1).astype(np.float32), fps)
    return read(p)


SUITES = {"quick": quick_suite, "full": full_suite}
