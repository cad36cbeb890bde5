"""Still images for the docs: the contact sheet of all 52 shapes, a few posed frames, and
one spoken sentence under every emotion.

``python tools/render_sheets.py [OUT_DIR]`` writes ``shapes.png``, ``frame_neutral.png``,
``frame_open_vowel.png``, ``frame_blink.png`` and ``emotions.png`` (default: ``docs/``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.arkit import ARKIT_NAMES, INDEX  # noqa: E402
from emoface.render.labels import label_strip  # noqa: E402
from emoface.render.scene import FaceRenderer  # noqa: E402
from emoface.rig.model import Rig  # noqa: E402

# Shapes that only mean something on top of another one are shown with it.
_SHOWN_WITH = {"mouthClose": {"jawOpen": 1.0}}
FACE_FRAMING = {"target": [0.0, -0.2, 8.0], "radius": 7.4}


def weights_of(**named: float) -> np.ndarray:
    w = np.zeros(len(ARKIT_NAMES), np.float32)
    for name, value in named.items():
        w[INDEX[name]] = value
    return w


def contact_sheet(rig: Rig, cell: int = 200, columns: int = 8, view: str = "front",
                  framing: dict | None = FACE_FRAMING) -> np.ndarray:
    """Neutral plus every ARKit shape at weight 1, each labelled: (H, W, 3) uint8."""
    r = FaceRenderer(rig, cell, view, samples=4, framing=framing)
    cells = [("neutral", r.render(weights_of()))]
    for name in ARKIT_NAMES:
        w = weights_of(**{name: 1.0, **_SHOWN_WITH.get(name, {})})
        label = name + "".join(f" +{k}" for k in _SHOWN_WITH.get(name, {}))
        cells.append((label, r.render(w)))
    r.release()
    rows = []
    strip_h = max(14, cell // 9)
    for start in range(0, len(cells), columns):
        row = []
        for label, img in cells[start:start + columns]:
            row.append(np.concatenate([img, label_strip(label, cell, strip_h)], 0))
        while len(row) < columns:
            row.append(np.full_like(row[0], 32))
        rows.append(np.concatenate(row, 1))
    return np.concatenate(rows, 0)


DOC_FRAMES = {
    "frame_neutral": weights_of(),
    "frame_open_vowel": weights_of(jawOpen=0.6, mouthLowerDownLeft=0.5, mouthLowerDownRight=0.5),
    "frame_blink": weights_of(eyeBlinkLeft=1.0, eyeBlinkRight=1.0),
}


EMOTION_SENTENCE = "Oh, I really did not expect to see you here."


def emotion_strip(rig: Rig, cell: int = 256) -> np.ndarray:
    """The same speech animated by the rule engine under each of the 8 emotions (0.8),
    shown at one frame: mid-vowel, with no blink in any take."""
    from emoface.audio.espeak import synthesize
    from emoface.audio.speech import Speech
    from emoface.emotion import EMOTIONS, parse_emotion
    from emoface.engines.rules.engine import animate

    samples, sr, phones = synthesize(EMOTION_SENTENCE)
    speech = Speech(samples, sr, text=EMOTION_SENTENCE, phones=phones, phone_source="espeak")
    takes = [animate(speech, parse_emotion(e if e == "neutral" else f"{e}:0.8").track, seed=1)
             for e in EMOTIONS]
    open_mouth = np.min([t.channel("jawOpen") for t in takes], 0)
    blink = np.max([np.maximum(t.channel("eyeBlinkLeft"), t.channel("eyeBlinkRight"))
                    for t in takes], 0)
    frame = int(np.argmax(np.where(blink < 0.1, open_mouth, -1)))
    r = FaceRenderer(rig, cell, "three-quarter", samples=4)
    strip_h = max(14, cell // 9)
    cells = [np.concatenate([r.render(t.weights[frame], t.head[frame]),
                             label_strip(e, cell, strip_h)], 0) for e, t in zip(EMOTIONS, takes)]
    r.release()
    half = len(cells) // 2
    return np.concatenate([np.concatenate(cells[:half], 1), np.concatenate(cells[half:], 1)], 0)


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from emoface.rig.default import load_default_rig

    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path("docs")
    out.mkdir(parents=True, exist_ok=True)
    rig = load_default_rig()
    Image.fromarray(contact_sheet(rig)).save(out / "shapes.png", optimize=True)
    r = FaceRenderer(rig, 512, "three-quarter", samples=4)
    for name, w in DOC_FRAMES.items():
        Image.fromarray(r.render(w)).save(out / f"{name}.png", optimize=True)
    r.release()
    Image.fromarray(emotion_strip(rig)).save(out / "emotions.png", optimize=True)
    print(f"wrote {out}/shapes.png, {len(DOC_FRAMES)} frames and emotions.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
