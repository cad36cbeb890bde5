"""The bundled model on data it never trained on (LibriVox is held out entirely; EmoDB
speaker 14 is the test speaker): lip sync against the teacher, explicit emotion control
whatever the voice, content preserved across emotions, intensity, and the CLI around it.

Skipped when the model is not installed (``make model`` trains it)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import need

from emoface.engines import engine_class

pytestmark = pytest.mark.skipif(engine_class("neural").unavailable_reason() is not None,
                                reason="bundled model not installed")

LIBRIVOX = "speech/librivox"


def librivox(root):
    folder = need(root / LIBRIVOX)
    out = []
    for line in (folder / "transcription").read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
        if m:
            out.append((folder / f"{m.group(2)}.wav", m.group(1).strip()))
    return out


def _animate(*args, **kwargs):
    from emoface.pipeline import animate

    return animate(*args, **kwargs)


@pytest.fixture(scope="module")
def held_out(shared_data):
    """(neural, teacher) animations of the LibriVox clips, neutral emotion."""
    pairs = []
    for wav, text in librivox(shared_data):
        neural = _animate(wav, emotion="neutral", engine="neural")
        teacher = _animate(wav, text=text, emotion="neutral", engine="rules")
        pairs.append((neural, teacher))
    return pairs


# The acceptance bar of the neural model (issue 6), not met yet by the bundled weights:
# on these clips they close 24 of 29 bilabials and reach r = 0.82 (docs/model.md). Strict,
# so the day the model clears the bar this turns into a failure asking to drop the mark.
@pytest.mark.xfail(strict=True, reason="bundled model below the lip-sync bar on held-out "
                                       "LibriVox (closure 83%, r 0.82)")
def test_lip_sync_from_audio_alone_on_held_out_speech(held_out):
    from emoface.animation import frames_inside
    from emoface.arkit import LIPS_MEET, lip_aperture
    from emoface.eval.lipsync import best_lag_correlation

    closed = total = 0
    correlations = []
    for neural, teacher in held_out:
        aperture = lip_aperture(neural.weights)
        for start, end, phone in teacher.meta["phones"]:  # the forced alignment's p/b/m
            if phone in ("P", "B", "M"):
                total += 1
                closed += aperture[frames_inside(start, end, 30, neural.num_frames)].min() < LIPS_MEET
        # within +-100 ms (3 frames), as the evaluation protocol measures it
        correlations.append(best_lag_correlation(aperture, lip_aperture(teacher.weights), 3).r)
    assert total >= 20
    assert closed / total >= 0.90, (closed, total)
    assert np.mean(correlations) >= 0.85, correlations


def test_explicit_emotion_sets_the_upper_face_whatever_the_voice(shared_data):
    emodb = need(shared_data / "emodb" / "wav")
    means = {}
    for acted in ("14a05Wa", "14a05Ta", "14a05Fa"):  # angry, sad and happy voices
        for asked in ("happy", "sad", "angry", "surprised"):
            anim = _animate(emodb / f"{acted}.wav", emotion=f"{asked}:0.9", engine="neural")
            means[acted, asked] = {n: float(anim.channel(n).mean()) for n in (
                "cheekSquintLeft", "browInnerUp", "browDownLeft", "eyeWideLeft",
                "mouthSmileLeft", "mouthFrownLeft")}
    for acted in ("14a05Wa", "14a05Ta", "14a05Fa"):
        m = {asked: means[acted, asked] for asked in ("happy", "sad", "angry", "surprised")}
        assert m["happy"]["mouthSmileLeft"] > m["sad"]["mouthSmileLeft"] + 0.2, acted
        assert m["happy"]["cheekSquintLeft"] > m["angry"]["cheekSquintLeft"] + 0.1, acted
        assert m["sad"]["browInnerUp"] > m["happy"]["browInnerUp"] + 0.15, acted
        assert m["sad"]["mouthFrownLeft"] > m["happy"]["mouthFrownLeft"] + 0.1, acted
        assert m["angry"]["browDownLeft"] > m["surprised"]["browDownLeft"] + 0.2, acted
        assert m["surprised"]["eyeWideLeft"] > m["sad"]["eyeWideLeft"] + 0.1, acted


def test_content_is_kept_when_the_emotion_changes(shared_data):
    from emoface.arkit import lip_aperture

    wav, _ = librivox(shared_data)[0]
    a = _animate(wav, emotion="happy:0.8", engine="neural", seed=2)
    b = _animate(wav, emotion="sad:0.8", engine="neural", seed=2)
    r = np.corrcoef(lip_aperture(a.weights), lip_aperture(b.weights))[0, 1]
    assert r >= 0.9, r
    upper = ["browInnerUp", "browDownLeft", "cheekSquintLeft", "eyeSquintLeft"]
    differs = sum(abs(a.channel(n).mean() - b.channel(n).mean()) > 0.05 for n in upper)
    assert differs >= 2


def test_intensity_is_monotonic(shared_data):
    wav, _ = librivox(shared_data)[1]
    for emotion, channel in (("happy", "mouthSmileLeft"), ("sad", "browInnerUp"),
                             ("angry", "browDownLeft"), ("surprised", "eyeWideLeft")):
        levels = [float(_animate(wav, emotion=f"{emotion}:{x}", engine="neural", seed=1)
                        .channel(channel).mean()) for x in (0.0, 0.33, 0.66, 1.0)]
        assert all(b > a for a, b in zip(levels, levels[1:])), (emotion, levels)


def test_emotion_command_json_and_timeline(shared_data, tmp_path):
    emodb = need(shared_data / "emodb" / "wav")
    result = subprocess.run([sys.executable, "-m", "emoface", "emotion", str(emodb / "14a05Wa.wav"),
                             str(emodb / "14a05Ta.wav"), "--json", "--timeline"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    for r in records:
        assert set(r) >= {"file", "emotion", "probs", "timeline"}
        assert abs(sum(r["probs"].values()) - 1) < 1e-3 and len(r["probs"]) == 8
        assert r["top"] == max(r["probs"], key=r["probs"].get)
        assert r["emotion"] in (r["top"], "neutral") and 0 <= r["intensity"] <= 1


def test_folder_batch_mode(shared_data, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for wav, _ in librivox(shared_data)[:2]:
        (folder / wav.name).symlink_to(wav)
    result = subprocess.run([sys.executable, "-m", "emoface", "animate", str(folder), "-o",
                             str(tmp_path / "out"), "--format", "npz"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".npz", ".npz"]
