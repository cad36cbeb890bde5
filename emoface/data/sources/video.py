"""``video``: talking-face videos whose targets are captured from the video itself
(:func:`emoface.capture.capture`), with the video's sound as the clip's audio.

Each video (``.mp4 .mov .mkv .webm .avi`` under the folder, recursively) becomes one clip:
its soundtrack is written as 16 kHz audio, its face is captured into ARKit curves at the
video's frame rate and resampled to the corpus's 30 fps, and the teacher still renders the
exchange set on the same frame grid from phone timings (forced alignment when a transcript
is known, the phone loop otherwise), as for every captured source.

Transcripts: GRID's layout (``align/<name>.align`` beside the videos, word timings in
1/25000 s) or a ``<name>.txt`` beside the video. A GRID folder (one holding ``align/``)
keeps its real-motion split: sorted by name, only the first :data:`GRID_FIT_CLIPS` videos
are planned (the fitting side of :func:`emoface.eval.realmotion.grid_split`); the rest are
the benchmark's held-out sentences and never enter a corpus. Of the planned videos every
:data:`VAL_EVERY`-th by name goes to the ``val`` split, to choose checkpoints on: a split
by sentence, not by speaker (``extra.split_by``; one filmed speaker, and the benchmark is
that speaker's other sentences).

The person is taken as speaking neutrally (GRID's commands are read without acting): the
clip's emotion is ``neutral``. Training uses the captured curves only under the neutral
condition (``emoface.train.data``): there is no capture of this utterance in any other
emotion to pair it with.

Needs the capture extra (mediapipe, imageio-ffmpeg); without it every clip is skipped with
the reason, and a rerun with ``--retry-skipped`` builds them once it is installed.
"""
from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from ...capture import capture
from ...capture import video as capture_video
from ...errors import UserError
from ..teacher import FPS
from .captured import phones_for_capture
from .common import Clip, Item, SkipClip, check_capture_span, load_audio_or_skip, safe_id

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi")
GRID_FIT_CLIPS = 200     # emoface.eval.realmotion.FIT_CLIPS: the rest are held out
VAL_EVERY = 10
GRID_SILENCE = frozenset({"sil", "sp"})
CAPTURE_VERSION = "capture-v1"   # bump when the capture changes what it returns
LICENCE_GRID = "GRID corpus, Cooke et al. 2006, CC BY 4.0"


def missing_module() -> str | None:
    for module in ("mediapipe", "imageio_ffmpeg"):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def is_grid(root: Path) -> bool:
    return (root / "align").is_dir()


def grid_transcript(video: Path) -> str | None:
    """The words of GRID's ``align/<stem>.align`` (silences left out), or None."""
    path = video.parent / "align" / f"{video.stem}.align"
    if not path.is_file():
        return None
    words = [parts[2] for parts in (line.split() for line in path.read_text().splitlines())
             if len(parts) == 3 and parts[2] not in GRID_SILENCE]
    return " ".join(words) or None


def plan(root: Path, options) -> list[Item]:
    if not root.is_dir():
        raise UserError(f"video: {str(root)!r} is not a folder")
    videos = sorted((p for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS
                     and p.is_file()), key=lambda p: p.relative_to(root).as_posix())
    if not videos:
        raise UserError(f"video: no videos ({' '.join(VIDEO_EXTENSIONS)}) under {str(root)!r}")
    grid = is_grid(root)
    if grid:
        videos = sorted(videos, key=lambda p: p.name)[:GRID_FIT_CLIPS]
    speaker = f"video-{safe_id(root.resolve().name) or 'face'}"
    items = []
    for i, path in enumerate(videos):
        rel = path.relative_to(root).with_suffix("")
        split = "val" if i % VAL_EVERY == VAL_EVERY - 1 else "train"
        items.append(Item(f"video-{safe_id(str(rel))}", "video",
                          {"video": str(path.resolve()), "speaker": speaker, "split": split,
                           "grid": grid, "capture": CAPTURE_VERSION, "fps": FPS}))
    return items


def transcript_for(video: Path) -> str | None:
    text = grid_transcript(video)
    if text is None and video.with_suffix(".txt").is_file():
        text = video.with_suffix(".txt").read_text(encoding="utf-8").strip() or None
    return text


def load(item: Item) -> Clip:
    missing = missing_module()
    if missing:
        raise SkipClip(f"{missing} is not installed (pip install 'emoface[capture]')")
    video = Path(item.params["video"])
    try:
        info = capture_video.probe(video)
    except UserError as exc:
        raise SkipClip(str(exc)) from None
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "sound.wav"
        if not capture_video.extract_audio(info, wav):
            raise SkipClip(f"{video.name!r} has no readable soundtrack")
        samples, _rate = load_audio_or_skip(wav)
    try:
        take = capture(video, progress=False)
    except UserError as exc:
        raise SkipClip(str(exc)) from None
    take = take.resample(float(item.params["fps"]))
    check_capture_span(take.num_frames, take.fps, len(samples) / 16000)
    text = transcript_for(video)
    phones, method, note = phones_for_capture(samples, text)
    grid = bool(item.params.get("grid"))
    return Clip(samples=samples, sample_rate=16000, store_rate=16000, language="en",
                speaker=item.params["speaker"], split=item.params["split"],
                licence=LICENCE_GRID if grid else "owner's own video", phones=phones,
                phone_method=method, phone_note=note, audio=None, transcript=text,
                emotion="neutral", intensity=0.0, captured=take,
                extra={"capture": str(video), "capture_fps": info.fps,
                       "capture_version": CAPTURE_VERSION, "split_by": "sentence"})
