"""Building a corpus: plan every source's clips, do the missing ones in parallel, write
the manifest.

Layout of a corpus folder::

    manifest.jsonl                  one row per clip (emoface.data.manifest)
    build_report.json               what this run did, skipped and why, timings
    state/<source>/<id>.json        per-clip marker: done (with its manifest row) or skipped
    audio/<source>/<id>.flac        generated audio (16 kHz); real audio is read in place
    phones/<source>/<id>.json       phone timings
    targets/<source>/<id>.npz       target curves (teacher variants, captured curves)
    features/<ab>/<hash>.npz        log-mel + prosody, content-addressed (emoface.data.features)

Resumable: a clip's marker is written last and atomically, after all its files, so a
build killed at any moment leaves either a finished clip or one that is redone from the
start next time. A marker carries a hash of the clip's recipe (its source parameters and
the feature/teacher versions); a clip whose recipe changed is rebuilt. It also carries the
fingerprint of the teacher code that drew its targets (:func:`teacher.code_hash`): when
only that differs, just the targets are re-rendered, from the stored phones and the cached
prosody (the teacher always reads prosody from the cache, so this gives the same bytes a
full rebuild would). Every clip depends
only on its own recipe (seeds come from clip ids), so the output is the same whatever the
number of workers and whatever order they finish in. Clips that cannot be used are
*skipped* with a reason (remembered, not retried: ``--retry-skipped`` does); unexpected
errors are *failed*, reported, and retried on the next run.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_NAMES
from ..audio.io import load_audio, save_wav
from ..audio.phones import Phone
from ..audio.prosody import Prosody
from ..errors import UserError
from . import features as feats
from . import teacher
from .manifest import FLAGS, MANIFEST_NAME, dumps_row, validate_row, write_manifest
from .sources import SOURCES, Clip, Item, SkipClip
from .store import load_json, load_npz, remove_stale_temporaries, save_json, save_npz

BUILD_VERSION = "corpus-v1"
REPORT_NAME = "build_report.json"
_OUTPUT_FOLDERS = ("state", "audio", "phones", "targets", "features")


@dataclass
class BuildOptions:
    tts_hours: float = 3.0
    tts_clips_per_sentence: int = 2
    tts_seed: int = 1
    flite_hours: float = 2.0
    flite_seed: int = 2
    workers: int = 2
    speech_model: str | None = None   # Whisper for untranscribed speech (None: the default)
    progress: bool = True
    retry_skipped: bool = False
    prune: bool = False


@dataclass
class BuildReport:
    planned: Counter = field(default_factory=Counter)
    built: Counter = field(default_factory=Counter)
    reused: Counter = field(default_factory=Counter)
    retargeted: Counter = field(default_factory=Counter)   # only the targets re-rendered
    skipped: list[dict] = field(default_factory=list)      # id, source, reason, new
    failed: list[dict] = field(default_factory=list)       # id, source, error
    clips: Counter = field(default_factory=Counter)        # in the manifest, per source
    hours: dict = field(default_factory=dict)
    seconds: float = 0.0
    manifest_written: bool = False
    pruned: int = 0
    teacher: str = ""
    stale_teacher: list[str] = field(default_factory=list)

    @property
    def work_done(self) -> int:
        return sum(self.built.values()) + sum(self.retargeted.values()) + \
            sum(1 for s in self.skipped if s["new"]) + len(self.failed)

    def to_json(self, options: BuildOptions) -> dict:
        return {
            "options": options.__dict__,
            "planned": dict(self.planned), "built": dict(self.built),
            "reused": dict(self.reused), "retargeted": dict(self.retargeted),
            "clips": dict(self.clips), "teacher": self.teacher,
            "hours": {k: round(v, 4) for k, v in self.hours.items()},
            "skipped": self.skipped, "failed": self.failed,
            "seconds": round(self.seconds, 2), "manifest_written": self.manifest_written,
            "pruned": self.pruned, "stale_teacher": len(self.stale_teacher),
        }

    def summary(self) -> str:
        lines = []
        for src in sorted(set(self.planned) | set(self.clips)):
            nskip = sum(1 for s in self.skipped if s["source"] == src)
            nfail = sum(1 for s in self.failed if s["source"] == src)
            lines.append(f"{src:14s} {self.clips[src]:6d} clips {self.hours.get(src, 0):7.3f} h"
                         f"   (built {self.built[src]}, reused {self.reused[src]}, "
                         + (f"re-targeted {self.retargeted[src]}, " if self.retargeted[src]
                            else "")
                         + f"skipped {nskip}, failed {nfail})")
        total = sum(self.hours.values())
        lines.append(f"{'total':14s} {sum(self.clips.values()):6d} clips {total:7.3f} h   "
                     f"in {self.seconds:.1f} s")
        if self.skipped:
            lines.append("skipped:")
            by_reason: dict[str, list[str]] = defaultdict(list)
            for s in self.skipped:
                by_reason[_reason_kind(s["reason"])].append(s["id"])
            for reason, ids in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
                shown = ", ".join(ids[:4]) + (f", ... ({len(ids)})" if len(ids) > 4 else "")
                lines.append(f"  {reason}: {shown}")
        for f in self.failed:
            lines.append(f"FAILED {f['id']}: {f['error'].strip().splitlines()[-1]}")
        if self.stale_teacher:
            lines.append(f"note: {len(self.stale_teacher)} clips of sources not built in this "
                         f"run have targets from other teacher code (e.g. "
                         f"{self.stale_teacher[0]}); build their sources again to refresh")
        return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    """The reason without clip-specific names and numbers, to group the report."""
    head = re.sub(r"'[^']*'", "'...'", reason.split(" (")[0])
    head = re.sub(r"\d+(\.\d+)?", "#", head)
    return head if len(head) < 90 else head[:87] + "..."


def recipe_hash(item: Item) -> str:
    blob = json.dumps({"build": BUILD_VERSION, "features": feats.FEATURE_VERSION,
                       "teacher": teacher.TEACHER_VERSION, "source": item.source,
                       "params": item.params}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def marker_path(out: Path, item_id: str, source: str) -> Path:
    return out / "state" / source / f"{item_id}.json"


# ------------------------------------------------------------------ one clip

def _phones_json(clip: Clip) -> dict:
    return {"method": clip.phone_method, "note": clip.phone_note,
            "phones": [[p.start, p.end, p.phone, p.label, p.word] for p in clip.phones]}


def _ordered_flags(flags: list[str]) -> list[str]:
    return [f for f in FLAGS if f in set(flags)]


def _prosody_from_cache(cache: dict):

    n = len(cache["f0_hz"])
    return Prosody(times=np.arange(n, dtype=np.float64) / feats.FRAME_RATE,
                   loudness_db=cache["loudness_db"], loudness=cache["loudness"],
                   f0=cache["f0_hz"], voiced=cache["voiced"])


def _render_targets(item_id: str, phones, prosody, num_samples: int, emotion, intensity,
                    captured: dict | None) -> tuple[dict, str, float]:
    """Target arrays for one clip: teacher variants, plus captured curves when given
    (``captured_weights`` etc.; the exchange set then follows their frame grid)."""
    duration = num_samples / feats.SAMPLE_RATE
    if captured is not None:
        fps = float(captured["fps"])
        arrays = teacher.render(phones, prosody, duration, item_id, None, fps=fps,
                                num_frames=len(captured["captured_weights"]))
        arrays.update({k: v for k, v in captured.items() if k.startswith("captured_")})
        kind = "captured"
    else:
        label = (emotion or "neutral", float(intensity or 0.0))
        arrays = teacher.render(phones, prosody, duration, item_id, label)
        kind, fps = "teacher", teacher.FPS
    arrays["names"] = np.array(ARKIT_NAMES)
    arrays["fps"] = np.array(fps, np.float32)
    return arrays, kind, fps


def finish_clip(item: Item, clip: Clip, out: Path) -> tuple[dict, int]:
    """Write a loaded clip's files (audio if generated, phones, features, targets); return
    its manifest row and its length in 16 kHz samples."""

    src = item.source
    if clip.audio is None:
        rel_audio = f"audio/{src}/{item.id}.flac"
        path = out / rel_audio
        path.parent.mkdir(parents=True, exist_ok=True)
        save_wav(path, clip.samples, clip.store_rate or 16000)
        # features must be those of the file training will read, not of the float samples
        samples = load_audio(path)
        audio_field, rate = rel_audio, clip.store_rate or 16000
    else:
        samples, audio_field, rate = clip.samples, clip.audio, clip.sample_rate
    rel_feats, cache = feats.cached(samples, out)
    # the teacher reads prosody as cached (trimmed to the feature frames), so a later
    # re-render from the cache (retarget_clip) draws exactly the same curves
    prosody = _prosody_from_cache(cache)
    intensity = None if clip.emotion is None else round(float(clip.intensity), 4)

    rel_phones = f"phones/{src}/{item.id}.json"
    save_json(out / rel_phones, _phones_json(clip))

    captured = None
    if clip.captured is not None:
        anim = clip.captured
        captured = {"fps": anim.fps, "captured_weights": anim.weights.astype(np.float32)}
        if anim.head is not None:
            captured["captured_head"] = anim.head.astype(np.float32)
        if anim.eyes is not None:
            captured["captured_eyes"] = anim.eyes.astype(np.float32)
    arrays, kind, fps = _render_targets(item.id, clip.phones, prosody, len(samples),
                                        clip.emotion, intensity, captured)
    rel_targets = f"targets/{src}/{item.id}.npz"
    save_npz(out / rel_targets, arrays)

    row = {
        "id": item.id, "audio": audio_field, "sample_rate": int(rate),
        "duration": round(len(samples) / feats.SAMPLE_RATE, 4), "language": clip.language,
        "speaker": clip.speaker, "transcript": clip.transcript, "phones": rel_phones,
        "phone_method": clip.phone_method, "emotion": clip.emotion, "intensity": intensity,
        "source": src, "licence": clip.licence, "split": clip.split, "targets": rel_targets,
        "target_fps": float(fps), "target_channels": list(ARKIT_NAMES), "target_kind": kind,
        "flags": _ordered_flags([kind, *clip.flags]), "features": rel_feats,
        "group": clip.group, "extra": clip.extra,
    }
    return validate_row(row, f"clip {item.id!r}"), len(samples)


def retarget_clip(item: Item, out: Path, marker: dict) -> dict:
    """Re-render a finished clip's targets with the current teacher, from its stored phone
    timings and cached prosody (no audio, no alignment); returns the updated marker."""

    row = marker["row"]
    phones = [Phone(float(a), float(b), p, label, word)
              for a, b, p, label, word in load_json(out / row["phones"])["phones"]]
    prosody = _prosody_from_cache(load_npz(out / row["features"]))
    captured = None
    if row["target_kind"] == "captured":
        old = load_npz(out / row["targets"])
        captured = {k: v for k, v in old.items() if k.startswith("captured_")}
        captured["fps"] = row["target_fps"]
    arrays, _kind, _fps = _render_targets(item.id, phones, prosody, marker["num_samples"],
                                          row["emotion"], row["intensity"], captured)
    save_npz(out / row["targets"], arrays)
    return {**marker, "teacher": teacher.code_hash()}


def process_item(item: Item, out: Path, old_marker: dict | None = None
                 ) -> tuple[str, str, object]:
    """Build one clip, or only re-render its targets when ``old_marker`` (a finished clip
    drawn by another teacher) is given. Returns ("done" or "retargeted", id, row),
    ("skipped", id, reason) or ("failed", id, traceback); never raises for a bad clip."""
    marker = marker_path(out, item.id, item.source)
    recipe = recipe_hash(item)
    if old_marker is not None:
        try:
            save_json(marker, retarget_clip(item, out, old_marker))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception:  # noqa: BLE001 - e.g. a deleted cache file: rebuild the clip
            old_marker = None
        else:
            return "retargeted", item.id, old_marker["row"]
    try:
        clip = SOURCES[item.source].load(item)
        row, num_samples = finish_clip(item, clip, out)
    except SkipClip as exc:
        save_json(marker, {"recipe": recipe, "status": "skipped", "id": item.id,
                           "source": item.source, "reason": str(exc)})
        return "skipped", item.id, str(exc)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception:  # noqa: BLE001 - one broken clip must not stop the build
        return "failed", item.id, traceback.format_exc()
    save_json(marker, {"recipe": recipe, "status": "done", "id": item.id,
                       "source": item.source, "teacher": teacher.code_hash(),
                       "num_samples": num_samples, "row": row})
    return "done", item.id, row


_WORKER_OUT: Path | None = None


def _init_worker(out: str) -> None:
    global _WORKER_OUT
    _WORKER_OUT = Path(out)
    # The parent owns the progress bar and Ctrl-C; workers just stop with the pool. The
    # pool ends its workers with SIGTERM, which must kill them quietly, not run the
    # CLI's handler inherited through fork (it raised inside each idle worker: a traceback).
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _work(job: tuple[Item, dict | None]):
    item, old_marker = job
    return item.source, process_item(item, _WORKER_OUT, old_marker)


# ------------------------------------------------------------------ the build

def plan_sources(sources: list[tuple[str, Path | None]], options: BuildOptions) -> list[Item]:
    items: list[Item] = []
    seen: set[str] = set()
    for name, root in sources:
        if name not in SOURCES:
            raise UserError(f"unknown corpus source {name!r}; choose from {', '.join(SOURCES)}")
        source = SOURCES[name]
        if root is None and source.needs_root:
            root = source.root()
            if root is None:
                raise UserError(f"source {name!r} needs a folder: write {name}=PATH")
        if root is not None and source.needs_root and not Path(root).exists():
            raise UserError(f"source {name!r}: {str(root)!r} does not exist")
        for item in source.plan(Path(root) if root is not None else None, options):
            if item.id in seen:
                raise UserError(f"two clips would get the id {item.id!r} (source {name!r} "
                                f"given twice?)")
            seen.add(item.id)
            items.append(item)
    return items


def _read_marker(path: Path) -> dict | None:
    try:
        return load_json(path)
    except (OSError, ValueError):
        return None  # a damaged marker means the clip is redone


def build(out: str | os.PathLike, sources: list[tuple[str, Path | None]],
          options: BuildOptions | None = None) -> BuildReport:
    """Build (or complete) the corpus in ``out`` from ``sources`` (name, root or None for
    the default location). Returns what was done; also written to build_report.json."""
    options = options or BuildOptions()
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for folder in _OUTPUT_FOLDERS:
        remove_stale_temporaries(out / folder)
    items = plan_sources(sources, options)
    drawn_by = teacher.prepare()
    report = BuildReport()
    pending: list[tuple[Item, dict | None]] = []
    for item in items:
        report.planned[item.source] += 1
        marker = _read_marker(marker_path(out, item.id, item.source)) \
            if marker_path(out, item.id, item.source).is_file() else None
        if marker is not None and marker.get("recipe") == recipe_hash(item):
            if marker["status"] == "done" and marker.get("teacher") == drawn_by:
                report.reused[item.source] += 1
                continue
            if marker["status"] == "done" and "num_samples" in marker:
                pending.append((item, marker))  # only the teacher changed
                continue
            if marker["status"] == "skipped" and not options.retry_skipped:
                report.skipped.append({"id": item.id, "source": item.source,
                                       "reason": marker["reason"], "new": False})
                continue
        pending.append((item, None))

    if options.prune:
        report.pruned = _prune(out, items, {name for name, _ in sources})

    if pending:
        _run(pending, out, options, report)

    rows, report.stale_teacher = _collect_rows(out, drawn_by)
    report.manifest_written = _write_manifest_if_changed(out / MANIFEST_NAME, rows)
    for row in rows:
        report.clips[row["source"]] += 1
        report.hours[row["source"]] = report.hours.get(row["source"], 0.0) + row["duration"] / 3600
    report.skipped.sort(key=lambda s: s["id"])
    report.failed.sort(key=lambda s: s["id"])
    report.seconds = time.perf_counter() - start
    report.teacher = drawn_by
    if report.work_done or report.manifest_written or not (out / REPORT_NAME).is_file():
        save_json(out / REPORT_NAME, report.to_json(options))
    return report


def _run(pending: list[tuple[Item, dict | None]], out: Path, options: BuildOptions,
         report: BuildReport) -> None:
    from tqdm import tqdm

    bar = tqdm(total=len(pending), desc="building corpus", unit="clip",
               disable=not options.progress, smoothing=0.05)

    def record(source: str, result) -> None:
        status, item_id, payload = result
        if status == "done":
            report.built[source] += 1
        elif status == "retargeted":
            report.retargeted[source] += 1
        elif status == "skipped":
            report.skipped.append({"id": item_id, "source": source, "reason": payload,
                                   "new": True})
        else:
            report.failed.append({"id": item_id, "source": source, "error": payload})
        bar.update(1)

    workers = max(1, int(options.workers))
    try:
        if workers == 1 or len(pending) == 1:
            for item, old_marker in pending:
                record(item.source, process_item(item, out, old_marker))
        else:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers, initializer=_init_worker, initargs=(str(out),),
                          maxtasksperchild=200) as pool:
                for source, result in pool.imap_unordered(_work, pending, chunksize=1):
                    record(source, result)
    finally:
        bar.close()


def _collect_rows(out: Path, drawn_by: str) -> tuple[list[dict], list[str]]:
    """Rows of every finished clip in the folder, and the ids of those whose targets were
    drawn by other teacher code (clips of sources this run did not plan)."""
    rows, stale = [], []
    state = out / "state"
    if not state.is_dir():
        return rows, stale
    for path in sorted(state.glob("*/*.json")):
        marker = _read_marker(path)
        if marker and marker.get("status") == "done":
            rows.append(marker["row"])
            if marker.get("teacher") != drawn_by:
                stale.append(marker["row"]["id"])
    return sorted(rows, key=lambda r: r["id"]), stale


def _write_manifest_if_changed(path: Path, rows: list[dict]) -> bool:
    text = "".join(dumps_row(r) + "\n" for r in sorted(rows, key=lambda r: r["id"]))
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_manifest(path, rows)
    return True


def _prune(out: Path, items: list[Item], sources: set[str]) -> int:
    """Remove clips of the named sources that the current plan no longer holds."""
    keep = {item.id for item in items}
    removed = 0
    for source in sources:
        for marker in sorted((out / "state" / source).glob("*.json")):
            item_id = marker.stem
            if item_id in keep:
                continue
            for rel in (f"audio/{source}/{item_id}.flac", f"phones/{source}/{item_id}.json",
                        f"targets/{source}/{item_id}.npz"):
                (out / rel).unlink(missing_ok=True)
            marker.unlink()
            removed += 1
    return removed
