"""``emoface serve`` (docs/live.md): the /stream protocol over a real socket, each limit's
error and close code with a well-behaved stream beside it still getting every frame,
the token, the HTTP files, and the default bind address."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

pytest.importorskip("torch")
websockets = pytest.importorskip("websockets")

from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from emoface.animation import frame_count  # noqa: E402
from emoface.audio.speech import Speech  # noqa: E402
from emoface.cli import build_parser  # noqa: E402
from emoface.engines.neural.checkpoint import weights_available  # noqa: E402
from emoface.stream import pages  # noqa: E402
from emoface.stream import server as srv  # noqa: E402

pytestmark = pytest.mark.skipif(not weights_available(), reason="bundled weights absent")

LIMITS = srv.Limits(max_sessions=8, max_message_bytes=1 << 20, idle_timeout_s=5.0,
                    config_timeout_s=5.0, max_queued_frames=30, workers=2)


class Background:
    """The server in its own thread and event loop, for blocking clients."""

    def __init__(self, **options):
        self.ready = threading.Event()
        self.options = options
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(120), "server did not start"

    def _run(self):
        async def main():
            async with srv.running("127.0.0.1", 0, **self.options) as (state, server):
                self.state = state
                self.port = next(iter(server.sockets)).getsockname()[1]
                self.loop = asyncio.get_running_loop()
                self.stop = asyncio.Event()
                self.ready.set()
                await self.stop.wait()

        asyncio.run(main())

    def url(self, path="/stream"):
        return f"ws://127.0.0.1:{self.port}{path}"

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def server():
    s = Background(limits=LIMITS)
    yield s
    s.close()


@pytest.fixture(scope="module")
def pcm() -> bytes:
    speech = Speech.synthesize("Open the window and look at the moon.", rate=160)
    return (np.clip(speech.samples, -1, 1) * 32767).astype("<i2").tobytes()


def stream_all(url, pcm, chunk=640, config=None, pace=0.0, **kw):
    """A well-behaved client: config, audio, end; returns (ready, frames, end, close code)."""
    frames = []
    kw.setdefault("max_queue", None)         # read every frame as it comes
    with connect(url, **kw) as ws:
        ws.send(json.dumps(config or {"sample_rate": 16000, "emotion": "happy"}))
        ready = json.loads(ws.recv())
        for i in range(0, len(pcm), chunk):
            ws.send(pcm[i:i + chunk])
            if pace:
                time.sleep(pace)
        ws.send(json.dumps({"event": "end"}))
        end = None
        for msg in ws:
            if isinstance(msg, bytes):
                frames.append(np.frombuffer(msg, "<f4"))
                continue
            data = json.loads(msg)
            if data.get("event") == "end":
                end = data
            else:
                frames.append(data)
        return ready, frames, end, ws.close_code


class Beside:
    """A well-behaved stream running in a thread while a test misbehaves."""

    def __init__(self, url, pcm):
        self.result = None
        self.thread = threading.Thread(target=self._go, args=(url, pcm), daemon=True)
        self.thread.start()

    def _go(self, url, pcm):
        self.result = stream_all(url, pcm, pace=0.005)

    def check(self, pcm):
        self.thread.join(120)
        ready, frames, end, code = self.result
        assert code == 1000 and end["frames"] == len(frames)
        assert len(frames) == frame_count(len(pcm) / 2 / 16000, 30)


def closed_with(ws) -> tuple[dict | None, int | None, str]:
    """The error message (if one came) and the close code and reason."""
    error = None
    try:
        while True:
            msg = ws.recv(timeout=30)
            if isinstance(msg, str) and '"error"' in msg:
                error = json.loads(msg)
    except ConnectionClosed as exc:
        return error, exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else ""


# --------------------------------------------------------------------------- protocol
def test_a_stream_gets_every_frame_then_end(server, pcm):
    ready, frames, end, code = stream_all(server.url(), pcm)
    n = frame_count(len(pcm) / 2 / 16000, 30)
    assert ready["event"] == "ready" and len(ready["names"]) == 52
    assert ready["names"][0] == "browDownLeft" and ready["sample_rate"] == 16000
    assert 150 < ready["lookahead_ms"] < 200
    assert len(frames) == n and end == {"event": "end", "frames": n, "seconds": end["seconds"]}
    assert abs(end["seconds"] - len(pcm) / 2 / 16000) < 1e-3 and code == 1000
    assert [f["t"] for f in frames[:3]] == [0.0, 0.0333, 0.0667]
    for f in frames:
        assert len(f["weights"]) == 52 and len(f["head"]) == 3 and len(f["eyes"]) == 6
        assert 0.0 <= min(f["weights"]) and max(f["weights"]) <= 1.0
    jaw = np.array([f["weights"][24] for f in frames])
    assert jaw.max() > 0.2          # the mouth opens on speech


def test_served_frames_are_the_engine_stream(server, pcm):
    engine = server.state.engine_for(None)
    x = np.frombuffer(pcm, "<i2")
    local = engine.stream(16000, emotion="sad:0.6", fps=60, seed=7)
    parts = [local.feed(x[i:i + 999]) for i in range(0, len(x), 999)] + [local.flush()]
    weights = np.concatenate([p.weights for p in parts])
    _, frames, _, _ = stream_all(server.url(), pcm, chunk=4000, config={
        "sample_rate": 16000, "emotion": "sad:0.6", "fps": 60, "seed": 7, "format": "binary"})
    got = np.stack(frames)
    assert got.shape == (len(weights), 62)
    np.testing.assert_allclose(got[:, 1:53], weights, atol=1e-5)
    np.testing.assert_allclose(got[:, 0], np.arange(len(weights)) / 60, atol=1e-6)


def test_emotion_message_mid_stream_and_a_bad_one(server, pcm):
    with connect(server.url(), max_queue=None) as ws:
        ws.send(json.dumps({"sample_rate": 16000, "emotion": "neutral"}))
        ws.recv()
        ws.send(pcm[:16000])
        ws.send(json.dumps({"emotion": "angry:0.8"}))
        ws.send(pcm[16000:32000])
        ws.send(json.dumps({"emotion": "blorp"}))
        error, code, _ = closed_with(ws)
    assert error["code"] == "bad_emotion" and "blorp" in error["message"] and code == 1008


def test_sessions_are_spread_over_the_worker_processes(server, pcm):
    workers = server.state.compute.workers
    assert len(workers) == LIMITS.workers and all(w.process.is_alive() for w in workers)
    config = json.dumps({"sample_rate": 16000})
    with connect(server.url(), max_queue=None) as a, connect(server.url(), max_queue=None) as b:
        a.send(config)
        b.send(config)
        a.recv()
        b.recv()
        assert [w.sessions for w in workers] == [1, 1]
    deadline = time.monotonic() + 10
    while any(w.sessions for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [w.sessions for w in workers] == [0, 0]


# --------------------------------------------------------------------------- limits
def test_a_16_mib_message_is_closed_with_1009(server, pcm):
    beside = Beside(server.url(), pcm)
    with connect(server.url(), max_size=None) as ws:
        ws.send(json.dumps({"sample_rate": 16000}))
        ws.recv()
        with pytest.raises(ConnectionClosed) as info:
            ws.send(b"\0" * (16 << 20))
            ws.recv(timeout=30)
    assert info.value.rcvd.code == 1009
    beside.check(pcm)


@pytest.mark.parametrize("first, code", [
    ("{not json", "bad_json"),
    ("[1, 2]", "bad_json"),
    (json.dumps({"sample_rate": 44100}), "bad_sample_rate"),
    (json.dumps({"sample_rate": "16k"}), "bad_sample_rate"),
    (json.dumps({"emotion": "happy"}), "bad_config"),
    (json.dumps({"sample_rate": 16000, "engine": "rules"}), "bad_config"),
    (json.dumps({"sample_rate": 16000, "fps": -1}), "bad_config"),
    (b"\0\0", "expected_text"),
])
def test_a_bad_first_message_gets_an_error_and_1008(server, pcm, first, code):
    beside = Beside(server.url(), pcm)
    with connect(server.url(), max_queue=None) as ws:
        ws.send(first)
        error, close, _ = closed_with(ws)
    assert error["code"] == code and close == 1008
    if code == "bad_sample_rate":
        assert "8000, 16000, 24000, 32000, 48000" in error["message"]
    beside.check(pcm)


def test_invalid_json_mid_stream(server, pcm):
    with connect(server.url(), max_queue=None) as ws:
        ws.send(json.dumps({"sample_rate": 16000}))
        ws.recv()
        ws.send(pcm[:3200])
        ws.send("{'emotion': 'happy'}")
        error, code, _ = closed_with(ws)
    assert error["code"] == "bad_json" and code == 1008


def test_200_connections_at_once(server, pcm):
    beside = Beside(server.url(), pcm)
    time.sleep(0.5)                          # its session is open first

    async def crowd():
        async def one():
            try:
                async with websockets.connect(server.url(), open_timeout=60) as ws:
                    msg = await asyncio.wait_for(ws.recv(), 30)
                    await asyncio.wait_for(ws.wait_closed(), 30)
                    return json.loads(msg)["code"], ws.close_code
            except ConnectionClosed as exc:
                return None, exc.rcvd.code if exc.rcvd else None
        return await asyncio.gather(*[one() for _ in range(200)])

    results = asyncio.run(crowd())
    busy = [r for r in results if r == ("busy", 1013)]
    timeouts = [r for r in results if r == ("timeout", 1001)]
    assert len(busy) >= 200 - LIMITS.max_sessions
    assert len(busy) + len(timeouts) == 200  # the rest waited for a config and timed out
    beside.check(pcm)
    assert sessions_end(server)


def sessions_end(server, within=10.0) -> bool:
    deadline = time.monotonic() + within
    while server.state.sessions and time.monotonic() < deadline:
        time.sleep(0.1)
    return server.state.sessions == 0


def test_a_client_that_stops_reading_is_closed(server, pcm):
    beside = Beside(server.url(), pcm)
    # A tiny receive buffer, and a client that never reads: frames pile up on the server.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", server.port))
    with connect(server.url(), sock=sock, max_queue=1) as ws:
        ws.send(json.dumps({"sample_rate": 16000, "format": "json"}))
        time.sleep(0.2)
        start = time.monotonic()
        closed = False
        try:
            while time.monotonic() - start < 60:
                ws.send(pcm)                  # ~2 s of audio per message, never reading
                time.sleep(0.05)
        except ConnectionClosed:
            closed = True
    assert closed
    beside.check(pcm)
    assert sessions_end(server)


def test_an_idle_stream_is_closed_with_1001(pcm):
    s = Background(limits=srv.Limits(idle_timeout_s=0.5, workers=0))
    try:
        with connect(s.url(), max_queue=None) as ws:
            ws.send(json.dumps({"sample_rate": 16000}))
            ws.recv()
            ws.send(pcm[:3200])
            error, code, _ = closed_with(ws)
        assert error["code"] == "idle" and code == 1001
    finally:
        s.close()


# --------------------------------------------------------------------------- token, HTTP
def test_token_is_required_when_set(pcm):
    s = Background(token="s3cret", limits=srv.Limits(workers=0))
    try:
        with pytest.raises(InvalidStatus) as info:
            connect(s.url())
        assert info.value.response.status_code == 401
        with pytest.raises(InvalidStatus):
            connect(s.url("/stream?token=wrong"))
        assert stream_all(s.url("/stream?token=s3cret"), pcm[:16000])[3] == 1000
        assert stream_all(s.url(), pcm[:16000],
                          additional_headers={"X-Emoface-Token": "s3cret"})[3] == 1000
    finally:
        s.close()


def http_get(server, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


def test_http_files(server):
    status, kind, body = http_get(server, "/head.glb")
    assert status == 200 and kind == "model/gltf-binary" and body[:4] == b"glTF"
    assert http_get(server, "/head.glb")[2] == body          # cached, the same bytes
    gltf = json.loads(body[20:20 + int.from_bytes(body[12:16], "little")])
    assert len(gltf["meshes"][0]["extras"]["targetNames"]) == 52
    for bad in ("/viewer/../server.py", "/viewer/%2e%2e/server.py", "/viewer/",
                "/viewer/missing.js", "/nothing"):
        assert http_get(server, bad)[0] == 404
    status, kind, _ = http_get(server, "/")
    index = pages.INDEX
    assert (status, kind) == ((200, "text/html; charset=utf-8") if index.is_file() else
                              (404, "text/plain; charset=utf-8"))


def test_viewer_files_stay_inside_the_viewer_folder(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.mjs").write_text("export {}")
    (tmp_path / "notes.txt").write_text("x")
    assert pages.viewer_file("js/app.mjs", tmp_path) == (tmp_path / "js" / "app.mjs").resolve()
    for bad in ("../x.mjs", "js/../../x", "notes.txt", "/etc/passwd", "js//app.mjs", ""):
        assert pages.viewer_file(bad, tmp_path) is None


def test_binds_localhost_by_default():
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 8765
    assert srv.DEFAULT_HOST == "127.0.0.1"
    import inspect
    assert inspect.signature(srv.running).parameters["host"].default == "127.0.0.1"


def test_serve_command_errors_are_one_line(tmp_path):
    import subprocess
    import sys

    def serve(*args):
        return subprocess.run([sys.executable, "-m", "emoface", "serve", *args],
                              capture_output=True, text=True, timeout=120)

    out = serve("--engine", "rules")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "does not stream; engines that do: neural" in out.stderr
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        out = serve("--port", str(taken.getsockname()[1]))
    finally:
        taken.close()
    assert out.returncode == 2 and "cannot listen on 127.0.0.1" in out.stderr
    assert "Traceback" not in out.stderr
