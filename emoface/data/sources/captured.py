"""Sources with captured target curves: a user's Live Link Face takes and the 3D-ETF
release of EmoTalk.

``livelink-take``: a folder (searched recursively) of Live Link Face CSVs, each with the
take's audio beside it under the same name (``take.csv`` + ``take.wav``; wav, flac, ogg
or mp3: the app records a .mov, extract its sound first, e.g.
``ffmpeg -i take.mov take.wav``). Optional sidecars with the same name: ``take.txt``, the
transcript (better phone timings for the teacher's exchange set), and ``take.json``, any
of ``text emotion intensity speaker language licence split``. Without a sidecar emotion,
a word of the file or folder name that names an emotion (``angry_take3``) is used at
intensity 0.7, else the emotion is unknown. The speaker defaults to the folder given on
the command line (one person's captures), the split to train. Curves keep the capture's
own frame rate.

``etf3d``: the 3D-ETF layout (EmoTalk, ICCV 2023): per clip a ``.npy`` of 52 ARKit weights
per frame at 30 fps, columns in alphabetical ARKit order, with the audio beside it
(``clip.npy`` + ``clip.wav``) or in a parallel folder (``blendshape/clip.npy`` +
``audio/clip.wav``). RAVDESS-named clips (``01-01-05-02-01-01-12``) give emotion,
intensity (normal 0.5, strong 1.0; calm is neutral), sentence and actor; actors 21-22
are val and 23-24 test. Other clips (HDTF) take the speaker from the name without its
trailing number and a split from a hash of the speaker.

For both, the teacher still renders the exchange set (every emotion, at the capture's
frame rate) from phone timings: forced alignment when a transcript is known, the phone
loop otherwise, because a capture is too precious to drop for want of a transcript.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ...animation import Animation
from ...audio.align import align_detailed, phone_loop_detailed
from ...emotion import DEFAULT_INTENSITY, canonical_emotion
from ...errors import UserError
from ...export.livelink_csv import read
from .common import (
    AUDIO_EXTENSIONS,
    Clip,
    Item,
    SkipClip,
    check_capture_span,
    find_audio_beside,
    load_audio_or_skip,
    safe_id,
    split_by_hash,
)

ETF_FPS = 30.0
ETF_LICENCE = "3D-ETF release terms (EmoTalk, Peng et al. 2023)"
LIVELINK_LICENCE = "owner's own capture"
RAVDESS_EMOTIONS = {"01": "neutral", "02": "neutral", "03": "happy", "04": "sad",
                    "05": "angry", "06": "fearful", "07": "disgusted", "08": "surprised"}
RAVDESS_INTENSITY = {"01": 0.5, "02": 1.0}
RAVDESS_TEXTS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}
RAVDESS_VAL_ACTORS = ("21", "22")
RAVDESS_TEST_ACTORS = ("23", "24")
_RAVDESS = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_TARGET_FOLDERS = {"blendshape", "blendshapes", "bs", "npy", "targets"}
_AUDIO_FOLDERS = ("audio", "wav", "wavs")


def phones_for_capture(samples: np.ndarray, text: str | None):

    result = align_detailed(samples, text) if text else phone_loop_detailed(samples)
    return result.phones, result.method, result.note


def _emotion_from_name(*names: str) -> str | None:
    for name in names:
        for word in re.split(r"[^A-Za-z]+", name):
            if len(word) < 3:
                continue
            try:
                return canonical_emotion(word)
            except UserError:
                continue
    return None


def _clip_from_capture(samples, rate, anim: Animation, *, text, emotion, intensity, speaker,
                       split, language, licence, audio, extra) -> Clip:
    check_capture_span(anim.num_frames, anim.fps, len(samples) / 16000)
    phones, method, note = phones_for_capture(samples, text)
    return Clip(samples=samples, sample_rate=rate, language=language, speaker=speaker,
                split=split, licence=licence, phones=phones, phone_method=method,
                phone_note=note, audio=audio, transcript=text, emotion=emotion,
                intensity=intensity if emotion is not None else None, captured=anim,
                flags=["telephone"] if 0 < rate <= 8000 else [], extra=extra)


# --------------------------------------------------------------- livelink-take

def plan_livelink(root: Path, options) -> list[Item]:
    if root.is_file():
        csvs, base = [root], root.parent
    elif root.is_dir():
        csvs, base = sorted(root.rglob("*.csv")), root
    else:
        raise UserError(f"livelink-take: {str(root)!r} does not exist")
    if not csvs:
        raise UserError(f"livelink-take: no .csv takes under {str(root)!r}")
    speaker = f"livelink-{safe_id(base.resolve().name) or 'user'}"
    items = []
    for csv in csvs:
        rel = csv.relative_to(base).with_suffix("")
        items.append(Item(f"livelink-{safe_id(str(rel))}", "livelink-take",
                          {"csv": str(csv.resolve()), "speaker": speaker}))
    return items


def load_livelink(item: Item) -> Clip:

    csv = Path(item.params["csv"])
    side: dict = {}
    sidecar = csv.with_suffix(".json")
    if sidecar.is_file():
        try:
            side = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SkipClip(f"sidecar {sidecar.name!r} is not valid JSON ({exc})") from None
    audio = find_audio_beside(csv)
    if audio is None:
        others = [p.name for p in csv.parent.iterdir() if p.stem == csv.stem
                  and p.suffix.lower() in (".mov", ".mp4")]
        hint = f"; extract it: ffmpeg -i {others[0]} {csv.stem}.wav" if others else ""
        raise SkipClip(f"no audio beside {csv.name!r} (expected {csv.stem} with one of "
                       f"{', '.join(AUDIO_EXTENSIONS)}){hint}")
    try:
        anim = read(csv)
    except UserError as exc:
        raise SkipClip(str(exc)) from None
    samples, rate = load_audio_or_skip(audio)
    text = side.get("text")
    if text is None and csv.with_suffix(".txt").is_file():
        text = csv.with_suffix(".txt").read_text(encoding="utf-8").strip() or None
    try:
        emotion = canonical_emotion(side["emotion"]) if side.get("emotion") else \
            _emotion_from_name(csv.stem, csv.parent.name)
    except UserError as exc:
        raise SkipClip(f"sidecar {sidecar.name!r}: {exc}") from None
    intensity = float(side.get("intensity", DEFAULT_INTENSITY))
    if not 0.0 <= intensity <= 1.0:
        raise SkipClip(f"sidecar {sidecar.name!r}: intensity {intensity} is outside [0, 1]")
    return _clip_from_capture(
        samples, rate, anim, text=text, emotion=emotion, intensity=intensity,
        speaker=str(side.get("speaker", item.params["speaker"])),
        split=str(side.get("split", "train")), language=str(side.get("language", "en")),
        licence=str(side.get("licence", LIVELINK_LICENCE)), audio=str(audio.resolve()),
        extra={"capture": str(csv), "capture_fps": anim.fps})


# --------------------------------------------------------------- etf3d

def audio_for_npy(npy: Path) -> Path | None:
    found = find_audio_beside(npy)
    if found is not None:
        return found
    parts = npy.parts
    for i in range(len(parts) - 2, -1, -1):
        if parts[i].lower() in _TARGET_FOLDERS:
            for folder in _AUDIO_FOLDERS:
                candidate = Path(*parts[:i], folder, *parts[i + 1:])
                found = find_audio_beside(candidate)
                if found is not None:
                    return found
    return None


def etf_labels(stem: str) -> dict:
    """What a 3D-ETF clip's name tells: RAVDESS names carry emotion, intensity, sentence
    and actor; others (HDTF) only a speaker."""
    m = _RAVDESS.match(stem)
    if m:
        _modality, _channel, emo, level, statement, _rep, actor = m.groups()
        split = "val" if actor in RAVDESS_VAL_ACTORS else \
            "test" if actor in RAVDESS_TEST_ACTORS else "train"
        return {"speaker": f"ravdess-{actor}", "split": split, "dataset": "ravdess",
                "emotion": RAVDESS_EMOTIONS.get(emo),
                "intensity": RAVDESS_INTENSITY.get(level, 0.5),
                "text": RAVDESS_TEXTS.get(statement), "acted": True,
                "group": f"ravdess-{actor}-{statement}"}
    speaker = "hdtf-" + re.sub(r"[_-]\d+$", "", stem)
    return {"speaker": speaker, "split": split_by_hash(speaker), "dataset": "hdtf",
            "emotion": None, "intensity": None, "text": None, "acted": False, "group": None}


def plan_etf3d(root: Path, options) -> list[Item]:
    if not root.is_dir():
        raise UserError(f"etf3d: {str(root)!r} is not a folder")
    npys = sorted(root.rglob("*.npy"))
    if not npys:
        raise UserError(f"etf3d: no .npy blendshape files under {str(root)!r}")
    items = []
    for npy in npys:
        rel = npy.relative_to(root).with_suffix("")
        parts = [p for p in rel.parts if p.lower() not in _TARGET_FOLDERS]
        items.append(Item(f"etf3d-{safe_id('/'.join(parts))}", "etf3d", {"npy": str(npy.resolve())}))
    return items


def load_etf3d(item: Item) -> Clip:
    npy = Path(item.params["npy"])
    audio = audio_for_npy(npy)
    if audio is None:
        raise SkipClip(f"no audio for {npy.name!r} (beside it or in an audio/ or wav/ folder)")
    try:
        weights = np.load(npy, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a skip
        raise SkipClip(f"{npy.name!r} is not a readable .npy ({exc.__class__.__name__})") from None
    if weights.ndim != 2 or weights.shape[1] != 52 or len(weights) == 0:
        raise SkipClip(f"{npy.name!r} holds {weights.shape}, expected (frames, 52)")
    if not np.isfinite(weights).all():
        raise SkipClip(f"{npy.name!r} holds NaN or infinite weights")
    anim = Animation(weights.astype(np.float32), ETF_FPS, meta={"source": str(npy)})
    samples, rate = load_audio_or_skip(audio)
    labels = etf_labels(npy.stem)
    clip = _clip_from_capture(
        samples, rate, anim, text=labels["text"], emotion=labels["emotion"],
        intensity=labels["intensity"], speaker=labels["speaker"], split=labels["split"],
        language="en", licence=ETF_LICENCE, audio=str(audio.resolve()),
        extra={"capture": str(npy), "dataset": labels["dataset"]})
    clip.group = labels["group"]
    if labels["acted"]:
        clip.flags.append("acted")
    return clip
