"""Hardening, issue 19: a transcript that does not fit the audio is dropped for the phone
loop with one warning, an engine that ignores ``--text`` says so, and SIGTERM while an
``.mp4`` is written ends ffmpeg and leaves nothing beside ``-o`` (docs/hardening.md)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import need
from test_cli import CLIP, CLIP_TEXT, EMOFACE, run

import emoface
from emoface.engines import engine_class
from emoface.paths import shared_data_dir


def _clip() -> Path:
    return need(shared_data_dir() / CLIP)


def _warnings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_wrong_transcript_warns_once_and_animates_from_the_audio_alone(tmp_path):
    clip = _clip()
    wrong, alone = tmp_path / "wrong.npz", tmp_path / "alone.npz"
    common = ["--engine", "rules", "--emotion", "neutral"]
    result = run("animate", clip, "--text", "bob", "-o", wrong, *common)
    assert result.returncode == 0, result.stderr
    lines = _warnings(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("emoface: warning: the transcript does not fit the audio")
    assert "phone loop" in lines[0]
    result = run("animate", clip, "-o", alone, *common)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    with np.load(wrong) as a, np.load(alone) as b:
        for key in ("weights", "head", "eyes"):
            np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("text", ["he", "he was not an ill disposed young man " * 2,
                                  "the quick brown fox jumps over the lazy dog"])
def test_part_of_too_much_of_or_another_transcript_is_dropped(capsys, text):
    from emoface.audio.speech import Speech

    speech = Speech.from_file(_clip(), text=text)
    speech.phones()
    assert speech.phone_method == "phone_loop"
    assert len(_warnings(capsys.readouterr().err)) == 1


def test_the_correct_transcript_is_aligned_without_a_warning(capsys):
    from emoface.audio.speech import Speech

    speech = Speech.from_file(_clip(), text=CLIP_TEXT)
    speech.phones()
    assert speech.phone_method == "alignment"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("engine", ["loudness-jaw", "neutral"])
def test_an_engine_that_ignores_the_transcript_says_so_once(capsys, engine):
    if engine_class(engine).unavailable_reason():
        pytest.skip(engine_class(engine).unavailable_reason())
    emoface.animate(_voice_speech(), text="hello there", emotion="neutral", engine=engine)
    lines = _warnings(capsys.readouterr().err)
    assert len(lines) == 1 and f"the {engine} engine does not read a transcript" in lines[0]


def _voice_speech():
    from emoface.audio.speech import Speech

    t = np.arange(16000) / 16000
    return Speech((0.1 * np.sin(2 * np.pi * 140 * t)).astype(np.float32), 16000, source="tone")


# ---------------------------------------------------------------- signals

def _long_voice(path: Path, seconds: float = 40.0) -> Path:
    sr = 16000
    t = np.arange(int(seconds * sr)) / sr
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 8))
    sf.write(path, (0.1 * buzz * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32), sr)
    return path


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("command, signum, code, line", [
    ("animate", signal.SIGTERM, 143, "emoface: terminated"),
    ("render", signal.SIGTERM, 143, "emoface: terminated"),
    ("animate", signal.SIGINT, 130, "emoface: interrupted")])
def test_a_signal_while_writing_an_mp4_ends_ffmpeg_and_leaves_nothing(tmp_path, command, signum,
                                                                    code, line):
    pytest.importorskip("moderngl")
    pytest.importorskip("imageio_ffmpeg")
    wav = _long_voice(tmp_path / "voice.wav")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "take.mp4"
    if command == "animate":
        args = ["animate", wav, "-o", out, "--engine", "neutral"]
    else:
        npz = tmp_path / "take.npz"
        assert run("animate", wav, "-o", npz, "--engine", "neutral").returncode == 0
        args = ["render", npz, "--audio", wav, "-o", out]
    proc = subprocess.Popen([*EMOFACE, *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    children: list[int] = []
    try:
        for _ in range(2400):   # a bounded wait: the temporary file and ffmpeg writing it
            children = _children(proc.pid)
            if children and list(out_dir.glob(".take.mp4.*")) or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "finished before it could be interrupted"
        assert children, "no ffmpeg child seen"
        os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert _warnings(err) == [line], err
    assert list(out_dir.iterdir()) == []
    assert not any(_alive(pid) for pid in children)


def test_a_correct_transcript_of_noisy_studio_speech_is_kept(shared_data, tmp_path):
    """GRID's background noise opens the energy gate for the whole clip: the check must
    count as speech only what is near voicing, or every correct GRID transcript fails."""
    pytest.importorskip("imageio_ffmpeg")
    from emoface.audio.align import METHOD_ALIGNMENT, align_detailed
    from emoface.audio.io import load_audio
    from emoface.capture.video import extract_audio, probe
    from emoface.eval.realmotion import read_alignment, spoken, transcript

    grid = need(shared_data / "video" / "grid-s1")
    clip = grid / "bbaf2n.mp4"
    wav = tmp_path / "a.wav"
    assert extract_audio(probe(clip), wav)
    words = transcript(spoken(read_alignment(grid / "align" / "bbaf2n.align")))
    result = align_detailed(load_audio(wav), words)
    assert result.method == METHOD_ALIGNMENT and not result.dropped, result.dropped
    assert result.fit.explained > 0.77
