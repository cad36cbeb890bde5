"""The command line as a user meets it: the error contract for bad input, and hard but
valid input that must work (unknown words, long silence, 44.1 kHz stereo, 20 minutes)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import need

from emoface.outputs import read

EMOFACE = [sys.executable, "-m", "emoface"]
CLIP = "speech/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
CLIP_TEXT = "he was not an ill disposed young man"


def run(*args, cwd=None):
    return subprocess.run([*EMOFACE, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def assert_user_error(result, folder: Path, before: set[str]):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("emoface") and "error" in lines[0]
    assert "Traceback" not in result.stderr
    assert {p.name for p in folder.iterdir()} == before, "partial output left behind"


def speech_wav(tmp_path: Path, seconds: float = 1.0, sr: int = 16000, channels: int = 1) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 140 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    data = np.repeat(tone[:, None], channels, 1) if channels > 1 else tone
    path = tmp_path / f"tone_{sr}_{channels}.wav"
    sf.write(path, data, sr)
    return path


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


# ------------------------------------------------------------------ the error contract
def test_missing_file(out_dir):
    assert_user_error(run("animate", out_dir / "nope.wav", "-o", out_dir / "x.csv"), out_dir, set())


def test_folder_without_audio(tmp_path, out_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(run("animate", empty, "-o", out_dir / "x/"), out_dir, set())


def test_random_bytes_named_wav(tmp_path, out_dir):
    bad = tmp_path / "noise.wav"
    bad.write_bytes(os.urandom(5000))
    assert_user_error(run("animate", bad, "-o", out_dir / "x.csv"), out_dir, set())


def test_zero_length_audio(tmp_path, out_dir):
    empty_file = tmp_path / "empty.wav"
    empty_file.write_bytes(b"")
    assert_user_error(run("animate", empty_file, "-o", out_dir / "x.csv"), out_dir, set())
    no_frames = tmp_path / "noframes.wav"
    sf.write(no_frames, np.zeros(0), 16000)
    assert_user_error(run("animate", no_frames, "-o", out_dir / "x.csv"), out_dir, set())


def test_audio_shorter_than_one_frame(tmp_path, out_dir):
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(160), 16000)  # 10 ms: a 30 fps frame is 33 ms
    assert_user_error(run("animate", short, "-o", out_dir / "x.csv"), out_dir, set())


@pytest.mark.parametrize("emotion", ["grumpy", "happy:2", "0:happy,bad", "1:happy,0:sad", "happy:"])
def test_bad_emotions(tmp_path, out_dir, emotion):
    wav = speech_wav(tmp_path)
    assert_user_error(run("animate", wav, "-o", out_dir / "x.csv", "--emotion", emotion),
                      out_dir, set())


@pytest.mark.parametrize("target", ["missing_folder/x.csv", "file.txt/x.csv", "x.unknown",
                                    "file.txt", "missing/deeper/"])
def test_unwritable_outputs(tmp_path, out_dir, target):
    wav = speech_wav(tmp_path)
    (out_dir / "file.txt").write_text("a file, not a folder")
    assert_user_error(run("animate", wav, "-o", out_dir / target), out_dir, {"file.txt"})


def test_bad_options(tmp_path, out_dir):
    wav = speech_wav(tmp_path)
    for args in (["--fps", "25"], ["--intensity", "1.5"], ["--engine", "nope"],
                 ["--text", "a", "--text-file", "b"], ["--text-file", out_dir / "none.txt"]):
        assert_user_error(run("animate", wav, "-o", out_dir / "x.csv", *args), out_dir, set())


def test_say_bad_input(out_dir):
    assert_user_error(run("say", "", "-o", out_dir / "x.csv"), out_dir, set())
    assert_user_error(run("say", "hi", "-o", out_dir / "x.csv", "--voice", "zz-none"), out_dir, set())
    assert_user_error(run("say", "hi", "-o", out_dir / "x.csv", "--emotion", "auto"), out_dir, set())


# --------------------------------------------------------------- main jobs that work
def test_animate_librivox_to_live_link_csv(shared_data, tmp_path):
    wav = need(shared_data / CLIP)
    out = tmp_path / "x.csv"
    result = run("animate", wav, "--text", CLIP_TEXT, "-o", out)
    assert result.returncode == 0, result.stderr
    rows = out.read_text().splitlines()
    info = sf.info(str(wav))
    assert abs(len(rows) - 1 - info.duration * 60) <= 1  # a lone CSV: the phone's 60 fps
    values = np.array([[float(x) for x in r.split(",")[2:]] for r in rows[1:]])
    assert values.shape[1] == 61 and all(r.split(",")[1] == "61" for r in rows[1:])
    assert values[:, :52].min() >= 0 and values[:, :52].max() <= 1


def test_same_command_twice_gives_identical_files(shared_data, tmp_path):
    wav = need(shared_data / CLIP)
    for name in ("a.csv", "b.csv"):
        assert run("animate", wav, "--text", CLIP_TEXT, "-o", tmp_path / name, "--seed", "5",
                   "--emotion", "0:sad,2:happy").returncode == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    for name in ("c.npz", "d.npz"):
        assert run("say", "Bob bought a map.", "-o", tmp_path / name, "--emotion", "angry").returncode == 0
    assert np.array_equal(read(tmp_path / "c.npz").weights, read(tmp_path / "d.npz").weights)
    assert (tmp_path / "c.wav").read_bytes() == (tmp_path / "d.wav").read_bytes()


def test_output_folder_gets_the_default_set(tmp_path):
    wav = speech_wav(tmp_path)
    result = run("animate", wav, "-o", f"{tmp_path}/takes/")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "takes").iterdir())
    assert names == sorted(f"{wav.stem}{e}" for e in (".csv", ".json", ".npz"))


def test_transcript_with_unknown_words(shared_data, tmp_path):
    wav = need(shared_data / CLIP)
    result = run("animate", wav, "--text", "he was zorblax an quintafrip disposed young man",
                 "-o", tmp_path / "x.npz")
    assert result.returncode == 0, result.stderr
    assert read(tmp_path / "x.npz").num_frames > 0


def test_44k_stereo(tmp_path):
    wav = speech_wav(tmp_path, seconds=2.0, sr=44100, channels=2)
    result = run("animate", wav, "-o", tmp_path / "x.json", "--fps", "60")
    assert result.returncode == 0, result.stderr
    anim = read(tmp_path / "x.json")
    assert anim.fps == 60 and abs(anim.num_frames - 120) <= 1


PEAK_MEMORY = """
import resource, sys
from emoface.cli import main
code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)
raise SystemExit(code)
"""


def run_measured(*args):
    """Run the CLI in a child that reports its own peak resident memory (MiB) last."""
    result = subprocess.run([sys.executable, "-c", PEAK_MEMORY, *map(str, args)],
                            capture_output=True, text=True)
    peak = int(result.stderr.strip().splitlines()[-1]) if result.stderr.strip() else -1
    return result, peak


def test_ten_minutes_of_silence_gives_an_idle_face(tmp_path):
    from emoface.arkit import LIPS_MEET, lip_aperture
    from emoface.data.livelink_stats import blink_rate_per_minute

    wav = tmp_path / "silence.wav"
    sf.write(wav, np.zeros(16000 * 600, np.float32), 16000)
    result, peak_mib = run_measured("animate", wav, "-o", tmp_path / "x.npz")
    assert result.returncode == 0, result.stderr
    anim = read(tmp_path / "x.npz")
    assert anim.num_frames == 18000
    # no lip motion: the lips stay shut and the jaw at rest (a resting jaw may hang a
    # little, as real ones do, with the lips closed over it)
    assert lip_aperture(anim.weights).max() < LIPS_MEET
    assert anim.channel("jawOpen").std() < 0.01 and anim.channel("jawOpen").max() < 0.1
    assert blink_rate_per_minute(anim) > 5                # but the eyes blink
    assert peak_mib < 1500, peak_mib                      # bounded: no phones x frames blow-up


@pytest.mark.slow
def test_twenty_minute_file(shared_data, tmp_path):
    """Twenty minutes of real speech (librivox clips with pauses), no transcript."""
    clips = sorted(need(shared_data / "speech/librivox").glob("*.wav"))
    pieces = []
    for clip in clips:
        x, sr = sf.read(clip, dtype="float32")
        pieces += [x, np.zeros(int(0.8 * sr), np.float32)]
    block = np.concatenate(pieces)
    reps = int(np.ceil(1200 * 16000 / len(block)))
    audio = np.tile(block, reps)[: 1200 * 16000]
    wav = tmp_path / "long.flac"
    sf.write(wav, audio, 16000)
    result, peak_mib = run_measured("animate", wav, "-o", tmp_path / "long.npz")
    assert result.returncode == 0, result.stderr
    anim = read(tmp_path / "long.npz")
    assert abs(anim.num_frames - 36000) <= 1
    assert anim.channel("jawOpen").std() > 0.05           # the lips do move
    assert peak_mib < 2500, peak_mib
