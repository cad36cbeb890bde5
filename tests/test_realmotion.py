"""Real motion (emoface.eval.realmotion): the metrics on curves with known answers, the
GRID split, and one GRID clip end to end for a baseline engine (skipped without the data
or mediapipe)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from emoface.cli import main
from emoface.engines import engine_class
from emoface.eval import realmotion
from emoface.eval.realmotion import (
    Word,
    closure_recall,
    false_closures,
    grid_split,
    lag_correlation,
    read_alignment,
    speech_mask,
    transcript,
)

FPS = 25.0


def _bumps(n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.convolve(rng.uniform(0, 1, n + 8), np.ones(5) / 5, "same")[4:4 + n]


@pytest.mark.parametrize("lag", [-3, -1, 0, 2, 3])
def test_a_lagged_copy_correlates_fully_at_its_lag(lag):
    ref = _bumps()
    pred = np.roll(ref, lag)             # pred[t + lag] == ref[t]
    mask = np.zeros(len(ref), bool)
    mask[10:-10] = True                  # away from the wrapped ends
    r, best = lag_correlation(pred, ref, mask)
    assert best == lag and r == pytest.approx(1.0)


def test_a_lag_beyond_the_window_is_not_found():
    ref = _bumps()
    r, best = lag_correlation(np.roll(ref, 6), ref, np.r_[np.zeros(10, bool),
                                                         np.ones(100, bool), np.zeros(10, bool)])
    assert abs(best) <= 3 and r < 0.9


def test_a_flat_animation_has_r_zero():
    r, lag = lag_correlation(np.zeros(50), _bumps(50))
    assert r == 0.0 and lag == 0


def _closure_case(offset: int):
    """One b/p/m word over frames 10..20 whose lips touch on video at frame 15 only, and
    an animation closed only at frame 15 + offset."""
    words = [Word(0.0, 0.4, "sil"), Word(0.4, 0.8, "bin"), Word(0.8, 1.2, "sil")]
    raw = np.full(40, 0.05)
    raw[15] = 0.001
    aperture = np.full(40, 0.3)
    aperture[15 + offset] = 0.0
    return closure_recall(aperture, raw, words, FPS)


def test_a_closure_missed_by_one_frame_counts_by_two_does_not():
    assert _closure_case(0) == (1, 1)
    assert _closure_case(1) == (1, 1)
    assert _closure_case(-1) == (1, 1)
    assert _closure_case(2) == (1, 0)
    assert _closure_case(-2) == (1, 0)


def test_closures_only_in_bilabial_words_and_only_where_seen():
    raw = np.full(40, 0.05)
    raw[15] = 0.001
    aperture = np.zeros(40)
    assert closure_recall(aperture, raw, [Word(0.4, 0.8, "two")], FPS) == (0, 0)  # no b/p/m
    assert closure_recall(aperture, np.full(40, 0.05), [Word(0.4, 0.8, "bin")], FPS) == (0, 0)


def test_false_closures_count_closed_frames_while_the_video_is_open():
    raw = np.array([0.01, 0.05, 0.05, 0.05, np.nan])
    aperture = np.array([0.0, 0.0, 0.2, 0.01, 0.0])
    mask = np.array([True, True, True, False, True])
    assert false_closures(aperture, raw, mask) == (1, 2)


def test_speech_mask_and_transcript_skip_silence(tmp_path):
    path = tmp_path / "x.align"
    path.write_text("0 10000 sil\n10000 20000 bin\n20000 22500 sp\n22500 30000 blue\n"
                    "30000 50000 sil\n")
    words = read_alignment(path)
    assert words[1] == Word(0.4, 0.8, "bin") and transcript(words) == "bin blue"
    mask = speech_mask(words, FPS, 50)
    assert mask[10:21].all() and not mask[:10].any() and not mask[31:].any()
    assert not mask[21]                          # frame 21 = 0.84 s lies in the pause


def test_the_split_is_deterministic_disjoint_and_by_name(tmp_path):
    names = [f"{c}{i}.mp4" for c in "zyxw" for i in range(80)]     # 320, unsorted
    clips = [tmp_path / n for n in names]
    fit, held = grid_split(clips)
    assert (fit, held) == grid_split(list(reversed(clips)))
    assert len(fit) == realmotion.FIT_CLIPS and len(held) == len(clips) - realmotion.FIT_CLIPS
    assert not set(fit) & set(held) and max(p.name for p in fit) < min(p.name for p in held)


def test_the_real_grid_split_is_the_captures():
    if realmotion.unavailable_reason() is not None:
        pytest.skip(realmotion.unavailable_reason())
    fit, held = grid_split()
    assert len(fit) == 200 and fit[-1].stem == "priv5s" and held[0].stem == "priv6p"


def test_one_grid_clip_end_to_end_for_a_baseline(tmp_path):
    if realmotion.unavailable_reason() is not None:
        pytest.skip(realmotion.unavailable_reason())
    baseline = [s for s in realmotion.real_motion_systems()
                if engine_class(s.engine).capabilities.baseline][:1]
    clip = grid_split()[1][:1]
    results = realmotion.run(clip, baseline, cache_dir=tmp_path, progress=False)
    label = baseline[0].label
    row, ceiling = (results["summary"][k] for k in (label, realmotion.CAPTURE))
    assert results["clips"] == [clip[0].stem] and row["frames"] > 30
    assert ceiling["r_raw"] > 0.85 and ceiling["closure_recall"] == 1.0
    assert -1 <= row["r_raw"] <= 1 and 0 <= row["closures_hit"] <= row["closures_seen"]
    assert row["jitter"] >= 0 and row["captured_jitter"] == ceiling["jitter"]
    again = realmotion.run(clip, baseline, cache_dir=tmp_path, progress=False)
    same = [json.dumps(r["summary"], sort_keys=True) for r in (again, results)]
    assert same[0] == same[1]                                    # served from the cache
    assert list(tmp_path.glob("realmotion/*/clips/*.json"))
    assert label in realmotion.render_markdown(results)


def test_the_cli_writes_json_and_markdown(tmp_path, capsys):
    if realmotion.unavailable_reason() is not None:
        pytest.skip(realmotion.unavailable_reason())
    out, md = tmp_path / "rm.json", tmp_path / "rm.md"
    assert main(["dev", "real-motion", "--clips", "1", "--cache", str(tmp_path / "cache"),
                 "--json", str(out), "--markdown", str(md)]) == 0
    results = json.loads(out.read_text())
    assert len(results["clips"]) == 1 and realmotion.CAPTURE in results["summary"]
    assert set(results["summary"]) == {realmotion.CAPTURE} | {
        s.label for s in realmotion.real_motion_systems()} - set(results["unavailable"])
    assert realmotion.CAPTURE in md.read_text()


def test_the_cli_refuses_zero_clips(capsys):
    assert main(["dev", "real-motion", "--clips", "0"]) == 2
    assert "--clips" in capsys.readouterr().err
