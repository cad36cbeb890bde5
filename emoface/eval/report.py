"""Turn a suite's results into a table (markdown), JSON, and figures (PNG).

The table is metric x system: every row names its unit and the data (and reference) it
was measured on, and a "reference" column holds what the reference itself scores where
that means something (the teacher's own closure rate, the captured blink rate).
"""
from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..arkit import INDEX, LIPS_MEET, lip_aperture
from ..emotion import EMOTIONS
from . import control, realmotion
from .emotion import confusion_matrix, expression_classifier, uar
from .runner import FOLDS_COMMAND, WHISPER_EMOTION_COMMAND, trained_engines

SIX = ["angry", "disgusted", "fearful", "happy", "sad", "neutral"]
HELD = "held"
GROUPS = {
    HELD: None,          # inputs the trained engine never heard (``emoface.eval.heldout``)
    "indep": ("exact", "hand"),
    "align": ("alignment",),
    "curves": ("curves",),
}
GROUP_DATA = {
    "indep": "espeak-ng sentences (exact phones) + EmoDB (hand-labelled phones)",
    "align": "LibriVox + Asterisk (forced alignment of the transcript)",
    "curves": "your data (captured curves beside the audio)",
}
DATASET_NAMES = {"librivox": "LibriVox", "asterisk": "Asterisk", "emodb": "EmoDB",
                 "espeak": "espeak-ng sentences", "user": "your data"}
REFERENCE_NAMES = {"exact": "exact phones", "hand": "hand-labelled phones",
                   "alignment": "forced alignment", "curves": "captured curves"}


# ------------------------------------------------------------------ aggregation
def _status(results: dict) -> dict:
    """{item id: None when held out from the trained engine, else why not}."""
    return (results.get("training") or {}).get("status") or {}


def _trained_labels(results: dict) -> set[str]:
    training = results.get("training") or {}
    engines = set(trained_engines()) if training.get("unknown") else set(training.get("engines") or ())
    return {s["label"] for s in results["systems"] if s["engine"] in engines}


def _group_ids(results: dict, group: str) -> set[str]:
    if group == HELD:
        status = _status(results)
        return {i for i in results["items"] if i in status and status[i] is None}
    return {i for i, v in results["items"].items() if v["reference"] in GROUPS[group]}


def held_description(results: dict, prefix: bool = True) -> str:
    """The held-out group in words, from its items: datasets, references, EmoDB speakers."""
    ids = _group_ids(results, HELD)
    parts = []
    for ds in sorted({results["items"][i]["dataset"] for i in ids}):
        mine = [results["items"][i] for i in ids if results["items"][i]["dataset"] == ds]
        refs = sorted({REFERENCE_NAMES.get(v["reference"], v["reference"]) for v in mine})
        who = ""
        if ds == "emodb":
            who = " " + _speakers(sorted({v.get("speaker") or "?" for v in mine}))
        parts.append(f"{DATASET_NAMES.get(ds, ds)}{who} ({', '.join(refs)})")
    return ("held out from the neural model's training: " if prefix else "") + " + ".join(parts)


def _speakers(names: list[str]) -> str:
    return ("speaker " if len(names) == 1 else "speakers ") + ", ".join(names)


def _scores(results: dict, label: str, refs=None, datasets=None, ids=None):
    for item_id, v in results["items"].items():
        if refs is not None and v["reference"] not in refs:
            continue
        if datasets is not None and v["dataset"] not in datasets:
            continue
        if ids is not None and item_id not in ids:
            continue
        s = v["scores"].get(label)
        if s and "frames" in s:  # skipped systems and teacher-less items have no frames
            yield item_id, s


def _trained_count(results: dict, item_ids) -> tuple[int, int] | None:
    """(inputs trained on, inputs) among ``item_ids``; None when none were trained on."""
    status = _status(results)
    ids = list(item_ids)
    if (results.get("training") or {}).get("unknown"):
        return (-1, len(ids)) if ids else None
    k = sum(1 for i in ids if status.get(i) is not None)
    return (k, len(ids)) if k else None


def aggregate(results: dict) -> dict:
    """{system label: {metric key: value}} plus "reference" for the reference column.
    For a trained engine, ``trained/<part>`` says how many of a row's inputs it heard in
    training."""
    labels = [s["label"] for s in results["systems"]]
    trained = _trained_labels(results)
    common = set.intersection(*[{i for i, _ in _scores(results, lab)} for lab in labels]) \
        if labels else set()
    out: dict = {}
    for label in labels + ["reference"]:
        m: dict = {}
        for group in GROUPS:
            rows = list(_scores(results, label, ids=_group_ids(results, group)))
            if not rows:
                continue
            if label in trained:
                count = _trained_count(results, [i for i, _ in rows])
                if count:
                    m[f"trained/{group}"] = count
            closed = sum(s["closure"]["closed"] for _, s in rows if "closure" in s)
            total = sum(s["closure"]["total"] for _, s in rows if "closure" in s)
            if total:
                m[f"closure/{group}"] = (closed / total, total)
            vc = sum(s["viseme"]["correct"] for _, s in rows if "viseme" in s)
            vt = sum(s["viseme"]["total"] for _, s in rows if "viseme" in s)
            if vt:
                m[f"viseme/{group}"] = (vc / vt, vt)
            judged = [s for _, s in rows if "mouth" in s and not s.get("self_reference")]
            if any(s.get("self_reference") for _, s in rows):
                m[f"self/{group}"] = True
            if judged:
                m[f"mouth_r/{group}"] = (float(np.mean([s["mouth"]["r"] for s in judged])),
                                         len(judged))
                m[f"mouth_lag/{group}"] = float(np.median([s["mouth"]["lag_ms"] for s in judged]))
                frames = np.array([s["vertex"]["frames"] for s in judged], float)
                for k in ("lve", "eve", "mve", "fdd"):
                    m[f"{k}/{group}"] = (float(np.average([s["vertex"][k] for s in judged],
                                                          weights=frames)), len(judged))
                agree = [s["viseme_agreement"] for s in judged
                         if s.get("viseme_agreement") is not None
                         and np.isfinite(s["viseme_agreement"])]
                if agree:
                    m[f"viseme_agree/{group}"] = (float(np.mean(agree)), len(agree))
        # Motion is pooled over the clips every system ran on, so that short clips (where a
        # first blink weighs heavily) count alike for all.
        rows = [(i, sc) for i, sc in _scores(results, label) if i in common]
        if rows:
            frames = np.array([s["frames"] for _, s in rows], float)
            m["jitter"] = (float(np.average([s["jitter"] for _, s in rows], weights=frames)),
                           len(rows))
            minutes = sum(s["duration"] for _, s in rows) / 60
            m["blinks"] = (sum(s["blinks"] for _, s in rows) / minutes, len(rows))
            m["minutes"] = minutes
            if label in trained:
                count = _trained_count(results, [i for i, _ in rows])
                if count:
                    m["trained/motion"] = count
        out[label] = m
    for label in labels:
        m = out[label]
        div = [(i, v[label]["mm"]) for i, v in results.get("diversity", {}).items() if label in v]
        if div:
            m["diversity"] = (float(np.mean([d for _, d in div])), len(div))
            if label in trained and _trained_count(results, [i for i, _ in div]):
                m["trained/diversity"] = _trained_count(results, [i for i, _ in div])
        expr = {i: v[label] for i, v in results.get("expression", {}).items() if v.get(label)}
        pairs = [tuple(r) for rows in expr.values() for r in rows]
        if pairs:
            acc = float(np.mean([t == p for t, p in pairs]))
            m["expression"] = (acc, len(pairs))
            m["expression_confusion"] = _confusion([p[0] for p in pairs],
                                                   [p[1] for p in pairs], list(EMOTIONS))
            if label in trained and _trained_count(results, expr):
                m["trained/expression"] = _trained_count(results, expr)
        auto = [(v["true"], v["pred"][label]) for v in results.get("auto_expression", {}).values()
                if label in v["pred"]]
        if auto:

            m["auto_uar"] = (uar([a for a, _ in auto], [b for _, b in auto], SIX), len(auto))
        sp = results.get("speed", {}).get(label)
        if sp and "error" not in sp:
            m["speed"] = sp
        m.update(_control_summary(results, label))
    _model_speed_summary(results, out)
    ll = results.get("livelink")
    if ll:
        out["reference"]["capture_blinks"] = ll["blinks_per_min"]
        out["reference"]["capture_jitter"] = ll["jitter"]
    return out


def _control_summary(results: dict, label: str) -> dict:
    """Content kept, upper-face change, label following and intensity monotonicity of one
    column, pooled over the control inputs."""

    ctl = results.get("control") or {}
    m: dict = {}
    entries = [v[label] for v in (ctl.get("content") or {}).values() if v.get(label)]
    if entries:
        rs = [r for e in entries for r in e["mouth_r"].values()]
        m["content_r"] = (float(np.mean(rs)), len(rs))
        per_emotion = {emo: float(np.mean([e["mouth_r"][emo] for e in entries]))
                       for emo in entries[0]["mouth_r"]}
        worst = min(per_emotion, key=per_emotion.get)
        m["content_worst"] = (worst, per_emotion[worst])
        ups = [u for e in entries for u in e["upper_mm"].values()]
        m["upper_change"] = (float(np.mean(ups)), len(ups))
        frames = np.array([e["frames"] for e in entries], float)
        neutral = np.average([e["neutral_means"] for e in entries], axis=0, weights=frames)
        levels = {emo: np.average([e["level_means"][emo] for e in entries], axis=0,
                                  weights=frames) for emo in entries[0]["level_means"]}
        mono = control.intensity_monotonic(neutral, levels)
        if mono.pairs:
            m["monotonic"] = (mono.fraction, mono.pairs)
            m["monotonic_failures"] = mono.failures
    rows = [r for v in (ctl.get("label") or {}).values() for r in v.get(label) or []]
    if rows:
        lf = control.label_following(rows)
        m["label_follow"] = (lf.accuracy, lf.total)
        m["label_voice"] = (lf.voice_share, lf.total)
    return m


def _model_speed_summary(results: dict, out: dict) -> None:
    """The network's and the engine's real-time factor per backend into the neural
    columns (explicit emotion, or auto), and `emoface animate` into the column of the
    engine and emotion mode it used."""
    ms = results.get("model_speed") or {}
    systems = results["systems"]
    for backend, row in ((ms.get("model") or {}).get("backends") or {}).items():
        for s in systems:
            if s["engine"] != "neural":
                continue
            mode = "auto" if s.get("emotion") == "auto" else "explicit"
            if "error" in row:
                out[s["label"]][f"model_error/{backend}"] = row["error"]
                continue
            out[s["label"]][f"model_rtf/{backend}"] = row[f"model_rtf_{mode}"]
            out[s["label"]][f"engine_rtf/{backend}"] = row[f"engine_rtf_{mode}"]
    cli = ms.get("cli") or {}
    if cli and "error" not in cli:
        mode = "auto" if cli.get("emotion_mode") == "auto" else "neutral"
        match = [s for s in systems if s["engine"] == cli.get("engine") and not s["transcript"]]
        exact = [s for s in match if s.get("emotion", "neutral") == mode]
        target = (exact or match or [None])[0]
        if target is not None:
            out[target["label"]]["cli"] = cli


def _confusion(y_true, y_pred, labels) -> list[list[int]]:

    return confusion_matrix(y_true, y_pred, labels).tolist()


# ------------------------------------------------------------------------ table
_VERTEX = (("lve", "LVE (lip vertex error)"), ("eve", "EVE (upper-face vertex error)"),
           ("mve", "MVE (mean vertex error)"), ("fdd", "FDD (upper-face dynamics deviation)"))
_JUDGED_AGAINST_TEACHER = ("mouth_r", "mouth_lag", "lve", "eve", "mve", "fdd")
_SPEED_ROWS = (
    ("Real-time factor", "compute s / audio s", "rtf", "{:.4f}"),
    ("  of which phone timing", "alignment, or phone loop without transcript", "rtf_phones",
     "{:.4f}"),
    ("  of which prosody", "compute s / audio s", "rtf_prosody", "{:.4f}"),
    ("  of which the engine", "compute s / audio s", "rtf_engine", "{:.4f}"),
    ("Latency (offline)", "s from utterance end to finished animation", "latency_s", "{:.2f}"),
    ("Cold start", "s, first utterance of a fresh process", "cold_start_s", "{:.2f}"),
    ("Peak memory", "MB resident, whole process", "peak_rss_mb", "{:.0f}"),
    ("Peak Python/numpy heap", "MB (tracemalloc)", "heap_peak_mb", "{:.0f}"),
)


_BACKEND_NAMES = {"torch": "torch", "onnx": "onnxruntime"}


def _pct(v) -> str:
    return f"{100 * v:.1f}"


def _trained_part(key: str) -> str:
    """Which ``trained/<part>`` count annotates the cells of metric ``key``."""
    if "/" in key:
        return key.split("/")[1]
    return {"jitter": "motion", "blinks": "motion"}.get(key, key)


def _trained_note(count) -> str:
    if not count:
        return ""
    k, n = count
    return "trained on: unknown" if k < 0 else f"trained on {k}/{n}"


def _clips(n: int, what: str = "clip") -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def table_rows(results: dict, agg: dict) -> list[list[str]]:
    """[metric, unit, data, reference, one cell per system] rows. A cell measured on fewer
    clips or phones than the row's widest says how many (e.g. an engine that needs a
    transcript has none for EmoDB); a trained engine's cell measured on inputs it heard in
    training says how many (``trained on k/n``)."""
    labels = [s["label"] for s in results["systems"]]
    rows: list[list[str]] = []

    def cell(lab: str, key: str, fmt, widest: int) -> str:
        v = agg[lab].get(key)
        group = key.split("/")[1] if "/" in key else None
        if v is None:
            judged = key.split("/")[0] in _JUDGED_AGAINST_TEACHER
            if group and judged and agg[lab].get(f"self/{group}"):
                return "(is the reference)"
            return "—"
        notes = []
        if isinstance(v, tuple):
            text = fmt(v[0])
            if v[1] < widest:
                notes.append(f"n={v[1]}")
        else:
            text = fmt(v)
        trained = _trained_note(agg[lab].get(f"trained/{_trained_part(key)}"))
        if trained:
            notes.append(trained)
        return text + (f" ({'; '.join(notes)})" if notes else "")

    def add(metric: str, unit: str, data: str, ref: str, key: str, fmt, count: str = "") -> None:
        ns = [agg[lab][key][1] for lab in labels if isinstance(agg[lab].get(key), tuple)]
        widest = max(ns) if ns else 0
        cells = [cell(lab, key, fmt, widest) for lab in labels]
        if all(c == "—" for c in cells):
            return
        if count:
            data = f"{data}; {count.format(n=widest)}"
        rows.append([metric, unit, data, ref] + cells)

    ref = agg.get("reference", {})
    for group in GROUPS:
        if not any(k.endswith(f"/{group}") and not k.startswith("trained/")
                   for lab in labels for k in agg[lab]):
            continue
        if group == HELD and any(_group_ids(results, HELD) == _group_ids(results, g)
                                 for g in GROUPS if g != HELD):
            continue  # e.g. a user's own data: all held out, already a group of its own
        data = held_description(results) if group == HELD else GROUP_DATA[group]
        teacher = ("captured curves" if group == "curves"
                   else "teacher (rules engine on the reference phones)")
        if f"closure/{group}" in ref:
            ref_cell = _pct(ref[f"closure/{group}"][0]) + " (teacher)"
        else:
            ref_cell = "—"
        add("Bilabial closure rate", "% of /p b m/", data, ref_cell, f"closure/{group}", _pct,
            "{n} bilabials")
        ref_cell = (_pct(ref[f"viseme/{group}"][0]) + " (teacher)" if f"viseme/{group}" in ref
                    else "—")
        add("Viseme accuracy", "% of judged phones", data, ref_cell, f"viseme/{group}", _pct,
            "{n} phones")
        add("Viseme agreement", "% of frames whose visible class matches", data, "100",
            f"viseme_agree/{group}", _pct, "{n} clips")
        add("Mouth-opening correlation", "Pearson r, best lag within ±100 ms",
            f"vs {teacher}; {data}", "1", f"mouth_r/{group}", "{:.3f}".format, "{n} clips")
        add("  its lag (median over clips)", "ms, + = prediction late", "as above", "0",
            f"mouth_lag/{group}", "{:+.0f}".format)
        for key, name in _VERTEX:
            add(name, "mm on ICT FaceKit", f"vs {teacher}; {data}", "0", f"{key}/{group}",
                "{:.3f}".format, "{n} clips")
    minutes = max((agg[lab]["minutes"] for lab in labels if "minutes" in agg[lab]), default=0)
    j = ref.get("capture_jitter")
    add("Jitter", "10⁻³ weight/frame² at 30 fps",
        f"the lip-sync clips every system ran on ({minutes:.1f} min)",
        f"{1000 * j:.2f} (Live Link captures)" if j is not None else "—", "jitter",
        lambda v: f"{1000 * v:.2f}")
    b = ref.get("capture_blinks")
    add("Blink rate", "blinks/min", f"the lip-sync clips every system ran on ({minutes:.1f} min)",
        f"{b:.1f} (Live Link captures)" if b is not None else "—", "blinks", "{:.1f}".format)
    add("Diversity", "mm, mean pairwise MVE between seeds",
        f"{results.get('diversity_seeds', 3)} seeds, neutral emotion", "—", "diversity",
        "{:.3f}".format, "{n} clips")
    add("Emotion accuracy of generated animation (explicit emotion)",
        "% recognised by the expression classifier",
        "8 emotions at intensity 0.7 on recorded speech", "12.5 (chance)", "expression",
        _pct, "{n} animations")
    if results.get("auto_available"):
        speakers = sorted({v.get("speaker") or "?"
                           for v in results.get("auto_expression", {}).values()})
        who = ("EmoDB " + _speakers(speakers) + " (never trained on)"
               if (results.get("training") or {}).get("status") else "EmoDB")
        add("Emotion accuracy of generated animation (auto emotion)", "UAR %, 6 emotions",
            f"{who}, emotion inferred from the voice", "16.7 (chance)", "auto_uar", _pct,
            "{n} utterances")
    _control_rows(results, agg, labels, rows, add)
    rows += _speed_rows(results, agg, labels)
    return rows


def _control_rows(results: dict, agg: dict, labels: list[str], rows: list, add) -> None:
    """Emotion-control rows (``emoface.eval.control``), appended to ``rows``."""
    ctl = results.get("control") or {}
    held = " (held out from the neural model)" if ctl.get("held_out_only") else ""
    seconds = ctl.get("content_seconds", 0.0)
    speech = f"LibriVox{held}, {_clips(len(ctl.get('content') or {}))}, {seconds:.0f} s"
    add("Content kept under emotion", "mouth-opening r, neutral vs each emotion at intensity 1",
        f"the same speech animated neutral and in the 7 other emotions; {speech}", "1",
        "content_r", "{:.3f}".format, "{n} pairs")
    worst = [agg[lab].get("content_worst") for lab in labels]
    if any(worst):
        rows.append(["  its worst emotion", "mean r over clips, lowest emotion", "as above", "1"]
                    + [f"{w[1]:.3f} ({w[0]})" if w else "—" for w in worst])
    add("Upper face changes under emotion", "EVE mm, each emotion at intensity 1 vs neutral",
        "as above", "—", "upper_change", "{:.2f}".format, "{n} pairs")
    speakers = _speakers(ctl.get("label_speakers") or [])
    add("Upper face follows the label, not the voice",
        "% read as the requested emotion by the expression classifier",
        f"EmoDB {speakers}{held}: each clip animated in the 7 emotions it was not "
        "acted in, intensity 0.7", "12.5 (chance)", "label_follow", _pct, "{n} animations")
    add("  read as the acted emotion instead", "% of the same animations", "as above", "—",
        "label_voice", _pct)
    mono = [agg[lab].get("monotonic") for lab in labels]
    if any(mono):
        rows.append(["Intensity monotonic",
                     "% of (emotion, channel) pairs rising 0.25 → 0.5 → 0.75 → 1",
                     (f"the channels each emotion moves by ≥ 0.02 at intensity 1 "
                      f"(pairs judged in brackets); {speech}"), "—"]
                    + [f"{_pct(v[0])} ({round(v[0] * v[1])}/{v[1]})" if v else "—" for v in mono])


def _speed_rows(results: dict, agg: dict, labels: list[str]) -> list[list[str]]:
    rows = []
    speeds = [agg[lab]["speed"] for lab in labels if agg[lab].get("speed")]
    if speeds:
        sp = speeds[0]
        for name, unit, key, fmt in _SPEED_ROWS:
            if key == "latency_s":
                data = f"a {sp['latency_audio_s']:.1f} s utterance, warm"
            elif key == "cold_start_s":
                data = f"a {sp.get('cold_start_audio_s', 0):.1f} s utterance"
            else:
                data = f"{sp['audio_s']:.0f} s of LibriVox + Asterisk speech in one clip"
            cells = [fmt.format(agg[lab]["speed"][key]) if agg[lab].get("speed") else "—"
                     for lab in labels]
            rows.append([name, unit, data, "—"] + cells)
    ms = results.get("model_speed") or {}
    audio = (ms.get("model") or {}).get("audio_s") or results.get("speed_seconds") or 0
    for backend in ("torch", "onnx"):
        name = _BACKEND_NAMES[backend]
        for key, metric, unit in (
                ("model_rtf", f"Model real-time factor, {name}",
                 "network s / audio s (the network alone)"),
                ("engine_rtf", f"Engine real-time factor, {name}",
                 "s / audio s (features, network, nonverbal layer)")):
            cells = []
            for lab in labels:
                v = agg[lab].get(f"{key}/{backend}")
                err = agg[lab].get(f"model_error/{backend}")
                cells.append(f"{v:.4f}" if v is not None else ("unavailable" if err else "—"))
            if any(c != "—" for c in cells):
                data = (f"{audio:.0f} s of LibriVox + Asterisk speech in one clip; auto adds "
                        "the emotion branch")
                rows.append([metric, unit, data, "—"] + cells)
    cli = next((agg[lab]["cli"] for lab in labels if agg[lab].get("cli")), None)
    if cli:
        data = (f"`{cli['command']}` on a file of {cli['audio_s']:.0f} s of speech (default "
                f"emotion: auto), {cli.get('backend') or '?'} backend; warm disk cache, "
                f"first run {cli['first_wall_s']:.1f} s")
        rows.append(["`emoface animate`, end to end", "s wall clock, start-up included", data,
                     "—"] + [f"{agg[lab]['cli']['wall_s']:.2f}" if agg[lab].get("cli") else "—"
                             for lab in labels])
        rows.append(["  its peak memory", "MB resident (the child process)", "as above", "—"]
                    + [f"{agg[lab]['cli']['peak_rss_mb']:.0f}" if agg[lab].get("cli") else "—"
                       for lab in labels])
    return rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def voice_table(results: dict) -> str:
    ve = results.get("voice_emotion") or {}
    if not ve:
        return ""
    n = results.get("voice_emotion_items", 0)
    rows = [[name, f"{100 * r['uar']:.1f}", f"{100 * r['accuracy']:.1f}", str(r["n"]),
             ", ".join(f"{s}: {100 * u:.0f}" for s, u in r["per_speaker_uar"].items())]
            for name, r in ve.items()]
    folds = results.get("folds")
    rows += _folds_rows(folds) if folds else []
    whisper = results.get("whisper_emotion")
    rows += _whisper_rows(whisper) if whisper else []
    text = markdown_table(["voice-emotion classifier", "UAR %", "accuracy %", "utterances",
                           "UAR % per held-out speaker"], rows) + (
        f"\n\nEmoDB, {n} utterances of the 6 emotions it shares with emoface (anger, disgust, "
        "fear, happiness, sadness, neutral; boredom left out), leave-one-speaker-out over the 8 "
        "speakers: every prediction is on a speaker the classifier never trained on. Chance UAR "
        "is 16.7 %.")
    if folds:
        text += (f" The neural rows retrain the emotion stage of the model's recipe "
                 f"(`{folds.get('config', '?')}`, {folds.get('steps', '?')} steps) once per "
                 f"held-out speaker and keep its last weights; they come from "
                 f"`{FOLDS_COMMAND}` ({folds['path']}, written {folds['written']}), not from "
                 "this run, so rerun it when the recipe changes.")
    elif any(s["engine"] == "neural" for s in results["systems"]):
        text += (f" The neural emotion branch's own leave-one-speaker-out result is missing: "
                 f"`{FOLDS_COMMAND}` (it retrains the emotion stage 8 times, about 30 min on "
                 "this CPU) writes runs/folds/results.json and "
                 "docs/voice_emotion_confusion.png; run the benchmark again afterwards.")
    if whisper:
        text += (f" The Whisper-feature row (the voice emotion `auto` uses when the speech extra "
                 f"is installed) chooses its encoder layer and L2 inside each fold on the "
                 f"training speakers only; it comes from `{WHISPER_EMOTION_COMMAND}` "
                 f"({whisper['path']}, written {whisper['written']}), not from this run.")
    return text


def _whisper_rows(res: dict) -> list[list[str]]:
    pooled = res.get("pooled") or {}
    if "uar" not in pooled:
        return []
    per = ", ".join(f"{s}: {100 * f['uar']:.0f}" for s, f in sorted((res.get("folds") or {}).items()))
    english = " + English read speech as neutral" if res.get("english_neutral") else ""
    return [[f"Whisper {res.get('model', '?')} encoder features{english}, softmax regression, "
             "retrained without each speaker", f"{100 * pooled['uar']:.1f}",
             f"{100 * pooled['accuracy']:.1f}", str(pooled.get("utterances", "?")), per]]



def _folds_rows(folds: dict) -> list[list[str]]:
    pooled = folds.get("pooled") or {}
    per = folds.get("folds") or {}
    confusion = np.asarray(folds.get("confusion_6way") or [[0]], float)
    accuracy = np.trace(confusion) / max(confusion.sum(), 1)
    n = str(pooled.get("utterances", "?"))

    def speakers(key: str) -> str:
        return ", ".join(f"{s.removeprefix('emodb-')}: {100 * f[key]:.0f}"
                         for s, f in sorted(per.items()) if key in f)

    rows = []
    if "uar_6way" in pooled:
        rows.append(["neural emotion branch, retrained without each speaker (6-way decision)",
                     f"{100 * pooled['uar_6way']:.1f}", f"{100 * accuracy:.1f}", n,
                     speakers("uar_6way")])
    if "uar_8way" in pooled:
        rows.append(["  the same, all 8 outputs allowed (surprised, contempt count as wrong)",
                     f"{100 * pooled['uar_8way']:.1f}", "—", n, speakers("uar_8way")])
    return rows


def dataset_table(results: dict) -> str:
    """Closure rate, viseme accuracy and LVE for each dataset separately."""
    labels = [s["label"] for s in results["systems"]]
    trained = _trained_labels(results)
    datasets = sorted({v["dataset"] for v in results["items"].values()})
    rows = []
    for ds in datasets:
        ids = [i for i, v in results["items"].items() if v["dataset"] == ds]
        for metric, fn in (("closure %", _closure_of), ("viseme %", _viseme_of),
                           ("LVE mm", _lve_of)):
            cells = []
            for lab in labels:
                c = fn(results, lab, ds)
                note = _trained_note(_trained_count(results, ids)) if lab in trained else ""
                cells.append(f"{c} ({note})" if note and c != "—" else c)
            if any(c != "—" for c in cells):
                rows.append([ds, str(len(ids)), metric, fn(results, "reference", ds)] + cells)
    return markdown_table(["dataset", "clips", "metric", "reference"] + labels, rows)


def _closure_of(results, label, ds):
    rows = [s for _, s in _scores(results, label, datasets=[ds]) if "closure" in s]
    tot = sum(s["closure"]["total"] for s in rows)
    return "—" if not tot else f"{100 * sum(s['closure']['closed'] for s in rows) / tot:.1f}"


def _viseme_of(results, label, ds):
    rows = [s for _, s in _scores(results, label, datasets=[ds]) if "viseme" in s]
    tot = sum(s["viseme"]["total"] for s in rows)
    return "—" if not tot else f"{100 * sum(s['viseme']['correct'] for s in rows) / tot:.1f}"


def _lve_of(results, label, ds):
    rows = [s for _, s in _scores(results, label, datasets=[ds]) if "vertex" in s]
    if label == "reference":
        systems = [x["label"] for x in results["systems"]]
        scored = any("vertex" in s for lab in systems
                     for _, s in _scores(results, lab, datasets=[ds]))
        return "0" if scored else "—"
    if not rows:
        return "—"
    if all(s.get("self_reference") for s in rows):
        return "(is the reference)"
    rows = [s for s in rows if not s.get("self_reference")]
    lve = np.average([s["vertex"]["lve"] for s in rows],
                     weights=[s["vertex"]["frames"] for s in rows])
    return f"{lve:.3f}"


def graphics_section(results: dict) -> str:
    """The render and export tables (``emoface.eval.graphics``)."""
    g = results.get("graphics")
    if not g:
        return ""
    if "error" in g:
        return f"The render and export benchmark failed: {g['error']}"
    st = g.get("settings") or {}
    size = st.get("size", 512)
    parts = []
    render = g.get("render") or []
    if render:
        rows = []
        for r in render:
            if "error" in r:
                rows.append([r["rig"], "—", "—", "—", "—", f"not measured: {r['error']}"])
                continue
            rows.append([r["rig"], str(r["vertices"]), str(r["triangles"]),
                         f"{r['render_fps']:.1f}", f"{r['draw_fps']:.1f}",
                         f"{r['video_fps']:.1f}" if "video_fps" in r else "—"])
        parts += [markdown_table(["rig", "vertices", "triangles",
                                  f"render fps at {size}x{size}", "draw-only fps",
                                  ".mp4 fps (render + H.264/AAC)"], rows), "",
                  (f"Offscreen rendering (moderngl, three-quarter view) of a smooth random "
                   f"animation that moves every shape, the head and the eyes: "
                   f"{st.get('frames', '?')} frames per pass, median of "
                   f"{st.get('repeat', '?')} passes. *Render* evaluates the rig, computes "
                   "normals, uploads, draws and reads the image back (what a video needs); "
                   "*draw-only* redraws one posed mesh; *.mp4* is the whole `emoface render` "
                   "path with a silent audio track."), ""]
    export = g.get("export") or []
    if export:
        seconds = st.get("export_seconds", 60)
        rows = []
        for r in export:
            if "error" in r:
                rows.append([r["rig"], r.get("format", "—"), "—", "—", "—", "—",
                             f"failed: {r['error']}"])
                continue
            error = r.get("max_error", float("nan"))
            intact = error < 1e-5 and r.get("frames_read") == r["frames"]
            rows.append([r["rig"], r["format"], f"{r['write_s']:.2f}", f"{r['mb']:.1f}",
                         f"{r['read_s']:.2f}", f"{r['first_write_s']:.2f}",
                         "yes" if intact else f"no (max error {error:.2g})"])
        parts += [markdown_table(["rig", "format", "write s", "file MB", "read-back s",
                                  "first write s", "curves read back intact"], rows), "",
                  (f"{seconds:g} s of animation at 30 fps ({round(seconds * 30)} frames of 52 "
                   "curves, head and eyes) written with the rig's mesh and all its shapes: the "
                   f"median of {st.get('repeat', '?')} writes after the first (which pays for "
                   "importing pxr and loading USD's plugins)."), ""]
    parts.append("Reproduce: `emoface dev graphics` (`render` or `export` for one "
                 "half; `benchmarks/render_bench.py` and `benchmarks/export_bench.py` run the "
                 "same code).")
    return "\n".join(parts)


def training_section(results: dict) -> str:
    """What the trained engine learnt from, and how held-out inputs were told apart."""
    t = results.get("training")
    if not t:
        return ""
    if t.get("unknown"):
        return ("The neural model's weights carry no readable training recipe (or its corpus "
                "is not here), so no input can be called held out; its cells are marked "
                "\"trained on: unknown\".")
    status = t.get("status") or {}
    items = results["items"]
    held = sorted(i for i in items if status.get(i, "") is None)
    heard: dict[str, int] = {}
    for i in items:
        if status.get(i):
            ds = items[i]["dataset"]
            key = f"{DATASET_NAMES.get(ds, ds)} ({status[i]})"
            heard[key] = heard.get(key, 0) + 1
    val = [v for v in t.get("validation_speakers") or [] if v.startswith("emodb-")]
    lines = [
        (f"Weights: `{t['weights']}`. What they were trained on is read from the data, not "
         "assumed: the training recipe stored in the weights (and in the weights each stage "
         "started from), applied to the corpus manifest it names "
         "(`emoface.eval.heldout`). An input is *held out* when neither its audio nor its "
         "speaker (or synthetic voice) is among the training clips."), ""]
    lines += [f"- {stage}" for stage in t.get("stages") or []]
    lines += [f"- note: {n}" for n in t.get("notes") or []]
    lines.append(f"- lip-sync inputs held out: {len(held)}, "
                 f"{held_description(results, prefix=False)}")
    if heard:
        lines.append("- lip-sync inputs heard in training: " + ", ".join(
            f"{k}: {v}" for k, v in sorted(heard.items())))
    if val:
        lines.append(f"- never trained on but used to choose the checkpoint (validation): "
                     f"{', '.join(v.removeprefix('emodb-') for v in val)} of EmoDB")
    lines += ["", ("In rows over inputs the model heard in training its cells say so "
                   "(\"trained on k/n\"): those numbers show how well it fits its training "
                   "data, not how well it generalises. The emotion-control rows and the "
                   "auto-emotion row use held-out inputs only, for every system.")]
    return "\n".join(lines)


# ---------------------------------------------------------------------- figures
KEY_CHANNELS = ("lip aperture", "jawOpen", "mouthPucker", "browInnerUp", "eyeBlinkLeft")


def plot_curves(item_id: str, data: dict, labels: list[str], path: Path, fps: float = 30.0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    env = data["envelope"]
    phones = json.loads(str(data["phones"]))
    fig, axes = plt.subplots(len(KEY_CHANNELS) + 1, 1, figsize=(11, 2.0 * (len(KEY_CHANNELS) + 1)),
                             sharex=True)
    t_env = np.arange(len(env)) / 1000.0
    axes[0].fill_between(t_env, -env, env, color="0.6", lw=0)
    axes[0].set_ylabel("waveform")
    axes[0].set_yticks([])
    crowded = phones and phones[-1][1] > 4.0  # long clips: label only the bilabials
    for a, b, ph in phones:
        if ph != "SIL" and not (crowded and ph not in ("P", "B", "M")):
            axes[0].text(0.5 * (a + b), 0.0, ph, ha="center", va="center", fontsize=6,
                         color="crimson" if ph in ("P", "B", "M") else "black")
    axes[0].set_title(f"{item_id}: reference vs predicted curves (30 fps)")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, channel in zip(axes[1:], KEY_CHANNELS):
        def values(w, channel=channel):
            return lip_aperture(w) if channel == "lip aperture" else w[:, INDEX[channel]]
        for a, b, ph in phones:
            if ph in ("P", "B", "M"):
                ax.axvspan(a, b, color="crimson", alpha=0.12, lw=0)
        if "reference" in data:
            w = data["reference"]
            ax.plot(np.arange(len(w)) / fps, values(w), color="black", lw=2.2, alpha=0.55,
                    label="reference (teacher)")
        for k, lab in enumerate(labels):
            w = data.get(f"sys:{lab}")
            if w is not None:
                ax.plot(np.arange(len(w)) / fps, values(w), lw=1.1, color=colours[k % len(colours)],
                        label=lab)
        if channel == "lip aperture":
            ax.axhline(LIPS_MEET, color="crimson", lw=0.8, ls="--")
        ax.set_ylabel(channel)
    axes[-1].set_xlabel("seconds (shaded: reference /p b m/; dashed: lips meet)")
    axes[1].legend(loc="upper right", fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_confusions(matrices: dict[str, np.ndarray], labels: list[str], title: str,
                    path: Path, ylabel: str = "true") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(matrices)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    size = 0.55 * len(labels) + 1.5
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    for ax, (name, cm) in zip(axes.ravel(), matrices.items()):
        cm = np.asarray(cm, float)
        share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
        ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        for i in range(len(labels)):
            for j in range(len(labels)):
                if cm[i, j]:
                    ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=7,
                            color="white" if share[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=60, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel(ylabel)
        ax.set_title("\n".join(textwrap.fill(line, 44) for line in name.split("\n")),
                     fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")  # rotated labels, wrapped titles
    plt.close(fig)


def write_figures(results: dict, agg: dict, folder: Path, prefix: str = "bench_") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    labels = [s["label"] for s in results["systems"]]
    paths = []
    for item_id, data in results.get("curves", {}).items():
        p = folder / f"{prefix}curves_{item_id.replace('/', '_')}.png"
        plot_curves(item_id, data, labels, p, results.get("fps", 30.0))
        paths.append(p)
    voice = {name: np.array(r["confusion"])
             for name, r in (results.get("voice_emotion") or {}).items() if "chance" not in name}
    if voice:
        p = folder / f"{prefix}confusion_voice_emotion.png"
        plot_confusions({f"{k}\nUAR {100 * results['voice_emotion'][k]['uar']:.1f} %": v
                         for k, v in voice.items()}, SIX,
                        "Voice emotion, EmoDB, leave one speaker out", p)
        paths.append(p)
    expr = {f"{lab}\naccuracy {100 * agg[lab]['expression'][0]:.1f} %"
            + (f" ({_trained_note(agg[lab]['trained/expression'])} clips)"
               if agg[lab].get("trained/expression") else ""):
            np.array(agg[lab]["expression_confusion"])
            for lab in labels if "expression" in agg[lab]}
    if expr:
        p = folder / f"{prefix}confusion_expression.png"
        plot_confusions(expr, list(EMOTIONS),
                        "Requested emotion vs the expression classifier's answer", p,
                        ylabel="requested")
        paths.append(p)
    return paths


# ------------------------------------------------------------------ documents
def machine_info() -> dict:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) / 2**20
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(ram, 1) if ram else None,
            "os": os_name, "python": platform.python_version(), "numpy": np.__version__,
            "load_average": load}


def to_json(results: dict, agg: dict, info: dict) -> dict:
    clean = {k: v for k, v in results.items() if k != "curves"}
    return {"machine": info, "results": clean, "summary": agg}


INTRO = """\
Every system animates the same audio with the neutral emotion and seed 0 at 30 fps (except
the emotion rows). *References:* there is no captured 3D ground truth for this speech, so
the reference animation ("teacher") is the rules engine driven by the best phone timings we
have: espeak-ng's exact phones for synthesised sentences, EmoDB's hand labels, and forced
alignment of the transcript for LibriVox and Asterisk. On the forced-alignment sets the
rules engine with the transcript stands on exactly the reference phones, so it *is* the
reference there and is not scored against it. Closure and viseme rows judge each system
against the reference phones themselves. A face that never opens its mouth "closes" every
bilabial, so read the closure rate together with viseme accuracy and mouth-opening
correlation. A cell marked (n=...) was measured on fewer clips or phones than the row's
widest: EmoDB has no transcripts, so "+ transcript" systems have no EmoDB rows.
The neural engine reads no transcript; its "(auto emotion)" column animates the emotion
its own emotion branch hears instead of neutral. A neural cell marked (trained on k/n) was
measured on inputs it heard in training; the rows "held out from the neural model's
training" compare every system on the inputs it never heard (see "Held-out data")."""

NO_AUTO = """\
Auto-emotion rows (animation from the emotion inferred from the voice) appear once a
voice-emotion model is installed (`emoface.engines.neural.voice_emotion`); until then
`--emotion auto` animates neutral and is not benchmarked."""

DEFINITIONS = """\
## Definitions

- **Bilabial closure rate**: share of /p b m/ reference phones during which some frame has
  lip aperture < 0.05, aperture = max(0, jawOpen - mouthClose) + 0.5 mean(mouthLowerDown,
  mouthUpperUp) + 0.5 mouthFunnel.
- **Viseme accuracy**: share of phones with a clearly visible shape (p b m; f v; w uw uh
  ow; aa ae ah eh; iy ih y) whose centre frame shows it (closed, lip on teeth, rounded,
  open, spread), read from the weights by fixed rules (`emoface.eval.lipsync.viseme_classes`).
  **Viseme agreement** (your data): share of frames where the captured curves show a class
  and the prediction shows the same.
- **Mouth-opening correlation**: Pearson r of lip aperture against the reference's, best
  over lags within ±100 ms; mean over clips, lag as the median.
- **LVE / EVE**: per frame the largest vertex error over the lip / upper-face vertices of
  ICT FaceKit, averaged over frames (frame-weighted over clips). **MVE**: mean vertex error
  over the face vertices. **FDD**: mean over upper-face vertices of |std over time of the
  displacement from neutral - the reference's|.
- **Jitter**: mean |second difference| of the 52 weights at 30 fps. **Blink rate**: blinks
  found by `emoface.data.livelink_stats.detect_blinks`, per minute. **Diversity**: mean
  pairwise MVE between animations of the same input with different seeds.
- **Emotion accuracy**: the bundled expression classifier (softmax regression on clip
  statistics of the expression channels, trained on rules-engine teacher animations of
  synthetic sentences and on the Live Link captures; retrain with
  `emoface dev train-expression`) names the emotion each animation shows.
- **Voice emotion UAR**: mean per-class recall, leave-one-speaker-out on EmoDB.
- **Real-time factor**: compute seconds / audio seconds on this machine, one fresh process
  per system, split into phone timing (forced alignment, or the phone loop without a
  transcript), prosody, and the engine. **Model real-time factor**: the seconds spent
  inside the network's calls alone (decoder, and the emotion branch for auto), per backend;
  **engine real-time factor** adds its features and the nonverbal layer
  (`emoface dev speed --model`). **`emoface animate` end to end**: wall clock
  of the command on a file in a fresh process, start-up and imports included, after one
  untimed run (`emoface dev speed --cli`).
- **Content kept under emotion**: Pearson r (no lag) of the lip aperture of the same
  speech animated neutral and in each other emotion at intensity 1, mean over clips and
  emotions. **Upper face changes under emotion**: EVE between those two animations.
- **Upper face follows the label, not the voice**: EmoDB clips acted in one emotion,
  animated in each of the 7 others; the share the expression classifier reads as the
  requested emotion (and, below it, as the acted one).
- **Intensity monotonic**: per emotion, the expressive channels (blink and gaze left out)
  whose mean over the clip moves by at least 0.02 from neutral at intensity 1; the share
  of those (emotion, channel) pairs whose mean, signed by that direction, never falls by
  more than 0.002 from intensity 0.25 to 0.5 to 0.75 to 1 and rises overall
  (`emoface.eval.control`).
"""


def render_markdown(results: dict, agg: dict, info: dict, command: str,
                    figures: list[Path], relative_to: Path, title: str) -> str:
    labels = [s["label"] for s in results["systems"]]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    minutes = results.get("timings", {}).get("total", 0) / 60
    parts = [
        f"# {title}", "",
        f"Generated by `{command}` on {when}; the suite took {minutes:.1f} min.", "",
        (f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, "
         f"{info['os']}, Python {info['python']}, numpy {info['numpy']}. No GPU."
         + (f" Load average when the report was written: {info['load_average'][0]:g} "
            "(the machine is shared; speed rows move with it)." if info.get("load_average")
            else "")), "",
        INTRO, "",
        markdown_table(["metric", "unit", "data (reference)", "reference"] + labels,
                       table_rows(results, agg)), "",
    ]
    if results.get("real_motion"):
        parts += [f"## {realmotion.SECTION}", "", realmotion.render_markdown(results["real_motion"]),
                  ""]
    ts = training_section(results)
    if ts:
        parts += ["## Held-out data", "", ts, ""]
    vt = voice_table(results)
    if vt:
        parts += ["## Voice emotion recognition", "", vt, ""]
    gs = graphics_section(results)
    if gs:
        parts += ["## Rendering and export", "", gs, ""]
    parts += ["## Per dataset", "", dataset_table(results), ""]
    if not results.get("auto_available"):
        parts += [NO_AUTO, ""]
    notes = list(results.get("notes") or []) + _item_notes(results)
    if notes:
        parts += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    figures = list(figures) + _folds_figure(results)
    if figures:
        parts += ["## Figures", ""]
        for p in figures:
            parts += [f"![{p.stem}]({os.path.relpath(p, relative_to)})", ""]
    parts.append(DEFINITIONS + _classifier_note())
    return "\n".join(parts)


def keep_other_sections(old: str, new: str) -> str:
    """``new`` plus every ``## `` section of ``old`` that ``new`` does not write.

    BENCHMARKS.md also holds sections measured by their own commands (long inputs, batch
    workers, streaming latency); rewriting the report must not drop them. They go back in
    their old order, before the generated "## Notes" (or at the end)."""
    def sections(text: str) -> list[tuple[str, str]]:
        out, head, body = [], None, []
        for line in text.splitlines(keepends=True):
            if line.startswith("## "):
                out.append((head, "".join(body)))
                head, body = line.strip(), [line]
            else:
                body.append(line)
        out.append((head, "".join(body)))
        return out

    written = {head for head, _ in sections(new) if head}
    kept = [body for head, body in sections(old) if head and head not in written]
    if not kept:
        return new
    extra = "".join(b if b.endswith("\n\n") else b.rstrip("\n") + "\n\n" for b in kept)
    at = new.find("\n## Notes\n")
    if at < 0:
        return new.rstrip("\n") + "\n\n" + extra
    return new[:at + 1] + extra + new[at + 1:]


FOLDS_FIGURE = Path("docs") / "voice_emotion_confusion.png"


def _folds_figure(results: dict) -> list[Path]:
    """The leave-one-speaker-out confusion matrix ``emotion_folds`` draws, beside its
    results (the project's docs/, whatever folder the bench writes to)."""
    folds = results.get("folds")
    if not folds or "path" not in folds:
        return []
    project = Path(folds["path"]).resolve().parents[2]
    png = project / FOLDS_FIGURE
    return [png] if png.exists() else []


def _classifier_note() -> str:
    try:

        held = expression_classifier().model.meta.get("held_out_accuracy", {})
    except (OSError, ValueError):
        return ""
    if not held:
        return ""
    return ("\nThe expression classifier's own held-out accuracy: "
            f"{100 * held.get('teacher_leave_one_sentence_out', float('nan')):.1f} % on teacher "
            "animations of unseen sentences, "
            f"{100 * held.get('captures_leave_one_take_out', float('nan')):.1f} % on 4 s windows "
            "of unseen Live Link takes (angry_or_disgusted counts either answer).\n")


def _item_notes(results: dict) -> list[str]:
    failed = [i for i, v in results["items"].items()
              if "alignment failed" in ((v["scores"].get("reference") or {}).get("note") or "")]
    nolab = [i for i, v in results["items"].items()
             if "no hand labels" in ((v["scores"].get("reference") or {}).get("note") or "")]
    out = []
    if failed:
        out.append(f"{len(failed)} clip(s) could not be force-aligned and have no reference "
                   f"phones (motion rows only): {', '.join(failed[:8])}"
                   + (" ..." if len(failed) > 8 else ""))
    if nolab:
        out.append(f"{len(nolab)} EmoDB file(s) have no hand labels (motion rows only): "
                   f"{', '.join(nolab[:8])}")
    return out


def command_line() -> str:
    args = [os.path.basename(sys.argv[0]) if sys.argv else "emoface"] + sys.argv[1:]
    if args[0] in ("__main__.py", "cli.py", "-c"):
        args[0] = "emoface"
    return " ".join(shlex.quote(a) for a in args)
