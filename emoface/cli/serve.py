"""``emoface serve``: the live WebSocket server (protocol in docs/live.md).

    emoface serve                                  # ws://127.0.0.1:8765/stream, neural engine
    emoface serve --port 9000 --token s3cret       # clients add ?token=s3cret
    emoface serve --host 0.0.0.0 --max-sessions 8  # reachable from other machines
"""
from __future__ import annotations

import sys

from ..engines import engine_class
from ..engines.base import streaming_engine_names
from ..errors import UserError
from . import bounded


def add_serve(sub) -> None:
    p = sub.add_parser(
        "serve", help="serve live animation over a WebSocket (and the browser viewer)",
        description="A WebSocket endpoint /stream: PCM16 audio in, blendshape frames out "
                    "as soon as the network's look-ahead allows (docs/live.md). Binds "
                    "127.0.0.1 unless --host says otherwise.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=bounded("port", 0, 65535, int), default=8765,
                   help="TCP port (default 8765; 0 picks a free one)")
    p.add_argument("--token", default=None,
                   help="require this token: ws://HOST:PORT/stream?token=T, or the "
                        "X-Emoface-Token header, or Authorization: Bearer T")
    p.add_argument("--engine", default="neural", help="engine for streams (default neural)")
    p.add_argument("--max-sessions", type=bounded("--max-sessions", 1, 10000, int), default=64,
                   help="streams at once; more are refused with close code 1013 (default 64)")
    p.add_argument("--max-message", type=bounded("--max-message", 1024, 1 << 30, int),
                   default=1 << 20, metavar="BYTES",
                   help="largest message accepted; larger closes with 1009 (default 1 MiB)")
    p.add_argument("--idle-timeout", type=bounded("--idle-timeout", 0.1, 86400), default=30.0,
                   metavar="S", help="close a stream silent this long, code 1001 (default 30)")
    p.add_argument("--workers", type=bounded("--workers", 0, 256, int), default=None,
                   help="compute processes, each with its own copy of the engine (default: "
                        "one per CPU core, at most 4); 0 computes in the server process")
    p.set_defaults(func=_run_serve)


def _run_serve(args) -> int:
    cls = engine_class(args.engine)
    if not cls.capabilities.streams:
        raise UserError(f"the {args.engine} engine does not stream; engines that do: "
                        f"{', '.join(streaming_engine_names())}")
    options = dict(max_sessions=args.max_sessions, max_message_bytes=args.max_message,
                   idle_timeout_s=args.idle_timeout)
    if args.workers is not None:
        options["workers"] = args.workers
    try:
        from ..stream.server import Limits, serve_forever
    except ImportError as exc:
        raise UserError(f"emoface serve needs the live extra ({exc.name} is missing): "
                        "pip install 'emoface[live]'") from None

    def ready(host, port):
        print(f"emoface: serving ws://{host}:{port}/stream (viewer: http://{host}:{port}/); "
              "Ctrl-C stops", file=sys.stderr, flush=True)

    try:
        serve_forever(args.host, args.port, engine=args.engine, token=args.token,
                      limits=Limits(**options), ready=ready)
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
