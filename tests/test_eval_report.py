"""The report on hand-made results: held-out rows, trained-on marks, control, speed of the
network, voice-emotion folds, rendering and export. No data, no engines, no timings run."""
from dataclasses import asdict

import numpy as np
import pytest

from emoface.arkit import INDEX, NUM_BLENDSHAPES
from emoface.eval import realmotion, report
from emoface.eval.runner import System


def _scores(closed, r, lve, self_reference=False):
    return {"frames": 30, "duration": 1.0, "jitter": 0.001, "blinks": 0,
            "closure": {"closed": closed, "total": 2}, "viseme": {"correct": 1, "total": 2},
            "mouth": {"r": r, "lag_ms": 0.0},
            "vertex": {"lve": lve, "eve": 1.0, "mve": 1.0, "fdd": 0.1, "frames": 30},
            "self_reference": self_reference}


def _content(r):
    levels = np.zeros((4, NUM_BLENDSHAPES))
    levels[:, INDEX["mouthSmileLeft"]] = [0.1, 0.2, 0.3, 0.4]
    still = np.zeros((4, NUM_BLENDSHAPES))
    return {"frames": 30, "mouth_r": {"happy": r, "sad": 1.0},
            "upper_mm": {"happy": 2.0, "sad": 1.0}, "neutral_means": [0.0] * NUM_BLENDSHAPES,
            "level_means": {"happy": levels.tolist(), "sad": still.tolist()}}


@pytest.fixture()
def results():
    systems = [System("neutral", "neutral", False), System("rules", "rules", False),
               System("neural", "neural", False),
               System("neural (auto emotion)", "neural", False, "auto")]
    every = ("neutral", "rules", "neural", "neural (auto emotion)")

    def item(dataset, reference, speaker, neural_closed):
        scores = {lab: _scores(2 if lab != "neural" else neural_closed, 0.8, 3.0) for lab in every}
        scores["reference"] = {"frames": 30, "duration": 1.0, "jitter": 0.0, "blinks": 0,
                               "closure": {"closed": 2, "total": 2},
                               "viseme": {"correct": 2, "total": 2}, "note": ""}
        return {"dataset": dataset, "reference": reference, "speaker": speaker, "scores": scores}

    return {
        "suite": "test", "systems": [asdict(s) for s in systems], "fps": 30.0, "seed": 0,
        "notes": [], "curves": {},
        "items": {"librivox/1": item("librivox", "alignment", "librivox", 1),
                  "asterisk/x": item("asterisk", "alignment", "asterisk", 2),
                  "emodb/14a": item("emodb", "hand", "14", 0),
                  "emodb/03a": item("emodb", "hand", "03", 2)},
        "training": {"weights": "w.safetensors", "stages": ["animation stage (w): ..."],
                     "engines": ["neural"], "notes": [], "validation_speakers": ["emodb-13"],
                     "status": {"librivox/1": None, "emodb/14a": None,
                                "emodb/03a": "clip trained on", "asterisk/x": "clip trained on"}},
        "control": {"content": {"librivox/1": {"rules": _content(0.9), "neural": _content(0.5)}},
                    "label": {"emodb/14a": {
                        "rules": [["angry", "happy", "happy"], ["angry", "sad", "sad"]],
                        "neural": [["angry", "happy", "angry"], ["angry", "sad", "sad"]]}},
                    "content_seconds": 7.1, "label_speakers": ["14"], "held_out_only": True},
        "model_speed": {
            "model": {"audio_s": 61.0, "backends": {
                "torch": {"model_rtf_explicit": 0.004, "engine_rtf_explicit": 0.006,
                          "model_rtf_auto": 0.005, "engine_rtf_auto": 0.007},
                "onnx": {"error": "onnxruntime is not installed"}}},
            "cli": {"audio_s": 61.0, "command": "emoface animate CLIP.wav -o take.npz",
                    "first_wall_s": 4.0, "wall_s": 2.5, "peak_rss_mb": 300.0,
                    "engine": "neural", "emotion_mode": "auto", "backend": "torch"}},
        "graphics": {"settings": {"size": 512, "frames": 150, "repeat": 3, "export_seconds": 60.0},
                     "render": [{"rig": "default", "vertices": 8124, "triangles": 15828,
                                 "render_fps": 40.0, "draw_fps": 44.0, "video_fps": 25.0},
                                {"rig": "ict", "error": "ICT FaceKit not found"}],
                     "export": [{"rig": "default", "format": ".glb", "frames": 1800,
                                 "frames_read": 1800, "write_s": 0.5, "mb": 2.0, "read_s": 0.1,
                                 "first_write_s": 0.6, "max_error": 0.0}]},
        "folds": None,
    }


def _render(results, tmp_path):
    agg = report.aggregate(results)
    return agg, report.render_markdown(results, agg, report.machine_info(), "emoface bench", [],
                                       tmp_path, "t")


def _row(md: str, start: str) -> list[str]:
    line = next(x for x in md.splitlines()
                if x.startswith("|") and x.lstrip("| ").startswith(start))
    return [c.strip() for c in line.strip("|").split("|")]


def test_held_out_rows_compare_every_system_on_what_the_model_never_heard(results, tmp_path):
    agg, md = _render(results, tmp_path)
    # held out: librivox (neural closes 1 of 2) + EmoDB 14 (0 of 2) -> 25 %
    assert agg["neural"]["closure/held"] == (0.25, 4)
    assert agg["rules"]["closure/held"] == (1.0, 4)
    assert "trained/held" not in agg["neural"]
    row = _row(md, "Bilabial closure rate | % of /p b m/ | held out")
    assert "EmoDB speaker 14 (hand-labelled phones) + LibriVox (forced alignment)" in row[2]
    assert row[4:] == ["100.0", "100.0", "25.0", "100.0"]


def test_cells_over_inputs_the_model_heard_say_so(results, tmp_path):
    agg, md = _render(results, tmp_path)
    assert agg["neural"]["trained/indep"] == (1, 2)
    assert "trained/indep" not in agg["rules"]          # only trained engines are marked
    row = _row(md, "Bilabial closure rate | % of /p b m/ | espeak")
    assert row[5] == "100.0" and row[6] == "50.0 (trained on 1/2)"
    assert "## Held-out data" in md and "emodb-13" not in md and "13 of EmoDB" in md
    per_dataset = _row(md, "asterisk | 1 | closure %")
    assert per_dataset[-2] == "100.0 (trained on 1/1)"


def test_control_rows(results, tmp_path):
    agg, md = _render(results, tmp_path)
    assert agg["neural"]["content_r"] == (0.75, 2)
    assert agg["neural"]["content_worst"] == ("happy", 0.5)
    assert agg["rules"]["label_follow"] == (1.0, 2)
    assert agg["neural"]["label_voice"] == (0.5, 2)
    assert agg["rules"]["monotonic"] == (1.0, 1)        # the smile rises; sad moves nothing
    assert _row(md, "Content kept under emotion")[4:] == ["—", "0.950", "0.750", "—"]
    assert _row(md, "Upper face follows the label")[4:] == ["—", "100.0", "50.0", "—"]
    assert _row(md, "Intensity monotonic")[4:] == ["—", "100.0 (1/1)", "100.0 (1/1)", "—"]
    assert "EmoDB speaker 14 (held out from the neural model)" in md


def test_network_speed_and_the_command_land_in_the_neural_columns(results, tmp_path):
    _, md = _render(results, tmp_path)
    assert _row(md, "Model real-time factor, torch")[4:] == ["—", "—", "0.0040", "0.0050"]
    assert _row(md, "Model real-time factor, onnxruntime")[4:] == ["—", "—", "unavailable",
                                                                   "unavailable"]
    assert _row(md, "`emoface animate`, end to end")[4:] == ["—", "—", "—", "2.50"]
    assert _row(md, "its peak memory")[4:] == ["—", "—", "—", "300"]


def test_rendering_and_export_tables(results, tmp_path):
    _, md = _render(results, tmp_path)
    assert "## Rendering and export" in md
    assert _row(md, "default | 8124 | 15828") == ["default", "8124", "15828", "40.0", "44.0",
                                                   "25.0"]
    assert "not measured: ICT FaceKit not found" in md
    assert _row(md, "default | .glb") == ["default", ".glb", "0.50", "2.0", "0.10", "0.60", "yes"]
    assert "emoface dev graphics" in md


def test_voice_emotion_folds_are_reported_or_their_absence_explained(results, tmp_path):
    results["voice_emotion"] = {"always neutral (chance)": {
        "uar": 1 / 6, "accuracy": 0.2, "n": 10, "per_speaker_uar": {"03": 1 / 6}}}
    results["voice_emotion_items"] = 10
    _, md = _render(results, tmp_path)
    assert "emoface dev emotion-folds" in md and "is missing" in md
    results["folds"] = {
        "config": "configs/emotion.toml", "steps": 2000, "path": str(tmp_path / "r.json"),
        "written": "2026-11-21 16:00",
        "pooled": {"utterances": 12, "uar_6way": 0.62, "uar_8way": 0.55},
        "folds": {"emodb-03": {"uar_6way": 0.5, "uar_8way": 0.4},
                  "emodb-08": {"uar_6way": 0.75, "uar_8way": 0.7}},
        "confusion_6way": (np.eye(6) * 2).tolist()}
    _, md = _render(results, tmp_path)
    row = _row(md, "neural emotion branch, retrained without each speaker")
    assert row[1:] == ["62.0", "100.0", "12", "03: 50, 08: 75"]
    assert _row(md, "the same, all 8 outputs allowed")[1] == "55.0"
    assert "is missing" not in md


def test_real_motion_section_when_the_results_have_it(results, tmp_path):
    _, md = _render(results, tmp_path)
    assert realmotion.SECTION not in md
    clip = {"frames": 40, "r_raw": 0.5, "lag_raw": 0, "r_capture": 0.6, "lag_capture": 1,
            "jitter": 0.002, "captured_jitter": 0.007, "closures_seen": 2, "closures_hit": 1,
            "closed_while_open": 3, "open_frames": 30}
    ceiling = {**clip, "r_raw": 0.95, "jitter": 0.007, "closures_hit": 2,
               "closed_while_open": 0}
    del ceiling["r_capture"]
    results["real_motion"] = {
        "data": "GRID", "clips": ["a", "b"], "systems": [realmotion.CAPTURE, "rules"],
        "unavailable": {}, "seed": 0,
        "summary": {realmotion.CAPTURE: realmotion.aggregate([ceiling, ceiling]),
                    "rules": realmotion.aggregate([clip, clip])}}
    _, md = _render(results, tmp_path)
    assert md.index(realmotion.SECTION) < md.index("## Held-out data")
    assert _row(md, "rules |") == ["rules", "0.60", "0.50 (+0)", "2/4 (50 %)", "10.0 % of 60",
                                   "2.00 (7.00)"]
    assert _row(md, realmotion.CAPTURE)[1:3] == ["-", "0.95 (+0)"]


def test_rewriting_the_report_keeps_sections_other_commands_wrote():
    old = ("# emoface benchmarks\n\nold table\n\n## Per dataset\n\nold rows\n\n"
           "## Long inputs: peak memory\n\nmeasured by benchmarks/memory\n\n"
           "## Batch animation on a pool of workers\n\nfiles/s rows\n\n## Notes\n\n- old note\n")
    new = "# emoface benchmarks\n\nnew table\n\n## Per dataset\n\nnew rows\n\n## Notes\n\n- new note\n"
    merged = report.keep_other_sections(old, new)
    assert "old rows" not in merged and "old note" not in merged and "new rows" in merged
    assert merged.index("## Long inputs") < merged.index("## Batch animation") < merged.index(
        "## Notes")
    assert "measured by benchmarks/memory" in merged and "files/s rows" in merged
    assert report.keep_other_sections(new, new) == new
