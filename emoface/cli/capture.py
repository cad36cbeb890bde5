"""``emoface capture``: a talking-face video in, an ARKit take out (registered by
:data:`emoface.cli.COMMANDS`)."""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from .. import outputs
from ..capture import capture, video
from ..capture.preview import write_side_by_side


def add_capture(sub) -> None:
    p = sub.add_parser("capture", help="capture an ARKit take from a talking-face video",
                       description="Talking-face video in, ARKit animation out (52 weights, "
                                   "head, gaze) at the video's frame rate. The format follows "
                                   "the extension of -o (.csv .json .npz .glb .usda); .mp4 is "
                                   "the source beside the captured face, with the sound.")
    p.add_argument("video", help="a video file ffmpeg can read, showing one face")
    p.add_argument("-o", "--output", required=True, help="output file or folder")
    p.add_argument("--rig", default="default",
                   help="rig whose shapes are solved for and shown in the .mp4: default, ict "
                        "or a path (default: default)")
    p.add_argument("--neutral", choices=("video", "rig"), default="video",
                   help="the face at rest: estimated from the video (default), or the rig's")
    p.add_argument("--cache", default=None,
                   help="folder to cache face landmarks per video (and rig bases) in")
    p.set_defaults(func=_run_capture)


def _run_capture(args) -> int:

    source = Path(args.video)
    paths = outputs.plan(args.output, source.stem)  # bad -o fails before any work
    info = video.probe(source)
    anim = capture(source, rig=args.rig, cache_dir=args.cache, neutral=args.neutral)
    movies = [p for p in paths if p.suffix.lower() == ".mp4"]
    others = [p for p in paths if p not in movies]
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "audio.wav"
        audio = str(wav) if video.extract_audio(info, wav) else None
        written = outputs.write_all(anim, others, audio=audio)
        try:
            for m in movies:
                m.parent.mkdir(parents=True, exist_ok=True)
                write_side_by_side(anim, info, m, audio=audio, rig=args.rig)
                written.append(m)
        except BaseException:
            for p in written:
                with contextlib.suppress(OSError):
                    p.unlink()
            raise
    missing = anim.meta.get("missing_frames", [])
    for p in written:
        print(f"wrote {p}  ({anim.num_frames} frames, {anim.duration:.2f} s at {anim.fps:g} fps, "
              f"face found in {anim.num_frames - len(missing)})")
    if audio is None:
        print("note: the video has no sound track")
    return 0
