"""The ``video`` corpus source: a talking-face video becomes a clip whose audio is its sound
and whose targets are captured from its face. A short rendered take of the default head
with a spoken soundtrack stands in for a real video; GRID folders keep their held-out side
out; training reads a captured clip under every emotion, with per-channel trust."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from data_fixtures import speech

from emoface.cli.data import parse_sources
from emoface.data.build import BuildOptions, build
from emoface.data.corpus import Corpus
from emoface.data.manifest import check_speaker_disjoint
from emoface.data.sources import video
from emoface.eval import realmotion
from emoface.train.data import (
    CAPTURE_CHANNEL_WEIGHTS,
    CAPTURED_CHANNELS,
    OWN_CONDITION_SHARE,
    PREDICTED_INDEX,
    Sampler,
    load_clip,
)

SOURCES = lambda root: [("video", root)]  # noqa: E731


def test_grid_fit_side_matches_the_benchmark_split():
    assert video.GRID_FIT_CLIPS == realmotion.FIT_CLIPS


def test_plan_keeps_grid_held_out_clips_out_and_every_tenth_for_validation(tmp_path):
    (tmp_path / "align").mkdir()
    for i in range(230):
        (tmp_path / f"c{i:03d}.mp4").write_bytes(b"")
    items = video.plan(tmp_path, BuildOptions())
    assert len(items) == video.GRID_FIT_CLIPS
    assert items[-1].id == "video-c199"
    assert [it.params["split"] for it in items[:10]] == ["train"] * 9 + ["val"]
    assert sum(it.params["split"] == "val" for it in items) == 20


def test_cli_accepts_video_dir_and_video_equals_dir(tmp_path):
    assert parse_sources(["video", str(tmp_path)]) == [("video", tmp_path)]
    assert parse_sources([f"video={tmp_path}", "emodb"])[0] == ("video", tmp_path)


def _take_folder(tmp_path: Path) -> Path:
    """One 2 s clip: the default head rendered with a known take, espeak speech as sound."""
    pytest.importorskip("mediapipe")
    pytest.importorskip("moderngl")
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    from emoface.capture.recover import render_clip
    from emoface.capture.takes import random_take
    from emoface.errors import UserError
    from emoface.render.scene import create_context

    try:
        create_context().release()
    except UserError as exc:
        pytest.skip(str(exc))
    folder = tmp_path / "videos"
    folder.mkdir()
    samples, _ = speech("a short take for the corpus")
    frames = int(len(samples) / 16000 * 25)
    silent = render_clip(random_take(frames, 25.0, seed=3), "default", tmp_path / "silent.mp4",
                         size=(240, 240))
    wav = tmp_path / "sound.wav"
    sf.write(wav, samples, 16000)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i",
                    str(silent), "-i", str(wav), "-c:v", "copy", "-c:a", "aac", "-shortest",
                    str(folder / "take.mp4")], check=True)
    (folder / "take.txt").write_text("a short take for the corpus")
    return folder


def test_video_clip_builds_once_and_trains_its_capture_under_every_emotion(tmp_path):
    folder = _take_folder(tmp_path)
    out = tmp_path / "corpus"
    report = build(out, SOURCES(folder), BuildOptions(workers=1, progress=False))
    assert report.built["video"] == 1 and not report.failed and not report.skipped
    corpus = Corpus(out)
    (row,) = corpus.manifest
    assert row["source"] == "video" and row["target_kind"] == "captured"
    assert row["emotion"] == "neutral" and row["sample_rate"] == 16000
    assert row["target_fps"] == 30.0 and "captured" in row["flags"]
    assert row["extra"]["split_by"] == "sentence"   # train and val share the one speaker
    check_speaker_disjoint([row, {**row, "split": "val"}])
    arrays = corpus.target_arrays(row)
    frames = arrays["captured_weights"].shape[0]
    assert arrays["captured_weights"].shape == (frames, 52)
    assert abs(frames / 30.0 - row["duration"]) < 0.1
    assert arrays["weights"].shape[1] == frames          # exchange set on the same grid
    assert len(corpus.audio(row)) == pytest.approx(row["duration"] * 16000, abs=1)

    again = build(out, SOURCES(folder), BuildOptions(workers=1, progress=False))
    assert again.work_done == 0 and again.reused["video"] == 1

    # trains on the whole exchange set, the real lips under every emotion: the clip's own
    # (neutral) variant carries the capture on the captured channels
    clip = load_clip(corpus, row, keep_audio=False)
    variants = len(arrays["emotions"])
    assert clip.captured and clip.weights.shape[:2] == (variants, frames)
    own = [str(e) for e in arrays["emotions"]].index("neutral")
    assert clip.amounts[own, 0] == 1.0
    captured = arrays["captured_weights"][:, PREDICTED_INDEX][:, CAPTURED_CHANNELS]
    assert np.allclose(clip.weights[own][:, CAPTURED_CHANNELS], captured, atol=2e-3)
    item = Sampler([clip], {"video": 1.0}, 1.0, augment_prob=0.0).sample(
        np.random.default_rng(0))
    assert np.array_equal(item["channel_weight"], CAPTURE_CHANNEL_WEIGHTS)
    assert item["captured"] and item["head_weight"] == 1.0
    # about OWN_CONDITION_SHARE of its draws are its own condition; the rest spread
    assert clip.own == own
    sampler = Sampler([clip], {"video": 1.0}, 1.0, augment_prob=0.0)
    rng = np.random.default_rng(1)
    conditions = [sampler.sample(rng)["amounts"] for _ in range(400)]
    neutral = np.mean([np.allclose(a, clip.amounts[own]) for a in conditions])
    assert abs(neutral - OWN_CONDITION_SHARE) < 0.1
    assert len({tuple(np.round(a.mean(0) if a.ndim > 1 else a, 3)) for a in conditions}) > 10


def test_without_mediapipe_every_clip_is_skipped_with_the_reason(tmp_path, monkeypatch):
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "take.mp4").write_bytes(b"not really a video")
    monkeypatch.setattr(video, "missing_module", lambda: "mediapipe")
    report = build(tmp_path / "corpus", SOURCES(folder), BuildOptions(workers=1, progress=False))
    assert report.built["video"] == 0 and not report.failed
    (skip,) = report.skipped
    assert "mediapipe is not installed" in skip["reason"]
    assert not (tmp_path / "corpus" / "manifest.jsonl").read_text().strip()
