"""``emoface live``: speech in (a file played in real time, or the microphone), frames out to
Unreal's Live Link or a VMC app as they are made (registered by :data:`emoface.cli.COMMANDS`).

    emoface live speech.wav --to livelink://192.168.1.20        # Unreal, port 11111
    emoface live mic --to vmc://127.0.0.1:39539 --emotion happy  # VSeeFace, Warudo, ...
"""
from __future__ import annotations

from ..emotion import parse_emotion
from ..engines import MAX_SEED, default_engine_name, engine_class, list_engines, load_engine
from ..stream import live, livelink, vmc
from . import bounded
from .core import _fps


def add_live(sub) -> None:
    p = sub.add_parser(
        "live", help="animate a file or the microphone live, to Unreal Live Link or VMC",
        description="Animate speech as it plays and send every frame as it is due: "
                    "livelink://HOST[:PORT] sends Live Link Face packets (Unreal, port "
                    f"{livelink.DEFAULT_PORT} by default), vmc://HOST[:PORT] VMC protocol OSC "
                    f"(VSeeFace, Warudo, VMagicMirror; port {vmc.DEFAULT_PORT}). A file is "
                    "played in real time; `mic` reads the microphone (an engine that streams "
                    "and a sound card needed). docs/live-outputs.md has the packet layouts.")
    p.add_argument("audio", help="an audio file, or `mic` for the microphone")
    p.add_argument("--to", required=True, metavar="URL",
                   help="livelink://HOST[:PORT] or vmc://HOST[:PORT]")
    p.add_argument("--emotion", default="auto",
                   help="auto | NAME | NAME:INTENSITY | mix a:0.6+b:0.3 | keyframes (default auto)")
    p.add_argument("--intensity", type=bounded("intensity", 0.0, 1.0), default=None,
                   help="intensity in [0, 1] for emotions written without one (default 0.7)")
    p.add_argument("--engine", default=None,
                   help=f"{' | '.join(list_engines())} (default {default_engine_name()})")
    p.add_argument("--fps", type=_fps, default=60.0,
                   help="frames sent per second: 30 or 60 (default 60, the phone's rate)")
    p.add_argument("--seed", type=bounded("seed", 0, MAX_SEED, int), default=0,
                   help="seed for blinks, gaze, head (default 0)")
    p.add_argument("--subject", default=livelink.DEFAULT_SUBJECT,
                   help=f"Live Link subject name (default {livelink.DEFAULT_SUBJECT})")
    p.add_argument("--names", choices=vmc.NAME_STYLES, default="pascal",
                   help="VMC blend shape names: pascal (EyeBlinkLeft, perfect-sync clips; "
                        "default) or camel (eyeBlinkLeft, Apple's spelling)")
    p.add_argument("--device", default=None,
                   help="microphone: a sounddevice device number or name (default: the "
                        "system's input)")
    p.set_defaults(func=_run_live)


def _run_live(args) -> int:
    from tqdm import tqdm


    target = live.parse_target(args.to)               # a bad URL fails before any work
    live.resolve_host(target)
    spec = parse_emotion(args.emotion, args.intensity)
    device = int(args.device) if args.device and args.device.isdigit() else args.device
    live.check_source(args.audio, engine_class(args.engine), device)
    engine = load_engine(args.engine)
    with tqdm(desc=f"live to {target}", unit="frame", disable=None) as bar:
        report = live.run_live(args.audio, target, engine, spec, fps=args.fps, seed=args.seed,
                               subject=args.subject, names=args.names, device=device,
                               on_frame=lambda _frame: bar.update())
    print(f"sent {report.frames} frames ({report.seconds:.2f} s at {args.fps:g} fps) to "
          f"{target}; latest frame {max(report.max_late_s, 0) * 1000:.0f} ms behind its audio")
    return 0
