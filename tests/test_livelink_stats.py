"""Known-answer tests of the capture statistics on synthetic animations, plus a plausibility
check on the shared Live Link captures (skipped when they are absent)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from emoface.animation import Animation
from emoface.arkit import INDEX, NUM_BLENDSHAPES
from emoface.cli import main
from emoface.data import livelink_stats as ls
from emoface.export import livelink_csv

FPS = 60.0


def blank(seconds: float, fps: float = FPS) -> Animation:
    n = round(seconds * fps)
    return Animation(np.zeros((n, NUM_BLENDSHAPES), np.float32), fps,
                     head=np.zeros((n, 3), np.float32), eyes=np.zeros((n, 6), np.float32))


def pulse(t: np.ndarray, peak_time: float, rise: float, fall: float, height: float) -> np.ndarray:
    """Raised-cosine up over ``rise`` s to ``height`` at ``peak_time``, down over ``fall`` s."""
    out = np.zeros_like(t)
    up = (t >= peak_time - rise) & (t <= peak_time)
    down = (t > peak_time) & (t <= peak_time + fall)
    out[up] = height * (1 - np.cos(np.pi * (t[up] - peak_time + rise) / rise)) / 2
    out[down] = height * (1 + np.cos(np.pi * (t[down] - peak_time) / fall)) / 2
    return out


def set_pair(anim: Animation, stem: str, curve: np.ndarray,
             right: np.ndarray | None = None) -> None:
    anim.weights[:, INDEX[stem + "Left"]] = curve
    anim.weights[:, INDEX[stem + "Right"]] = curve if right is None else right


# 10%-of-rise crossing of a raised cosine sits acos(0.8)/pi of the way into the ramp.
TEN_PERCENT = math.acos(0.8) / math.pi


# ------------------------------------------------------------------------ blinks
def test_three_planted_blinks_give_times_rate_and_durations():
    anim = blank(10.0)
    t = anim.times
    lids = sum(pulse(t, p, 0.08, 0.16, 0.9) for p in (2.0, 5.0, 8.0))
    set_pair(anim, "eyeBlink", lids)
    blinks = ls.detect_blinks(anim)
    assert len(blinks) == 3
    assert np.allclose([b.time for b in blinks], [2.0, 5.0, 8.0], atol=1 / FPS)
    assert ls.blink_rate_per_minute(anim, blinks) == pytest.approx(18.0)
    for b in blinks:
        assert b.amplitude == pytest.approx(0.9, abs=0.02)
        assert b.closing == pytest.approx(0.08 * (1 - TEN_PERCENT), abs=1.5 / FPS)
        assert b.opening == pytest.approx(0.16 * (1 - TEN_PERCENT), abs=1.5 / FPS)
        assert b.duration == pytest.approx(b.closing + b.opening)
    assert ls.detect_closures(anim, blinks) == []


def test_long_closure_is_not_a_blink_but_is_reported():
    anim = blank(8.0)
    t = anim.times
    closed = np.clip((t - 3.0) / 0.1, 0, 1) * np.clip((5.1 - t) / 0.1, 0, 1) * 0.9
    lids = closed + pulse(t, 1.0, 0.08, 0.16, 0.9) + pulse(t, 7.0, 0.08, 0.16, 0.9)
    set_pair(anim, "eyeBlink", lids)
    blinks = ls.detect_blinks(anim)
    assert [round(b.time, 2) for b in blinks] == [1.0, 7.0]
    closures = ls.detect_closures(anim, blinks)
    assert len(closures) == 1
    assert closures[0].start == pytest.approx(3.0, abs=0.1)
    assert closures[0].duration == pytest.approx(2.0, abs=0.15)
    assert closures[0].side == "both"


def test_half_second_squint_is_a_closure_not_a_blink():
    anim = blank(4.0)
    set_pair(anim, "eyeBlink", pulse(anim.times, 2.0, 0.3, 0.4, 0.8))
    assert ls.detect_blinks(anim) == []
    assert len(ls.detect_closures(anim)) == 1


def test_a_wink_is_not_a_blink():
    anim = blank(4.0)
    set_pair(anim, "eyeBlink", pulse(anim.times, 2.0, 0.08, 0.16, 0.9),
             right=np.zeros(anim.num_frames))
    assert ls.detect_blinks(anim) == []


def test_blink_from_wide_eyes_counts_and_a_relaxing_stare_does_not():
    anim = blank(8.0)
    t = anim.times
    # Wide eyes that blink at 2 s, reported as ARKit does: eyeWide collapses while eyeBlink
    # rises less than a blink threshold would accept on its own. At 4 s the stare flickers
    # (briefly less wide, never closed) and from 6 s it relaxes for a while: no blinks.
    wide = 0.5 - pulse(t, 2.0, 0.08, 0.16, 0.5) - pulse(t, 4.0, 0.08, 0.1, 0.3)
    wide[(t >= 6.0) & (t < 7.0)] = 0.2
    set_pair(anim, "eyeWide", wide)
    set_pair(anim, "eyeBlink", pulse(t, 2.0, 0.08, 0.16, 0.1))
    blinks = ls.detect_blinks(anim)
    assert len(blinks) == 1
    assert blinks[0].time == pytest.approx(2.0, abs=1 / FPS)
    assert blinks[0].amplitude == pytest.approx(0.1, abs=0.01)
    assert blinks[0].rise == pytest.approx(0.6, abs=0.02)


def test_blink_during_a_squint_is_measured_from_the_squint():
    anim = blank(8.0)
    t = anim.times
    squint = 0.3 * np.clip((t - 2.0) / 0.3, 0, 1) * np.clip((6.0 - t) / 0.3, 0, 1)
    set_pair(anim, "eyeBlink", np.maximum(squint, pulse(t, 4.0, 0.08, 0.16, 0.9)))
    blinks = ls.detect_blinks(anim)
    assert [round(b.time, 2) for b in blinks] == [4.0]
    assert blinks[0].amplitude == pytest.approx(0.6, abs=0.02)
    closures = ls.detect_closures(anim, blinks)
    assert len(closures) == 1 and 3.4 < closures[0].duration <= 4.0  # level crossed on the ramps


def test_blinks_closer_than_min_separation_merge():
    anim = blank(4.0)
    t = anim.times
    set_pair(anim, "eyeBlink", pulse(t, 2.0, 0.05, 0.05, 0.9) + pulse(t, 2.12, 0.05, 0.05, 0.6))
    assert len(ls.detect_blinks(anim, min_separation=0.2)) == 1
    assert len(ls.detect_blinks(anim, min_separation=0.05)) == 2


def test_rate_is_per_minute_of_animation():
    anim = blank(60.0, fps=30.0)
    lids = sum(pulse(anim.times, 3.0 + 6 * k, 0.08, 0.2, 0.7) for k in range(10))
    set_pair(anim, "eyeBlink", lids)
    assert ls.blink_rate_per_minute(anim) == pytest.approx(10.0)


# ---------------------------------------------------------------------------- gaze
def sinusoidal_gaze(seconds: float = 20.0, yaw_k: float = 0.6, pitch_k: float = 0.45) -> Animation:
    """eyeLook weights sweeping slowly left/right and up/down, eye rotations exactly
    ``k`` radians per unit, with Live Link's signs."""
    anim = blank(seconds)
    t = anim.times
    h = 0.5 * np.sin(2 * np.pi * 0.1 * t)    # + = toward the performer's right
    v = 0.4 * np.sin(2 * np.pi * 0.07 * t)   # + = down
    w = anim.weights
    w[:, INDEX["eyeLookInLeft"]] = np.maximum(h, 0)
    w[:, INDEX["eyeLookOutLeft"]] = np.maximum(-h, 0)
    w[:, INDEX["eyeLookOutRight"]] = np.maximum(h, 0)
    w[:, INDEX["eyeLookInRight"]] = np.maximum(-h, 0)
    for side in ("Left", "Right"):
        w[:, INDEX["eyeLookDown" + side]] = np.maximum(v, 0)
        w[:, INDEX["eyeLookUp" + side]] = np.maximum(-v, 0)
    anim.eyes[:, 0] = anim.eyes[:, 3] = yaw_k * h
    anim.eyes[:, 1] = anim.eyes[:, 4] = pitch_k * v
    return anim


def test_eye_angle_fit_recovers_the_factors():
    fit = ls.fit_eye_angles(sinusoidal_gaze(yaw_k=0.6, pitch_k=0.45))
    # Out turns the left eye to -yaw and the right eye to +yaw; Up is -pitch.
    assert fit["left_yaw"]["slope"] == pytest.approx(-0.6, abs=1e-3)
    assert fit["right_yaw"]["slope"] == pytest.approx(0.6, abs=1e-3)
    assert fit["left_pitch"]["slope"] == pytest.approx(-0.45, abs=1e-3)
    assert fit["right_pitch"]["r2"] == pytest.approx(1.0, abs=1e-6)
    assert fit["yaw_rad_per_look"] == pytest.approx(0.6, abs=1e-3)
    assert fit["pitch_rad_per_look"] == pytest.approx(0.45, abs=1e-3)
    assert fit["pitch_same_both_eyes"]


def test_slow_sinusoidal_gaze_has_no_saccades_and_weights_agree_with_rotation():
    anim = sinusoidal_gaze(yaw_k=ls.YAW_RAD_PER_LOOK, pitch_k=ls.PITCH_RAD_PER_LOOK)
    assert ls.detect_saccades(anim) == []
    assert np.allclose(ls.gaze_angles(anim, "weights"), ls.gaze_angles(anim, "rotation"), atol=1e-5)
    # Peak speed of the sweep: 2*pi*f*A in each axis, well under the saccade threshold.
    assert ls.gaze_speed(anim).max() < ls.SACCADE_VELOCITY_DEG_S


def gaze_steps(anim: Animation, times, yaw_deg, pitch_deg, frames: int = 3) -> None:
    """Conjugate gaze that jumps to each (yaw, pitch) target at each time over ``frames``."""
    t = anim.times
    yaw = np.zeros(len(t))
    pitch = np.zeros(len(t))
    for when, y, p in zip(times, yaw_deg, pitch_deg):
        ramp = np.clip((t - when) * anim.fps / frames, 0, 1)
        yaw += np.radians(y) * ramp
        pitch += np.radians(p) * ramp
    anim.eyes[:, 0] = anim.eyes[:, 3] = yaw
    anim.eyes[:, 1] = anim.eyes[:, 4] = pitch


def test_planted_saccades_give_count_amplitude_and_intervals():
    anim = blank(6.0)
    gaze_steps(anim, [1.0, 2.5, 4.0], [5.0, -8.0, 0.0], [0.0, 0.0, 3.0])
    sacc = ls.detect_saccades(anim)
    assert len(sacc) == 3
    assert [s.amplitude for s in sacc] == pytest.approx([5.0, 8.0, 3.0], abs=0.05)
    assert [s.yaw for s in sacc] == pytest.approx([5.0, -8.0, 0.0], abs=0.05)
    assert np.diff([s.time for s in sacc]) == pytest.approx([1.5, 1.5], abs=1 / FPS)
    assert all(s.peak_velocity > ls.SACCADE_VELOCITY_DEG_S for s in sacc)


def test_tiny_steps_and_blink_artefacts_are_not_saccades():
    anim = blank(6.0)
    gaze_steps(anim, [1.0, 3.0], [0.5, 10.0], [0.0, 0.0])  # 0.5 deg: below the minimum
    set_pair(anim, "eyeBlink", pulse(anim.times, 3.0, 0.08, 0.16, 0.9))  # shift during a blink
    assert ls.detect_saccades(anim) == []
    assert len(ls.detect_saccades(anim, blinks=[], closures=[])) == 1


def test_gaze_falls_back_to_weights_without_rotations():
    anim = sinusoidal_gaze()
    anim.eyes[:] = 0
    assert not ls.eye_rotations_recorded(anim)
    assert np.allclose(ls.gaze_angles(anim), ls.gaze_angles(anim, "weights"))
    assert ls.fit_eye_angles(anim) == {}


# ------------------------------------------------------------ levels and motion
def test_levels_asymmetry_and_jitter_known_answers():
    anim = blank(2.0, fps=30.0)
    n = anim.num_frames
    set_pair(anim, "mouthSmile", np.full(n, 0.4), right=np.full(n, 0.2))
    anim.weights[:, INDEX["browInnerUp"]] = 0.5 + 0.01 * (-1.0) ** np.arange(n)
    anim.weights[:, INDEX["jawOpen"]] = np.linspace(0, 0.5, n)
    levels = ls.feature_levels(anim)
    assert levels["mouthSmile"]["mean"] == pytest.approx(0.3, abs=1e-6)
    assert levels["mouthSmile"]["p95"] == pytest.approx(0.3, abs=1e-6)
    asym = ls.asymmetry(anim)["mouthSmile"]
    assert asym["mean_diff"] == pytest.approx(0.2, abs=1e-6)
    assert asym["relative_abs_diff"] == pytest.approx(0.2 / 0.3, abs=1e-5)
    assert "eyeLookIn" not in ls.asymmetry(anim) and "jaw" not in ls.FEATURES
    jit = dict(zip(anim.names, ls.jitter(anim)))
    assert jit["browInnerUp"] == pytest.approx(0.04, abs=1e-5)  # |1 - 2(-1) + 1| * 0.01
    assert jit["jawOpen"] == pytest.approx(0.0, abs=1e-6)       # a straight ramp is smooth
    assert ls.channel_stats(anim)["mouthSmileLeft"]["max"] == pytest.approx(0.4, abs=1e-6)


def test_jaw_activity_tells_syllables_from_a_held_jaw():
    anim = blank(10.0)
    t = anim.times
    anim.weights[:, INDEX["jawOpen"]] = 0.2 * (1 - np.cos(2 * np.pi * 4 * t)) / 2  # 4 Hz
    talking = ls.jaw_activity(anim)
    assert talking["peaks_per_s"] == pytest.approx(4.0, abs=0.2)
    assert talking["band_2_8hz_share"] > 0.9
    anim.weights[:, INDEX["jawOpen"]] = 0.2
    held = ls.jaw_activity(anim)
    assert held["peaks_per_s"] == 0 and math.isnan(held["band_2_8hz_share"])


# ------------------------------------------------------------- folder and CLI
def synthetic_folder(root):
    for label, rate in (("idle", 2), ("sad", 4)):
        anim = blank(30.0)
        set_pair(anim, "eyeBlink", sum(pulse(anim.times, 1.0 + 30 / rate * k, 0.08, 0.16, 0.8)
                                       for k in range(rate)))
        if label == "sad":
            anim.weights[:, INDEX["browInnerUp"]] = 0.3
        (root / label).mkdir()
        livelink_csv.write(anim, root / label / f"{label}.csv")
    return root


def test_summarise_labels_and_baseline(tmp_path):
    summary = ls.summarise(synthetic_folder(tmp_path))
    assert [t["label"] for t in summary["takes"]] == ["idle", "sad"]
    assert summary["labels"]["idle"]["blinks_per_min"] == pytest.approx(4.0)
    assert summary["labels"]["sad"]["blinks_per_min"] == pytest.approx(8.0)
    assert summary["all"]["blinks"] == 6
    assert not summary["takes"][0]["head_recorded"]
    change = summary["level_change_vs_baseline"]["sad"]["browInnerUp"]["mean"]
    assert change == pytest.approx(0.3, abs=1e-3)
    assert "| sad |" in ls.to_markdown(summary)


def test_cli_writes_json_and_markdown(tmp_path, capsys):
    (tmp_path / "caps").mkdir()
    folder = synthetic_folder(tmp_path / "caps")
    out_json, out_md = tmp_path / "s.json", tmp_path / "s.md"
    assert main(["dev", "livelink-report", str(folder), "--json", str(out_json), "--markdown", str(out_md)]) == 0
    data = json.loads(out_json.read_text())
    assert data["all"]["blinks"] == 6
    assert out_md.read_text().startswith("### Per capture")


def test_cli_missing_folder_is_a_user_error(tmp_path, capsys):
    assert main(["dev", "livelink-report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emoface: error:") and "Traceback" not in err


# ------------------------------------------------------------ shared captures
def test_shared_captures_have_plausible_blink_rates(shared_data):
    folder = shared_data / "livelink"
    if not folder.is_dir():
        pytest.skip(f"missing shared data: {folder}")
    takes = ls.load_takes(folder)
    assert len(takes) >= 1
    for take in takes:
        rate = ls.blink_rate_per_minute(take.anim)
        assert 2 <= rate <= 60, (take.label, take.name, rate)
        assert not ls.head_recorded(take.anim)  # these captures carry no head rotation
    fit = ls.fit_eye_angles([t.anim for t in takes])
    assert 0.4 < fit["yaw_rad_per_look"] < 0.9 and fit["left_yaw"]["r2"] > 0.9
