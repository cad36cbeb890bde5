"""Helpers for the viewer tests: a headless Chromium driven over the DevTools protocol, and a
scripted stand-in for the server (the page, its files, the head, and a /stream WebSocket
whose frames open the jaw with the loudness of the audio it receives)."""
from __future__ import annotations

import base64
import contextlib
import http
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate, and kill if it has not gone within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


class Browser:
    """Headless Chromium whose microphone is ``fake_audio`` (a wav, looped), driven over the
    DevTools protocol: navigate, evaluate JavaScript, capture screenshots."""

    def __init__(self, fake_audio: Path, width: int = 640, height: int = 480):
        from websockets.sync.client import connect

        self.profile = tempfile.TemporaryDirectory(prefix="emoface-chromium-",
                                                   ignore_cleanup_errors=True)
        self.process = subprocess.Popen([
            find_chromium(), "--headless", "--no-sandbox", "--disable-gpu-sandbox",
            "--remote-debugging-port=0", f"--user-data-dir={self.profile.name}",
            f"--window-size={width},{height}", "--no-first-run", "--mute-audio",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_audio}",
            "--autoplay-policy=no-user-gesture-required",
            "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            target = self._page_target(self._devtools_port())
            self.ws = connect(target["webSocketDebuggerUrl"], max_size=2**26)
        except BaseException:
            self.close()   # never leave a browser behind
            raise
        self.ids = itertools.count(1)

    def _devtools_port(self, timeout: float = 30.0) -> int:
        """The port Chromium chose (port 0 asked; it writes the one it took here)."""
        marker = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port")

    @staticmethod
    def _page_target(port: int, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    return pages[0]
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.2)

    def call(self, method: str, **params) -> dict:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def state(self) -> dict:
        return self.evaluate("window.emoface ? JSON.stringify(window.emoface.state) : null") and \
            json.loads(self.evaluate("JSON.stringify(window.emoface.state)"))

    def wait_for(self, predicate, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if state and predicate(state):
                return state
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; page state: {self.state()}")

    def still(self, condition: str, timeout: float, what: str) -> tuple[bytes, dict]:
        """Freeze the face on the first frame where the JavaScript ``condition`` (on
        ``s``, the page state) holds, take a screenshot of it, and let frames through
        again: the picture shows the frame the state describes."""
        self.evaluate(f"window.emoface.holdWhen = (s) => {condition}")
        state = self.wait_for(lambda s: s["held"], timeout, what)
        picture = self.screenshot()
        self.evaluate("window.emoface.release()")
        return picture, state

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        stop_process(self.process)
        self.profile.cleanup()


# ----------------------------------------------------------------- the scripted server
def _http(status: int, body: bytes, content_type: str):
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-store")])
    return Response(status, http.HTTPStatus(status).phrase, headers, body)


def _files(connection, request):
    """Plain HTTP for everything but the WebSocket: the routes `emoface serve` has."""
    from emoface.stream import pages

    path = request.path.split("?", 1)[0]
    if path == "/stream":
        return None
    if path == "/":
        return _http(200, pages.INDEX.read_bytes(), "text/html")
    if path == "/head.glb":
        return _http(200, pages.head_glb(), "model/gltf-binary")
    if path.startswith("/viewer/"):
        found = pages.viewer_file(path[len("/viewer/"):])
        if found is not None:
            return _http(200, found.read_bytes(), pages.content_type(found))
    return _http(404, b"not found", "text/plain")


RECEIVED_TEXT: list[dict] = []   # every JSON message the scripted server was sent


def _loudness_frames(connection):
    """The /stream protocol with a stand-in animator: frame k (30 fps) leaves once the audio
    up to its end has come, its jaw open with the loudness of the audio around it."""
    from emoface.arkit import INDEX, NUM_BLENDSHAPES

    hello = json.loads(connection.recv())
    RECEIVED_TEXT.append(hello)
    fps = float(hello.get("fps", 30))
    audio = np.zeros(0, np.float32)
    sent = 0
    for message in connection:
        if isinstance(message, str):
            RECEIVED_TEXT.append(json.loads(message))
            if RECEIVED_TEXT[-1].get("event") == "end":
                connection.send(json.dumps({"event": "end"}))
                return
            continue
        audio = np.concatenate([audio, np.frombuffer(message, "<i2").astype(np.float32) / 32768])
        while (sent + 1) / fps * 16000 <= len(audio):
            a, b = int(sent / fps * 16000), int((sent + 1) / fps * 16000)
            rms = float(np.sqrt(np.mean(audio[a:b] ** 2)))
            weights = np.zeros(NUM_BLENDSHAPES)
            weights[INDEX["jawOpen"]] = min(1.0, rms * 6)
            weights[[INDEX["mouthLowerDownLeft"], INDEX["mouthLowerDownRight"]]] = min(1.0, rms * 3)
            connection.send(json.dumps({"t": sent / fps, "weights": weights.tolist(),
                                        "head": [0.0, 0.0, 0.0], "eyes": [0.0] * 6}))
            sent += 1


class ScriptedServer:
    def __init__(self):
        from websockets.sync.server import serve

        self.server = serve(_loudness_frames, "127.0.0.1", 0, process_request=_files,
                            compression=None)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


def speech_then_silence(path: Path, speech: np.ndarray | None = None, sr: int = 16000,
                        silence_s: float = 1.5) -> Path:
    """A wav for the fake microphone: speech (or a voiced, syllable-paced tone), then
    silence; Chromium loops it."""
    import soundfile as sf

    if speech is None:
        t = np.arange(int(1.5 * sr)) / sr
        speech = 0.4 * np.sin(2 * np.pi * 140 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    sf.write(path, np.concatenate([speech, np.zeros(int(silence_s * sr))]), sr, subtype="PCM_16")
    return path


def mouth_opening(open_png: bytes, closed_png: bytes, ignore: tuple = ()) -> dict:
    """Where two screenshots of the head differ, and how: the pixels that changed, the share
    of them below the middle of the face, their mean column (0 left, 1 right), and how many
    of them show the inside of a mouth (teeth: bright and grey; the mouth's dark inside) in
    each image."""
    import io

    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(open_png)).convert("RGB"), np.float32)
    b = np.asarray(Image.open(io.BytesIO(closed_png)).convert("RGB"), np.float32)
    keep = np.ones(a.shape[:2], bool)
    for x, y, w, h in ignore:   # the control panel: its counters change, the face does not
        keep[int(y):int(np.ceil(y + h)) + 1, int(x):int(np.ceil(x + w)) + 1] = False
    background = b[0, -1]       # the top-right pixel
    changed = (np.abs(a - b).max(-1) > 40) & keep
    rows, cols = np.nonzero(changed)
    if len(rows) == 0:
        return {"changed": 0}
    face_rows = np.nonzero(((np.abs(b - background).max(-1) > 12) & keep).any(1))[0]
    middle = (face_rows.min() + face_rows.max()) / 2

    def inside_of_mouth(img):
        light, spread = img.mean(-1), img.max(-1) - img.min(-1)
        not_background = np.abs(img - background).max(-1) > 25
        return (((light > 170) & (spread < 70)) | (light < 70)) & not_background & changed

    return {"changed": int(changed.sum()),
            "below_face_middle": float(np.mean(rows > middle)),
            "centre_column": float(np.mean(cols)) / a.shape[1],
            "inside_open": int(inside_of_mouth(a).sum()),
            "inside_closed": int(inside_of_mouth(b).sum())}


def mouth_inside(png: bytes, ignore: tuple = ()) -> int:
    """Pixels showing the inside of the mouth (teeth: bright and grey; the dark inside)
    within the box the lips span (lip red: red well above green), whatever the head pose:
    the count grows as the lips part."""
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float32)
    keep = np.ones(img.shape[:2], bool)
    for x, y, w, h in ignore:
        keep[int(y):int(np.ceil(y + h)) + 1, int(x):int(np.ceil(x + w)) + 1] = False
    r, g = img[..., 0], img[..., 1]
    lips = (r > 130) & (r - g > 65) & keep
    rows, cols = np.nonzero(lips)
    if len(rows) == 0:
        return 0
    box = np.zeros_like(lips)
    box[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = True
    light, spread = img.mean(-1), img.max(-1) - img.min(-1)
    not_background = np.abs(img - img[0, -1]).max(-1) > 25
    return int(((((light > 170) & (spread < 70)) | (light < 90)) & not_background & box).sum())


class RealServer:
    """``emoface serve`` in a child process on a free port (the neural engine)."""

    def __init__(self, *args: str, timeout: float = 120.0):
        import re
        import sys

        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emoface", "serve", "--port", "0", *args],
            cwd=root, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + timeout
        self.port = None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            found = re.search(r"ws://[\d.]+:(\d+)/stream", line)
            if found:
                self.port = int(found.group(1))
                break
        if self.port is None:
            self.close()
            raise RuntimeError("emoface serve did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        stop_process(self.process)
