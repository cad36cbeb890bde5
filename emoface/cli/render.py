"""``emoface render`` and ``emoface plot``: look at an animation.

    emoface render take.npz --audio speech.wav -o take.mp4            # default head, 3/4 view
    emoface render take.csv --audio speech.wav -o take.mp4 --rig ict --view front
    emoface render happy.npz --compare sad.npz angry.npz --labels happy sad angry \\
        --audio speech.wav -o emotions.mp4                              # side by side
    emoface render take.npz -o still.png --frame 42                     # one frame, no audio
    emoface render take.npz --compare capture.npz -o pair.png --frame 42  # one frame of each
    emoface plot take.npz --audio speech.wav -o curves.png              # key curves
"""
from __future__ import annotations

from ..errors import UserError
from ..files import check_writable
from ..outputs import read
from ..render.plot import plot_animation, read_phones
from ..render.video import audio_duration, resolve_rig, write_comparison, write_still
from . import bounded


def add_render(sub) -> None:
    p = sub.add_parser(
        "render", help="render an animation as a preview video (or one frame as a PNG)",
        description="Render an animation on a rig with the speech muxed in (H.264 + AAC), "
                    "or several animations side by side with --compare.")
    p.add_argument("animation", help="animation file (.npz .csv .json .glb .usd[a])")
    p.add_argument("-o", "--output", required=True, help="output .mp4 (or .png for one frame)")
    p.add_argument("--audio", help="the speech the animation goes with (required for .mp4)")
    p.add_argument("--silent", action="store_true",
                   help="write an .mp4 without sound when there is no audio")
    p.add_argument("--compare", nargs="+", default=[], metavar="ANIM",
                   help="more animations to show beside the first (same frame count)")
    p.add_argument("--labels", nargs="+", metavar="TEXT",
                   help="one label per panel (default: file names)")
    p.add_argument("--rig", default="default",
                   help="default | ict | a .glb/.gltf | an .npz rig | a folder of OBJ shapes")
    p.add_argument("--mapping", default=None, help="JSON retargeting the rig's shapes")
    p.add_argument("--size", type=bounded("size", 64, 4096, int), default=512,
                   help="pixels per panel side, 64 to 4096 (default 512)")
    p.add_argument("--view", default="three-quarter", choices=("front", "three-quarter", "side"))
    p.add_argument("--frame", type=bounded("frame", 0, 10**9, int), default=None,
                   help="frame for a .png output (default: the middle one); with --compare, "
                        "that frame of each animation side by side")
    p.set_defaults(func=_run_render)


def _run_render(args) -> int:
    import time
    from pathlib import Path


    out = Path(args.output)
    ext = out.suffix.lower()
    if ext not in (".mp4", ".png"):
        raise UserError(f"render writes .mp4 (video) or .png (one frame), not {str(out)!r}")
    check_writable(out)
    paths = [args.animation, *args.compare]
    if args.labels is not None and len(args.labels) != len(paths):
        raise UserError(f"--labels gives {len(args.labels)} labels for {len(paths)} animations")
    if ext == ".mp4" and args.audio is None and not args.silent:
        raise UserError("render needs the speech: give --audio AUDIO (or --silent for a video "
                        "without sound)")
    if ext == ".mp4" and args.audio is not None:

        audio_duration(args.audio)  # a missing or broken audio file fails before rendering
    anims = [read(p) for p in paths]

    rig = resolve_rig(args.rig, args.mapping)
    start = time.perf_counter()
    labels = args.labels
    if labels is None and len(anims) > 1:
        labels = [Path(p).stem for p in paths]
    if ext == ".png":
        write_still(anims, out, args.frame, rig=rig, size=args.size, view=args.view,
                    labels=labels)
        print(f"wrote {out}")
        return 0
    write_comparison(anims, out, audio=args.audio, labels=labels, rig=rig, size=args.size,
                     view=args.view, allow_silent=args.silent)
    took = time.perf_counter() - start
    frames = max(a.num_frames for a in anims)
    print(f"wrote {out} ({len(anims)} panel{'s' * (len(anims) > 1)}, ~{frames} frames, "
          f"{took:.1f} s)")
    return 0


def add_plot(sub) -> None:
    p = sub.add_parser(
        "plot", help="plot an animation's key curves over the waveform",
        description="Plot jawOpen, mouthClose, lip aperture, smile, brows, blinks and head "
                    "rotation, over the waveform with phone labels when available.")
    p.add_argument("animation", help="animation file (.npz .csv .json .glb .usd[a])")
    p.add_argument("-o", "--output", required=True, help="image file (.png .svg .pdf)")
    p.add_argument("--audio", help="draw this audio's waveform on top")
    p.add_argument("--phones", help="phone timings: JSON [[start, end, label], ...] or "
                                    "'start end label' lines (default: the animation's own)")
    p.set_defaults(func=_run_plot)


def _run_plot(args) -> int:

    check_writable(args.output)
    phones = read_phones(args.phones) if args.phones else None
    anim = read(args.animation)
    plot_animation(anim, args.output, audio=args.audio, phones=phones)
    print(f"wrote {args.output}")
    return 0
