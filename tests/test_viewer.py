"""The browser viewer in headless Chromium: its microphone is a wav (speech, then silence),
the page streams it to /stream, applies the frames that come back to the head's morph
targets, and a screenshot during speech shows the mouth open where one at silence shows
it closed (checked by pixels). Skipped where Chromium or three.js (``make viewer``) is
absent."""
from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest
from viewer_fixtures import (
    RECEIVED_TEXT,
    Browser,
    RealServer,
    ScriptedServer,
    find_chromium,
    mouth_inside,
    mouth_opening,
    speech_then_silence,
)

from emoface.stream import pages

pytestmark = [
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed"),
    pytest.mark.skipif(bool(pages.missing_vendor_files()),
                       reason="three.js is not in emoface/stream/viewer/vendor (make viewer)"),
]

pytest.importorskip("websockets", reason="the live extra is not installed")
pytest.importorskip("PIL", reason="the render extra is not installed")

PANEL = "JSON.stringify(document.getElementById('panel').getBoundingClientRect())"


def _panel(browser) -> tuple:
    r = json.loads(browser.evaluate(PANEL))
    return ((r["x"], r["y"], r["width"], r["height"]),)


@pytest.fixture(scope="module")
def scripted():
    server = ScriptedServer()
    yield server
    server.close()


def test_page_and_files_are_served(scripted):
    with urllib.request.urlopen(scripted.url + "/") as r:
        assert b"/viewer/viewer.js" in r.read()
    with urllib.request.urlopen(scripted.url + "/viewer/vendor/three.module.js") as r:
        assert r.headers["Content-Type"] == "text/javascript"
    assert pages.viewer_file("../pages.py") is None and pages.viewer_file("/etc/passwd") is None
    assert pages.head_glb()[:4] == b"glTF"


def test_viewer_opens_the_mouth_during_speech(scripted, tmp_path):
    wav = speech_then_silence(tmp_path / "speech.wav")
    browser = Browser(wav, 800, 600)
    try:
        browser.navigate(scripted.url + "/?autostart=mic")
        browser.wait_for(lambda s: s["framesApplied"] > 10, 60, "frames from the server")
        speaking, _ = browser.still("s.jawOpen > 0.6", 10, "a frame of speech")
        silent, state = browser.still("s.jawOpen < 0.02", 10, "a frame of silence")
        panel = _panel(browser)
    finally:
        browser.close()
    (tmp_path / "speaking.png").write_bytes(speaking)
    diff = mouth_opening(speaking, silent, ignore=panel)
    assert state["error"] is None and len(state["latencies"]) > 10
    assert diff["changed"] > 150, diff                      # the face moved, visibly
    assert diff["below_face_middle"] > 0.9, diff            # ... in its lower half
    assert diff["inside_open"] > max(150, 2 * diff["inside_closed"]), diff  # teeth, inside
    assert 0.5 < diff["centre_column"] < 0.95, diff         # the head, right of the panel


def test_viewer_plays_a_file_and_changes_emotion(scripted, tmp_path):
    """A file chosen in the page is played and streamed to its end ({"event": "end"} both
    ways); the emotion menu sends {"emotion": ...} mid-stream."""
    silence = speech_then_silence(tmp_path / "silence.wav", np.zeros(1600), silence_s=0.1)
    clip = speech_then_silence(tmp_path / "clip.wav", silence_s=0.2)  # 1.5 s voiced + 0.2 s
    RECEIVED_TEXT.clear()
    browser = Browser(silence, 800, 600)
    try:
        browser.navigate(scripted.url + "/")
        browser.wait_for(lambda s: s["ready"], 60, "the head")
        node = browser.call("DOM.getDocument")["root"]["nodeId"]
        found = browser.call("DOM.querySelector", nodeId=node, selector="#file")["nodeId"]
        browser.call("DOM.setFileInputFiles", nodeId=found, files=[str(clip)])
        browser.wait_for(lambda s: s["framesApplied"] > 5, 30, "frames for the file")
        browser.evaluate("const e = document.getElementById('emotion'); e.value = 'sad';"
                         "e.dispatchEvent(new Event('change'))")
        state = browser.wait_for(lambda s: s["ended"], 30, "the end of the file")
    finally:
        browser.close()
    assert RECEIVED_TEXT[0] == {"sample_rate": 16000, "emotion": "auto", "fps": 30}
    assert {"emotion": "sad:0.7"} in RECEIVED_TEXT and RECEIVED_TEXT[-1] == {"event": "end"}
    assert state["error"] is None
    assert 1.5 <= state["lastT"] + 1 / 30 <= 1.8       # the whole file, 1.7 s, came back


def _serve_can_run() -> str | None:
    from emoface.engines import engine_class

    try:
        import websockets  # noqa: F401
    except ImportError:
        return "websockets is not installed"
    return engine_class("neural").unavailable_reason()


def test_viewer_against_emoface_serve(tmp_path):
    """The same, end to end: `emoface serve` and its neural engine animate espeak-ng speech
    coming from the page's (fake) microphone."""
    reason = _serve_can_run()
    if reason:
        pytest.skip(reason)
    from emoface.audio.espeak import is_available, synthesize

    if not is_available():
        pytest.skip("espeak-ng is not installed")
    samples, sr, _ = synthesize("Hello there, how are you doing today? I am glad to see you.")
    wav = speech_then_silence(tmp_path / "speech.wav", samples, sr, silence_s=2.0)
    server, browser = RealServer(), None
    try:
        browser = Browser(wav, 800, 600)
        browser.navigate(server.url + "/?autostart=mic")
        browser.wait_for(lambda s: s["framesApplied"] > 10, 90, "frames from emoface serve")
        speaking, _ = browser.still("s.aperture > 0.3", 60, "an open mouth")
        silent, state = browser.still("s.aperture < 0.02", 60, "closed lips")
        panel = _panel(browser)
    finally:
        if browser is not None:
            browser.close()
        server.close()
    (tmp_path / "speaking.png").write_bytes(speaking)
    (tmp_path / "silent.png").write_bytes(silent)
    assert state["error"] is None
    opened, closed = mouth_inside(speaking, panel), mouth_inside(silent, panel)
    assert opened > 2 * closed + 100, (opened, closed)
