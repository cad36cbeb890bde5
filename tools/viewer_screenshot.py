"""docs/viewer.png: the browser viewer in headless Chromium, `emoface serve` animating
espeak-ng speech from the page's (fake) microphone, caught on a frame with the mouth open.

    python tools/viewer_screenshot.py            # needs chromium, `make viewer`, espeak-ng
"""
from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the Chromium and server drivers the tests use

from PIL import Image  # noqa: E402
from viewer_fixtures import Browser, RealServer, speech_then_silence  # noqa: E402

from emoface.audio.espeak import synthesize  # noqa: E402

SENTENCE = "Hello there! It is so good to see you again, how have you been?"


def main(out: Path = ROOT / "docs" / "viewer.png") -> None:
    samples, sr, _ = synthesize(SENTENCE)
    with tempfile.TemporaryDirectory() as tmp:
        wav = speech_then_silence(Path(tmp) / "speech.wav", samples, sr)
        server, browser = RealServer(), None
        try:
            browser = Browser(wav, 900, 560)
            browser.navigate(server.url + "/?autostart=mic")
            browser.wait_for(lambda s: s["framesApplied"] > 30, 90, "frames")
            picture, state = browser.still("s.aperture > 0.35 && s.latencies.length > 30", 60,
                                           "an open mouth")
        finally:
            if browser is not None:
                browser.close()
            server.close()
    image = Image.open(io.BytesIO(picture)).convert("RGB")
    image.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB; frame t={state['lastT']:.2f} s, "
          f"aperture {state['aperture']:.2f})")


if __name__ == "__main__":
    main()
