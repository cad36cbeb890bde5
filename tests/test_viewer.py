"""The browser viewer in headless Chromium: its microphone is a wav (speech, then silence),
the page streams it to /stream, applies the frames that come back to the head's morph
targets, and a screenshot during speech shows the mouth open where one at silence shows
it closed (checked by pixels). Skipped where Chromium or three.js (``make viewer``) is
absent."""
from __future__ import annotations

import json
import urllib.request

import pytest
from viewer_fixtures import (
    Browser,
    ScriptedServer,
    find_chromium,
    mouth_opening,
    speech_then_silence,
)

from emoface.stream import pages

pytestmark = [
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed"),
    pytest.mark.skipif(bool(pages.missing_vendor_files()),
                       reason="three.js is not in emoface/stream/viewer/vendor (make viewer)"),
]

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
        browser.wait_for(lambda s: s["jawOpen"] > 0.6, 10, "a frame of speech")
        speaking = browser.screenshot()
        browser.wait_for(lambda s: s["jawOpen"] < 0.02, 10, "a frame of silence")
        silent = browser.screenshot()
        state = browser.state()
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
