"""``emoface serve``: the WebSocket endpoint ``/stream`` (protocol: :mod:`.protocol`,
docs/live.md) and plain HTTP GET for the browser viewer.

    GET /                   emoface/stream/viewer/index.html (404 until it exists)
    GET /viewer/<path>      a file under emoface/stream/viewer/
    GET /head.glb           the bundled head with its 52 ARKit morph targets
    GET /stream + Upgrade   the live stream (with ?token=T or a header when --token is set)

Compute runs off the event loop, in worker processes (``Limits.workers``, one per core;
each loads the engine once and computes its sessions) or with ``workers=0`` on one thread
of this process (:mod:`.compute`), in ticks that batch every waiting session's audio
(:mod:`.ticks`); every limit answers with an error message and a close code
(:class:`Limits`).
Binds 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import http
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..engines import load_engine
from ..errors import UserError
from ..threads import one_maths_thread
from . import pages
from .compute import LocalCompute, ProcessCompute, check_engine
from .protocol import (
    CLOSE_BUSY,
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    ProtocolError,
    error_message,
    parse_config,
    parse_control,
    ready_message,
)
from .session import Session

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_HEADER = "X-Emoface-Token"
SEND_BUFFER_BYTES = 64 << 10   # kernel send buffer per session: ~3 s of JSON frames


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = 1 << 20     # 1 MiB: over 10 s of 48 kHz PCM16 in one message
    max_sessions: int = 64
    idle_timeout_s: float = 30.0         # no message for this long: closed (1001)
    config_timeout_s: float = 10.0       # the first message must come within this
    max_pending_s: float = 5.0           # audio waiting for compute before reading pauses
    max_queued_frames: int = 300         # frames waiting to be sent (10 s at 30 fps)
    # Compute processes (0: a thread of the server's): one per core, at most 4 (each holds
    # a copy of the engine, ~450 MB; 25 streams cost one 0.5 to 0.75 of a core).
    workers: int = min(4, max(1, os.cpu_count() or 1))


def _text(status: int, text: str) -> Response:
    body = text.encode()
    return Response(status, http.HTTPStatus(status).phrase,
                    Headers([("Content-Type", "text/plain; charset=utf-8"),
                             ("Content-Length", str(len(body)))]), body)


def _file(path: Path) -> Response:
    body = path.read_bytes()
    return Response(200, "OK", Headers([("Content-Type", pages.content_type(path)),
                                        ("Content-Length", str(len(body))),
                                        ("Cache-Control", "no-cache")]), body)


class StreamServer:
    """The server's state: the compute (worker processes or a thread), the session count."""

    def __init__(self, engine: str = "neural", token: str | None = None,
                 limits: Limits = Limits()):
        self.limits = limits
        self.token = token or None
        self.default_engine = engine
        self.engines: dict[str, object] = {}
        self._engine_lock = threading.Lock()
        self.sessions = 0
        check_engine(engine)
        if limits.workers > 0:           # each worker loads the engine now
            self.compute = ProcessCompute(engine, limits.workers)
        else:
            self.compute = LocalCompute(self.engine_for)
            self.engine_for(engine)      # load now: the first client should not wait

    # ---------------------------------------------------------------- engines
    def engine_for(self, name: str | None):
        """The engine ``name`` loaded in this process (with ``workers=0`` the streams'
        own; with worker processes only for callers that want one here)."""
        name = name or self.default_engine
        with self._engine_lock:
            if name not in self.engines:
                check_engine(name)
                self.engines[name] = load_engine(name)
            return self.engines[name]

    # ---------------------------------------------------------------- HTTP
    def token_ok(self, request: Request) -> bool:
        if self.token is None:
            return True
        query = parse_qs(request.path.partition("?")[2])
        given = (query.get("token") or [None])[0] or request.headers.get(TOKEN_HEADER)
        auth = request.headers.get("Authorization", "")
        if given is None and auth.startswith("Bearer "):
            given = auth[len("Bearer "):]
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def process_request(self, connection: ServerConnection, request: Request):
        path = request.path.partition("?")[0]
        if path == "/stream":
            if not self.token_ok(request):
                return _text(401, "a valid token is needed: /stream?token=T or the "
                                  f"{TOKEN_HEADER} header\n")
            if "upgrade" not in request.headers.get("Connection", "").lower():
                return _text(426, "/stream is a WebSocket endpoint (docs/live.md)\n")
            return None
        if path == "/":
            return _file(pages.INDEX) if pages.INDEX.is_file() else _text(
                404, "no viewer installed here; the stream is at ws://HOST:PORT/stream\n")
        if path == "/head.glb":
            body = pages.head_glb()
            return Response(200, "OK", Headers([("Content-Type", "model/gltf-binary"),
                                                ("Content-Length", str(len(body)))]), body)
        if path.startswith("/viewer/"):
            found = pages.viewer_file(unquote(path[len("/viewer/"):]))
            if found is not None:
                return _file(found)
        return _text(404, f"not found: {path}\n")

    # ---------------------------------------------------------------- WebSocket
    async def handle(self, ws: ServerConnection) -> None:
        lim = self.limits
        if self.sessions >= lim.max_sessions:
            await _refuse(ws, ProtocolError(
                "busy", f"the server has its maximum of {lim.max_sessions} sessions; try "
                "again later", CLOSE_BUSY))
            return
        self.sessions += 1
        sock = ws.transport.get_extra_info("socket")
        if sock is not None:   # bound the kernel's share too (autotuning grows it to MBs)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        try:
            await self._session(ws)
        finally:
            self.sessions -= 1

    async def _session(self, ws: ServerConnection) -> None:
        lim = self.limits
        try:
            first = await asyncio.wait_for(ws.recv(), lim.config_timeout_s)
            cfg = parse_config(first)
            try:
                handle = await self.compute.open(cfg, cfg.engine or self.default_engine)
            except UserError as exc:
                raise ProtocolError("bad_config", str(exc)) from None
            try:
                await ws.send(ready_message(cfg, handle.engine, handle.lookahead_s))
            except BaseException:
                handle.close()
                raise
        except TimeoutError:
            await _refuse(ws, ProtocolError("timeout", "no configuration within "
                                            f"{lim.config_timeout_s:g} s", CLOSE_GOING_AWAY))
            return
        except ProtocolError as exc:
            await _refuse(ws, exc)
            return
        except ConnectionClosed:
            return
        try:
            await self._run_session(ws, handle, cfg)
        finally:
            handle.close()

    async def _run_session(self, ws: ServerConnection, handle, cfg) -> None:
        lim = self.limits
        session = Session(handle, cfg, lim.max_pending_s, lim.max_queued_frames)
        sender = asyncio.create_task(self._send(ws, session))
        receiver = asyncio.create_task(self._receive(ws, session))
        stopper = asyncio.create_task(session.stop.wait())
        try:
            # Until "end" (or an error), then until the last frames are out (or a failure).
            await asyncio.wait({receiver, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if receiver.done() and receiver.exception() is None and not stopper.done():
                await asyncio.wait({sender, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, receiver, stopper):
                task.cancel()
        exc = session.failed
        if exc is None and receiver.done() and not receiver.cancelled():
            exc = receiver.exception()
        if exc is None and sender.done() and not sender.cancelled():
            exc = sender.exception()
        if isinstance(exc, ConnectionClosed):
            return
        if isinstance(exc, ProtocolError):
            await _refuse(ws, exc)
        elif exc is not None:
            await _refuse(ws, ProtocolError("internal", f"internal error: {exc!r}",
                                            CLOSE_INTERNAL))
        else:
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                await asyncio.wait_for(ws.close(CLOSE_NORMAL, "end of stream"), 5.0)

    async def _receive(self, ws: ServerConnection, session: Session) -> None:
        lim = self.limits
        while not session.ended:
            await session.room.wait()            # compute is behind: let TCP slow the client
            try:
                msg = await asyncio.wait_for(ws.recv(), lim.idle_timeout_s)
            except TimeoutError:
                raise ProtocolError("idle", f"no message for {lim.idle_timeout_s:g} s",
                                    CLOSE_GOING_AWAY) from None
            if isinstance(msg, bytes):
                session.add_audio(msg)
                continue
            kind, value = parse_control(msg)
            if kind == "emotion":
                session.set_emotion(value)
            else:
                session.end()
                return
        # After "end" the client may still send; nothing more is read.

    async def _send(self, ws: ServerConnection, session: Session) -> None:
        while True:
            msg = await session.out.get()
            if msg is None:
                return
            await ws.send(msg)

    def close(self) -> None:
        self.compute.close()


async def _refuse(ws: ServerConnection, exc: ProtocolError) -> None:
    """Tell the client what is wrong, then close with the error's code. A client that does
    not read gets neither in time: after a few seconds the TCP connection is cut (the
    closing handshake waits on a full send buffer otherwise, for ever)."""
    if exc.code != "not_reading":
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            await asyncio.wait_for(ws.send(error_message(exc.code, exc.message)), 2.0)
    reason = exc.message.encode()[:120].decode("utf-8", "ignore")   # close reasons: <= 123 bytes
    try:
        await asyncio.wait_for(ws.close(exc.close_code, reason), 3.0)
    except (ConnectionClosed, TimeoutError):
        ws.transport.abort()


@contextlib.asynccontextmanager
async def running(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
                  engine: str = "neural", token: str | None = None, limits: Limits = Limits()):
    """The server listening (port 0: any free port); yields (StreamServer, websockets
    server). Tests and the benchmark run it inside their own event loop."""
    state = StreamServer(engine, token, limits)
    try:
        with one_maths_thread(load_torch=True):
            async with serve(state.handle, host, port, process_request=state.process_request,
                         max_size=limits.max_message_bytes, compression=None,
                         close_timeout=2.0, ping_interval=20, ping_timeout=20,
                         max_queue=4) as server:
                yield state, server
    finally:
        state.close()


def serve_forever(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, engine: str = "neural",
                  token: str | None = None, limits: Limits = Limits(), ready=None) -> None:
    """Run until interrupted; ``ready(host, port)`` is called once listening."""
    async def main():
        async with running(host, port, engine=engine, token=token, limits=limits) as (_, srv):
            if ready is not None:
                sock = next(iter(srv.sockets))
                ready(*sock.getsockname()[:2])
            await asyncio.Future()

    asyncio.run(main())
