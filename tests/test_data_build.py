"""Corpus builds on tiny fixture corpora: skips are reported without stopping, reruns do
nothing, worker count and interruptions do not change a byte of the output, captured
targets load back as written."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import make_emodb, make_etf3d, make_librivox, make_livelink

from emoface.data import build as build_mod
from emoface.data import teacher
from emoface.data.build import REPORT_NAME, BuildOptions, build
from emoface.data.corpus import Corpus
from emoface.data.manifest import read_manifest

TTS_HOURS = 0.004  # about 5 short clips


def _digest(folder: Path) -> dict[str, str]:
    """sha1 of every file the build wrote, except the report (it holds timings)."""
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != REPORT_NAME}


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    etf = make_etf3d(root / "etf3d")
    live = make_livelink(root / "livelink")
    return {"librivox": make_librivox(root / "librivox"), "emodb": make_emodb(root / "emodb"),
            "etf3d": root / "etf3d", "livelink": root / "livelink", "etf_written": etf,
            "live_written": live}


def _sources(fx, with_alignment: bool = True):
    out = [("emodb", fx["emodb"]), ("tts", None), ("etf3d", fx["etf3d"])]
    if with_alignment:
        out += [("librivox", fx["librivox"]), ("livelink-take", fx["livelink"])]
    return out


@pytest.fixture(scope="module")
def full_build(fixtures, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    report = build(out, _sources(fixtures), BuildOptions(tts_hours=TTS_HOURS, workers=2,
                                                          progress=False))
    return out, report


def test_bad_clips_are_skipped_with_reasons_and_the_rest_is_built(full_build):
    out, report = full_build
    assert not report.failed, report.failed
    reasons = {s["id"]: s["reason"] for s in report.skipped}
    assert "not audio" in reasons["librivox-reader_one-0002"]                 # corrupt file
    assert "could not be aligned" in reasons["librivox-reader_one-0003"]      # transcript
    assert "length mismatch" in reasons["emodb-03a02Nc"]                      # lablaut
    assert "length mismatch" in reasons["etf3d-WDA_Other_001"]                # captured
    ids = {r["id"] for r in read_manifest(out)}
    assert {"librivox-reader_one-0001", "emodb-03a01Fa", "etf3d-WDA_Someone_000",
            "etf3d-01-01-05-02-01-01-21", "livelink-angry_takes.take1"} <= ids
    assert not ids & set(reasons)
    saved = json.loads((out / REPORT_NAME).read_text())
    assert {s["id"] for s in saved["skipped"]} == set(reasons)
    assert "skipped:" in report.summary()


def test_second_run_does_no_work(full_build, fixtures):
    out, _ = full_build
    before = _digest(out)
    again = build(out, _sources(fixtures), BuildOptions(tts_hours=TTS_HOURS, workers=2,
                                                         progress=False))
    assert again.work_done == 0 and not again.manifest_written
    assert sum(again.built.values()) == 0
    assert len(again.skipped) == 4 and not any(s["new"] for s in again.skipped)
    assert _digest(out) == before


def test_rows_describe_their_clips(full_build):
    out, _ = full_build
    corpus = Corpus(out)
    rows = {r["id"]: r for r in corpus.manifest}
    emo = rows["emodb-03a01Fa"]
    assert (emo["emotion"], emo["intensity"], emo["split"], emo["language"]) == \
        ("happy", 0.8, "train", "de")
    assert emo["sample_rate"] == 22050 and emo["phone_method"] == "lablaut"
    assert emo["target_kind"] == "teacher" and "teacher" in emo["flags"]
    rav = rows["etf3d-01-01-05-02-01-01-21"]
    assert (rav["emotion"], rav["intensity"], rav["speaker"], rav["split"]) == \
        ("angry", 1.0, "ravdess-21", "val")
    assert rav["transcript"] == "Kids are talking by the door."
    live = rows["livelink-angry_takes.take1"]
    assert live["emotion"] == "angry" and live["target_fps"] == 60.0
    assert live["phone_method"] == "alignment"
    for row in corpus.manifest:
        feats = corpus.features(row)
        assert feats["logmel"].shape == (int(np.ceil(row["duration"] * 100 - 1e-9)), 80)
        assert len(feats["f0_hz"]) == len(feats["logmel"])
        targets = corpus.targets(row)
        assert len(targets) == 23 and "label" in targets and "contempt:1.00" in targets
        assert len(corpus.phones(row)) > 0
        if row["source"] == "tts":
            assert row["sample_rate"] == 16000 and (out / row["audio"]).is_file()
            assert abs(len(corpus.audio(row)) - row["duration"] * 16000) <= 2


def test_teacher_label_and_exchange_set(full_build):
    out, _ = full_build
    corpus = Corpus(out)
    row = corpus["emodb-03a01Fa"]
    arrays = corpus.target_arrays(row)
    assert arrays["weights"].shape[0] == 23 and arrays["weights"].dtype == np.float16
    assert arrays["head"].shape[:2] == arrays["weights"].shape[:2]
    assert int(arrays["label"]) == 0 and str(arrays["emotions"][0]) == "happy"
    # the label is the teacher's own render at the clip's emotion and intensity
    anim = teacher.animate(corpus.phones(row), _prosody(corpus, row), row["duration"],
                           "happy", 0.8, 30.0, teacher.clip_seed(row["id"]))
    label = corpus.targets(row)["label"].weights
    assert np.abs(label - anim.weights[: len(label)]).max() < 2e-3      # float16 storage
    keys = list(corpus.targets(row))
    assert keys[1:] == [teacher.variant_key(e, i) for e, i in teacher.exchange_variants()]


def _prosody(corpus, row):
    from emoface.audio.prosody import analyse
    return analyse(corpus.audio(row))


def test_captured_fixtures_load_to_the_curves_written(full_build, fixtures):
    out, _ = full_build
    corpus = Corpus(out)
    for clip_id, weights in fixtures["etf_written"].items():
        if clip_id not in corpus._by_id:
            continue
        label = corpus.targets(corpus[clip_id])["label"]
        assert label.fps == 30.0 and label.meta["kind"] == "captured"
        assert np.array_equal(label.weights, weights)
    assert "etf3d-WDA_Someone_000" in corpus._by_id
    for clip_id, anim in fixtures["live_written"].items():
        label = corpus.targets(corpus[clip_id])["label"]
        assert label.fps == anim.fps
        np.testing.assert_allclose(label.weights, anim.weights, atol=1e-6)
        np.testing.assert_allclose(label.head, anim.head, atol=1e-6)
        np.testing.assert_allclose(label.eyes, anim.eyes, atol=1e-6)
        # the teacher's exchange set follows the capture's frame grid
        assert corpus.targets(corpus[clip_id])["happy:0.70"].num_frames == anim.num_frames


def test_worker_count_does_not_change_the_output(fixtures, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, workers in ((one, 1), (two, 2)):
        build(folder, _sources(fixtures, with_alignment=False),
              BuildOptions(tts_hours=TTS_HOURS, workers=workers, progress=False))
    assert _digest(one) == _digest(two)


def test_interrupted_build_resumes_to_the_same_output(fixtures, tmp_path, monkeypatch):
    clean, broken = tmp_path / "clean", tmp_path / "broken"
    sources = _sources(fixtures, with_alignment=False)
    options = BuildOptions(tts_hours=TTS_HOURS, workers=1, progress=False)
    build(clean, sources, options)

    calls = {"n": 0}
    real_render = teacher.render

    def dying_render(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the third clip: its audio and features are already on disk
            raise KeyboardInterrupt
        return real_render(*args, **kwargs)

    monkeypatch.setattr(build_mod.teacher, "render", dying_render)
    with pytest.raises(KeyboardInterrupt):
        build(broken, sources, options)
    monkeypatch.setattr(build_mod.teacher, "render", real_render)
    assert not (broken / "manifest.jsonl").exists()
    # a killed writer leaves a hidden temporary behind; the next build clears it
    (broken / "targets" / "tts").mkdir(parents=True, exist_ok=True)
    (broken / "targets" / "tts" / ".tts-000002.npz.abc123.npz").write_bytes(b"partial")
    resumed = build(broken, sources, options)
    assert 0 < sum(resumed.built.values()) < sum(resumed.planned.values())
    assert _digest(broken) == _digest(clean)


def test_new_teacher_code_re_renders_only_the_targets(fixtures, tmp_path, monkeypatch):
    sources = _sources(fixtures, with_alignment=False)
    options = BuildOptions(tts_hours=TTS_HOURS, workers=1, progress=False)
    first = build(tmp_path, sources, options)
    before = _digest(tmp_path)
    monkeypatch.setattr(build_mod.teacher, "code_hash", lambda: "edited-rules")
    redo = build(tmp_path, sources, options)
    assert sum(redo.built.values()) == 0
    assert sum(redo.retargeted.values()) == sum(first.built.values())
    after = _digest(tmp_path)
    changed = {k for k in before if before[k] != after[k]}
    assert changed and all(k.startswith("state/") for k in changed)  # same curves, new stamp
    monkeypatch.undo()
    build(tmp_path, sources, options)
    assert _digest(tmp_path) == before


def test_retry_skipped_and_recipe_change(fixtures, tmp_path):
    sources = [("emodb", fixtures["emodb"])]
    options = BuildOptions(workers=1, progress=False)
    build(tmp_path, sources, options)
    again = build(tmp_path, sources, BuildOptions(workers=1, progress=False, retry_skipped=True))
    assert [s["new"] for s in again.skipped] == [True]
    marker = tmp_path / "state" / "emodb" / "emodb-03a01Fa.json"
    data = json.loads(marker.read_text())
    data["recipe"] = "stale"
    marker.write_text(json.dumps(data))
    rebuilt = build(tmp_path, sources, options)
    assert rebuilt.built["emodb"] == 1


def test_pool_workers_end_quietly_on_sigterm():
    """The pool ends its workers with SIGTERM; a worker must die by it, not run a handler
    inherited from the CLI (which raised in each idle worker and printed a traceback)."""
    import signal

    def cli_like(signum, frame):
        raise RuntimeError("the CLI's handler ran in a worker")

    old_term, old_int = signal.signal(signal.SIGTERM, cli_like), signal.getsignal(signal.SIGINT)
    try:
        build_mod._init_worker("unused")
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
