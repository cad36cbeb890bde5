"""The quick benchmark suite end to end, with quality thresholds on its numbers.

Runs ``emoface bench --suite quick`` once (about a minute here, two with the neural model
installed) and checks what the baselines and the rules engine must reach on its fixed
inputs, and that the neural model's rows say what it heard in training. Timings are
reported by the suite but never asserted.
"""
import json

import numpy as np
import pytest
from conftest import need


def _need_espeak():
    from emoface.audio.espeak import is_available

    if not is_available():
        pytest.skip("espeak-ng is not installed")


@pytest.fixture(scope="module")
def quick(shared_data, tmp_path_factory):
    for p in ("ict-facekit/ict_facekit.npz", "speech/librivox", "speech/asterisk", "emodb",
              "livelink"):
        need(shared_data / p)
    _need_espeak()
    from emoface.cli.bench import run_and_report
    from emoface.eval.suites import quick_suite

    out = tmp_path_factory.mktemp("bench")
    report = run_and_report(quick_suite(shared_data), None, out, out / "quick.md", out,
                            show_progress=False, title="quick")
    report["out"] = out
    return report


def _m(report, label, key):
    value = report["summary"][label].get(key)
    return value[0] if isinstance(value, tuple) else value


def test_every_baseline_is_benchmarked(quick):
    labels = [s["label"] for s in quick["results"]["systems"]]
    assert labels[:4] == ["neutral", "loudness-jaw", "rules", "rules + transcript"]


def test_rules_with_transcript_closes_the_lips(quick):
    # On forced-alignment inputs the phones are the engine's own: closure must be near certain.
    assert _m(quick, "rules + transcript", "closure/align") >= 0.95
    # Against espeak's exact phones, alignment errors count too.
    assert _m(quick, "rules + transcript", "closure/indep") >= 0.75
    assert _m(quick, "reference", "closure/indep") == 1.0
    assert _m(quick, "loudness-jaw", "closure/align") < 0.5


def test_lip_sync_ranks_engines_sensibly(quick):
    lve = {lab: _m(quick, lab, "lve/indep") for lab in ("neutral", "loudness-jaw", "rules",
                                                         "rules + transcript")}
    assert lve["rules + transcript"] < lve["rules"] < min(lve["neutral"], lve["loudness-jaw"])
    assert _m(quick, "rules + transcript", "mouth_r/indep") >= 0.8
    assert _m(quick, "rules", "mouth_r/align") > _m(quick, "loudness-jaw", "mouth_r/align") > 0.2
    assert _m(quick, "neutral", "mouth_r/indep") == 0.0     # a flat mouth carries no signal
    assert _m(quick, "rules + transcript", "viseme/align") > _m(quick, "neutral", "viseme/align")
    # the rules engine with a transcript *is* the reference on forced-alignment sets
    assert quick["summary"]["rules + transcript"].get("self/align")
    assert "lve/align" not in quick["summary"]["rules + transcript"]


def test_expression_classifier_recognises_the_rules_engines_emotions(quick):
    assert _m(quick, "rules + transcript", "expression") >= 0.85
    assert _m(quick, "rules", "expression") >= 0.85
    # engines that ignore the emotion look neutral: chance, 1 of 8
    assert _m(quick, "neutral", "expression") == pytest.approx(1 / 8)
    assert _m(quick, "loudness-jaw", "expression") == pytest.approx(1 / 8)


def test_voice_emotion_baseline_beats_chance_on_unseen_speakers(quick):
    ve = quick["results"]["voice_emotion"]
    assert ve["always neutral (chance)"]["uar"] == pytest.approx(1 / 6)
    assert ve["prosodic statistics + softmax regression"]["uar"] > 0.3
    assert len(ve["prosodic statistics + softmax regression"]["per_speaker_uar"]) == 8


def test_motion_metrics(quick):
    assert _m(quick, "neutral", "jitter") == 0.0
    assert _m(quick, "neutral", "diversity") == 0.0
    assert _m(quick, "loudness-jaw", "diversity") == 0.0   # deterministic
    assert _m(quick, "rules", "diversity") > 0.0           # seeds move blinks and gaze
    assert _m(quick, "neutral", "blinks") == 0.0
    assert 5.0 < _m(quick, "rules + transcript", "blinks") < 45.0
    ref = quick["summary"]["reference"]
    assert 10.0 < ref["capture_blinks"] < 30.0               # people blink 10-30 times a minute


def test_emotion_control_of_the_rules_engine(quick):
    rules = quick["summary"]["rules"]
    assert rules["content_r"][0] >= 0.9          # an emotion leaves the mouth movement alone
    assert rules["label_follow"][0] >= 0.8       # and shows on the face whatever the voice
    assert rules["monotonic"][0] >= 0.9          # and grows with its intensity
    assert rules["upper_change"][0] > 0.5        # mm: the upper face does change
    for baseline in ("neutral", "loudness-jaw"):  # engines that ignore the emotion: no rows
        assert "content_r" not in quick["summary"][baseline]


def test_neural_rows_say_which_inputs_the_model_heard(quick):
    labels = [s["label"] for s in quick["results"]["systems"]]
    if "neural" not in labels:
        pytest.skip("the neural model is not installed")
    assert "neural (auto emotion)" in labels and "neural + transcript" not in labels
    training = quick["results"]["training"]
    assert not training.get("unknown"), "the model's weights carry no training recipe"
    status = training["status"]
    held = {i for i in quick["results"]["items"] if status[i] is None}
    assert held, "nothing in the quick suite is held out from the model's training"
    neural = quick["summary"]["neural"]
    assert neural["closure/held"][1] > 0 and neural["lve/held"][1] == len(
        [i for i in held if quick["results"]["items"][i]["scores"]["neural"].get("vertex")])
    for key in ("content_r", "label_follow", "monotonic"):
        assert key in neural
    md = (quick["out"] / "quick.md").read_text()
    assert "held out from the neural model's training" in md and "## Held-out data" in md
    speed = quick["results"]["model_speed"]
    assert speed["cli"].get("engine") == "neural", speed["cli"]
    assert "torch" in speed["model"]["backends"]


def test_speed_is_measured_for_every_system(quick):
    for s in quick["results"]["systems"]:
        sp = quick["summary"][s["label"]]["speed"]
        assert sp["rtf"] > 0 and sp["peak_rss_mb"] > 0 and sp["audio_s"] >= 9
    assert quick["summary"]["rules + transcript"]["speed"]["phone_method"] == "alignment"


def test_report_files(quick):
    out = quick["out"]
    md = (out / "quick.md").read_text()
    header = "| metric | unit | data (reference) | reference | neutral | loudness-jaw | rules |"
    for text in (header,
                 "Bilabial closure rate", "LVE (lip vertex error)", "Voice emotion recognition",
                 "Real-time factor", "Machine:", "Generated by"):
        assert text in md
    data = json.loads((out / "quick.json").read_text())
    assert data["machine"]["cores"] >= 1
    assert set(data["summary"]) >= {"neutral", "rules", "reference"}
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "quick_confusion_expression.png" in pngs
    assert "quick_confusion_voice_emotion.png" in pngs
    assert any(p.startswith("quick_curves_") for p in pngs)
    assert all((out / p).stat().st_size > 10_000 for p in pngs)


def test_a_second_run_reuses_the_cache(shared_data, tmp_path, monkeypatch):
    from emoface.eval import runner
    from emoface.eval.suites import quick_suite
    from emoface.eval.vertex import reference_rig

    need(shared_data / "ict-facekit" / "ict_facekit.npz")
    item = next(i for i in quick_suite(shared_data).lipsync if i.id == "asterisk/vm-goodbye")
    cache = runner.Cache(tmp_path)
    first = runner.run_lipsync(item, runner.systems_for(), reference_rig(), cache)

    def no_work(*args, **kwargs):
        raise AssertionError("recomputed an item that was cached")

    monkeypatch.setattr(runner, "prepare", no_work)
    assert runner.run_lipsync(item, runner.systems_for(), reference_rig(), cache) == first


# ------------------------------------------------------------------ your own data
def test_bench_on_user_data_with_reference_curves(shared_data, tmp_path, capsys):
    """A folder of x.wav + x.npy (3D-ETF layout) is benchmarked against its curves."""
    need(shared_data / "ict-facekit" / "ict_facekit.npz")
    _need_espeak()
    from emoface.audio.espeak import synthesize
    from emoface.audio.io import save_wav
    from emoface.audio.speech import Speech
    from emoface.cli import main
    from emoface.pipeline import animate

    data = tmp_path / "data"
    (data / "audio").mkdir(parents=True)
    (data / "blendshape").mkdir()
    for k, text in enumerate(["Maybe the boat will come back.", "Bring me a big plum."]):
        samples, sr, phones = synthesize(text)
        save_wav(data / "audio" / f"take{k}.wav", samples, sr)
        (data / "audio" / f"take{k}.txt").write_text(text)
        curves = animate(Speech(samples, sr, phones=phones), emotion="neutral",
                         engine="rules").weights
        np.save(data / "blendshape" / f"take{k}.npy", curves)
    out = tmp_path / "out"
    code = main(["bench", "--engine", "rules", "--data", str(data), "--out", str(out),
                 "--no-speed", "--quiet"])
    assert code == 0
    md = (out / "data.md").read_text()
    assert "captured curves" in md and "LVE (lip vertex error)" in md
    summary = json.loads((out / "data.json").read_text())["summary"]
    assert summary["rules + transcript"]["lve/curves"][0] < summary["rules"]["lve/curves"][0]
    assert summary["rules + transcript"]["closure/curves"][0] >= 0.8
    assert "viseme_agree/curves" in summary["rules"]


def test_bench_rejects_unknown_engine_and_empty_data(tmp_path, capsys):
    from emoface.cli import main

    assert main(["bench", "--engine", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown engine 'nope'" in err
    assert main(["bench", "--data", str(tmp_path)]) == 2
    assert "no audio with reference curves" in capsys.readouterr().err
