"""What a corpus holds: hours per source, split, speaker, language and emotion (real and
synthetic speech apart), speaker-disjointness of the splits, and a duration histogram."""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..emotion import EMOTIONS
from ..files import atomic_path
from .manifest import SPLITS, read_manifest

UNKNOWN = "unknown"


def _emotion_label(row: dict) -> str:
    if row["emotion"] is None:
        return UNKNOWN
    return "neutral (boredom)" if "boredom" in row["flags"] else row["emotion"]


def _kind(row: dict) -> str:
    return "synthetic" if "synthetic" in row["flags"] else "real"


def compute(rows: list[dict]) -> dict:
    """All the tables :func:`format_text` prints, as plain dicts of hours and counts."""
    hours = lambda rs: sum(r["duration"] for r in rs) / 3600

    def group(key) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            out[key(r)].append(r)
        return dict(sorted(out.items()))

    by_source = group(lambda r: r["source"])
    speakers_by_split = {s: sorted({r["speaker"] for r in rows if r["split"] == s})
                         for s in SPLITS}
    shared = sorted({sp for a in SPLITS for b in SPLITS if a < b
                     for sp in set(speakers_by_split[a]) & set(speakers_by_split[b])})
    emotion_kind: dict[str, dict[str, float]] = {}
    for label in [*EMOTIONS, "neutral (boredom)", UNKNOWN]:
        cells = {k: hours([r for r in rows if _emotion_label(r) == label and _kind(r) == k])
                 for k in ("real", "synthetic")}
        counts = {k: sum(1 for r in rows if _emotion_label(r) == label and _kind(r) == k)
                  for k in ("real", "synthetic")}
        if counts["real"] or counts["synthetic"] or label in EMOTIONS:
            emotion_kind[label] = {"real_h": cells["real"], "synthetic_h": cells["synthetic"],
                                   "real_clips": counts["real"],
                                   "synthetic_clips": counts["synthetic"]}
    speaker_hours = {sp: hours(rs) for sp, rs in group(lambda r: r["speaker"]).items()}
    return {
        "clips": len(rows),
        "hours": hours(rows),
        "by_source": {s: {"clips": len(rs), "hours": hours(rs),
                          "speakers": len({r["speaker"] for r in rs}),
                          "splits": {sp: hours([r for r in rs if r["split"] == sp])
                                     for sp in SPLITS}}
                      for s, rs in by_source.items()},
        "by_language": {k: hours(rs) for k, rs in group(lambda r: r["language"]).items()},
        "by_split": {s: {"hours": hours([r for r in rows if r["split"] == s]),
                         "clips": sum(1 for r in rows if r["split"] == s),
                         "speakers": len(speakers_by_split[s])} for s in SPLITS},
        "by_emotion": emotion_kind,
        "by_target": {k: hours(rs) for k, rs in group(lambda r: r["target_kind"]).items()},
        "speakers": len(speaker_hours),
        "speaker_hours": speaker_hours,
        "speakers_shared_between_splits": shared,
        "durations": {s: [r["duration"] for r in rs] for s, rs in by_source.items()},
    }


def format_text(stats: dict, top_speakers: int = 12) -> str:
    header = (f"{'source':14s} {'clips':>6s} {'hours':>8s} {'spk':>5s}   "
              + "  ".join(f"{s:>7s}" for s in SPLITS))
    title = f"corpus: {stats['clips']} clips, {stats['hours']:.3f} h, {stats['speakers']} speakers"
    lines = [title, "", header]
    for src, d in stats["by_source"].items():
        lines.append(f"{src:14s} {d['clips']:6d} {d['hours']:8.3f} {d['speakers']:5d}   "
                     + "  ".join(f"{d['splits'][s]:7.3f}" for s in SPLITS))
    lines += ["", "split          clips    hours  speakers"]
    for s, d in stats["by_split"].items():
        lines.append(f"{s:14s} {d['clips']:5d} {d['hours']:8.3f} {d['speakers']:9d}")
    shared = stats["speakers_shared_between_splits"]
    lines.append("speaker-disjoint splits: " + ("yes" if not shared else
                                                 f"NO, shared: {', '.join(shared)}"))
    lines += ["", "language    hours"]
    lines += [f"{k:10s} {v:7.3f}" for k, v in stats["by_language"].items()]
    lines += ["", f"{'emotion':18s} {'real h':>8s} {'clips':>6s} {'synth h':>8s} {'clips':>6s}"]
    for e, d in stats["by_emotion"].items():
        lines.append(f"{e:18s} {d['real_h']:8.3f} {d['real_clips']:6d} "
                     f"{d['synthetic_h']:8.3f} {d['synthetic_clips']:6d}")
    lines += ["", "targets     hours"]
    lines += [f"{k:10s} {v:7.3f}" for k, v in stats["by_target"].items()]
    top = sorted(stats["speaker_hours"].items(), key=lambda kv: -kv[1])[:top_speakers]
    lines += ["", f"speakers (top {len(top)} of {stats['speakers']} by hours)"]
    lines += [f"  {sp:36s} {h:7.3f} h" for sp, h in top]
    all_d = np.concatenate([np.asarray(v) for v in stats["durations"].values()]) \
        if stats["durations"] else np.zeros(0)
    if len(all_d):
        q = np.percentile(all_d, [0, 10, 50, 90, 100])
        lines += ["", "duration s: min {:.2f}  p10 {:.2f}  median {:.2f}  p90 {:.2f}  "
                  "max {:.2f}".format(*q)]
    return "\n".join(lines)


def plot(stats: dict, path: str | os.PathLike) -> None:
    """PNG: duration histogram by source, hours per emotion (real vs synthetic), hours per
    split by source."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    durations = stats["durations"]
    every = np.concatenate([np.asarray(v, float) for v in durations.values()] + [np.ones(1)])
    # a few very long prompts would squash the rest: they go into the last bin
    top = float(min(every.max(), max(12.0, 1.15 * np.percentile(every, 99.5))))
    bins = np.linspace(0, top, 41)
    ax.hist([np.minimum(v, top) for v in durations.values()], bins=bins, stacked=True,
            label=list(durations))
    longer = int((every > top).sum())
    ax.set_xlabel("clip duration (s)" + (f"; {longer} longer clips in the last bin"
                                         if longer else ""))
    ax.set_ylabel("clips")
    ax.set_title(f"durations ({stats['clips']} clips, {stats['hours']:.2f} h)")
    ax.legend(fontsize=8)

    ax = axes[1]
    labels = list(stats["by_emotion"])
    x = np.arange(len(labels))
    real = [stats["by_emotion"][e]["real_h"] for e in labels]
    synth = [stats["by_emotion"][e]["synthetic_h"] for e in labels]
    ax.bar(x - 0.2, real, 0.4, label="real")
    ax.bar(x + 0.2, synth, 0.4, label="synthetic")
    ax.set_xticks(x, labels, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("hours")
    ax.set_yscale("symlog", linthresh=0.05)
    ax.set_title("hours per emotion")
    ax.legend(fontsize=8)

    ax = axes[2]
    sources = list(stats["by_source"])
    bottom = np.zeros(len(SPLITS))
    for src in sources:
        h = np.array([stats["by_source"][src]["splits"][s] for s in SPLITS])
        ax.bar(SPLITS, h, bottom=bottom, label=src)
        bottom += h
    ax.set_ylabel("hours")
    ax.set_title("hours per split (speaker-disjoint)" if not
                 stats["speakers_shared_between_splits"] else "hours per split: SHARED SPEAKERS")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def corpus_stats(folder: str | os.PathLike) -> dict:
    return compute(read_manifest(Path(folder)))
