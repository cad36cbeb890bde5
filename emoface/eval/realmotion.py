"""Real motion: every engine's lips against lips captured from real video (DESIGN.md,
Evaluation protocol, **Real motion**).

The data is GRID talker s1 (``../shared/data/video/grid-s1``: 300 three-second clips at
25 fps with word alignments; GRID corpus, Cooke et al. 2006, CC BY 4.0). Each system
animates a clip's soundtrack at the video's frame rate (neutral emotion, seed 0; engines
that read a transcript also get a second column with the alignment's words). Over the
speech frames (inside non-silence words, where a face was found) we measure:

* Pearson r of the lip aperture (:func:`emoface.arkit.lip_aperture`) against (a) the
  aperture of the captured take (:func:`emoface.capture.capture`) and (b) the raw
  inner-lip landmark opening over the eye-corner distance, best lag within +-3 frames;
* b/p/m closure recall: closures seen on video (raw opening under the capture's contact
  gap) inside b/p/m words that the animation also closes (aperture under
  :data:`~emoface.arkit.LIPS_MEET`) within +-1 frame;
* false closures: the share of clearly open video frames (raw opening over
  :data:`OPEN_VIDEO`) on which the animation is closed;
* jitter (:func:`emoface.eval.motion.jitter`) beside the captured take's.

The captured take itself is scored the same way against the raw landmarks: the ceiling.
The split is by sentence (:func:`grid_split`): GRID's first 200 clips by name chose the
capture's one GRID-fitted parameter; results are reported on the last 100.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..animation import frames_inside
from ..arkit import LIPS_MEET, lip_aperture
from ..audio.speech import Speech
from ..capture import capture, lip_opening
from ..capture import video as capture_video
from ..capture.fit import CONTACT_GAP
from ..errors import UserError
from ..paths import shared_data_dir
from .lipsync import _pearson
from .motion import jitter
from .runner import FPS, SEED, Cache, Engines, System, systems_for, usable_systems

SILENCE = frozenset({"sil", "sp"})
FIT_CLIPS = 200          # GRID clips (sorted by name) on the fitting side of the split
MAX_LAG = 3              # frames, either way
CLOSE_TOLERANCE = 1      # frames: an animated closure this near a closure on video counts
OPEN_VIDEO = 0.03        # raw opening / eye-corner distance: the video's mouth clearly open
CAPTURE = "captured take (ceiling)"
ATTRIBUTION = "GRID corpus, Cooke et al. 2006, CC BY 4.0"
SECTION = "Real motion (GRID talker s1, held-out sentences)"
COMMAND = "emoface dev real-motion"


def grid_dir() -> Path:
    return shared_data_dir() / "video" / "grid-s1"


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Word:
    start: float   # seconds
    end: float
    word: str


def read_alignment(path: str | Path) -> list[Word]:
    """GRID's ``start end word`` lines, times in 1/25000 s."""
    out = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.append(Word(int(parts[0]) / 25000, int(parts[1]) / 25000, parts[2]))
    return out


def spoken(words: list[Word]) -> list[Word]:
    return [w for w in words if w.word not in SILENCE]


def transcript(words: list[Word]) -> str:
    return " ".join(w.word for w in spoken(words))


def is_bilabial(word: str) -> bool:
    return any(c in word for c in "bpm")


def grid_clips(root: str | Path | None = None) -> list[Path]:
    """Every GRID video, sorted by file name."""
    root = Path(root) if root is not None else grid_dir()
    return sorted(root.glob("*.mp4"), key=lambda p: p.name)


def grid_split(clips: list[Path] | None = None) -> tuple[list[Path], list[Path]]:
    """(fit, held out): sorted by file name, the first 200 clips are the fitting and
    validation side (where the capture's contact gap was chosen), the rest are held out."""
    clips = sorted(grid_clips() if clips is None else clips, key=lambda p: Path(p).name)
    return clips[:FIT_CLIPS], clips[FIT_CLIPS:]


def unavailable_reason(root: str | Path | None = None) -> str | None:
    """Why the real-motion rows cannot be computed here, or None."""
    root = Path(root) if root is not None else grid_dir()
    if len(grid_clips(root)) <= FIT_CLIPS or not (root / "align").is_dir():
        return f"no GRID talker s1 clips with alignments in {root}"
    for module in ("mediapipe", "imageio_ffmpeg"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'emoface[render,capture]')"
    return None


# ------------------------------------------------------------------------ metrics
def speech_mask(words: list[Word], fps: float, n: int) -> np.ndarray:
    """Frames inside non-silence words."""
    mask = np.zeros(n, bool)
    for w in spoken(words):
        mask[frames_inside(w.start, w.end, fps, n)] = True
    return mask


def lag_correlation(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None,
                    max_lag: int = MAX_LAG) -> tuple[float, int]:
    """Best Pearson r over lags in [-max_lag, max_lag] frames and that lag, on the frames
    ``t`` of ``mask``: ``pred[t + lag]`` against ``ref[t]`` (a positive lag: the
    prediction comes late). Among equal r the smallest |lag| wins."""
    pred, ref = np.asarray(pred, np.float64), np.asarray(ref, np.float64)
    n = min(len(pred), len(ref))
    t = np.flatnonzero(np.ones(n, bool) if mask is None else np.asarray(mask)[:n])
    best, best_key = (float("nan"), 0), None
    for lag in range(-max_lag, max_lag + 1):
        tt = t[(t + lag >= 0) & (t + lag < n)]
        if len(tt) < 3:
            continue
        r = _pearson(pred[tt + lag], ref[tt])
        key = (round(r, 12), -abs(lag))
        if best_key is None or key > best_key:
            best, best_key = (r, lag), key
    return best


def closure_recall(aperture: np.ndarray, raw: np.ndarray, words: list[Word], fps: float,
                   gap: float = CONTACT_GAP,
                   tolerance: int = CLOSE_TOLERANCE) -> tuple[int, int]:
    """(seen, closed): b/p/m words in which the video shows the lips touching (raw opening
    under ``gap``), and how many of those the animation also closes (aperture under
    LIPS_MEET) within ``tolerance`` frames of a touching frame."""
    n = min(len(aperture), len(raw))
    aperture, raw = np.asarray(aperture)[:n], np.asarray(raw)[:n]
    seen = hit = 0
    for w in spoken(words):
        if not is_bilabial(w.word):
            continue
        frames = frames_inside(w.start, w.end, fps, n)
        touching = frames[np.nan_to_num(raw[frames], nan=np.inf) < gap]
        if not len(touching):
            continue
        seen += 1
        near = np.unique(np.clip(touching[:, None] + np.arange(-tolerance, tolerance + 1),
                                 0, n - 1))
        hit += bool((aperture[near] < LIPS_MEET).any())
    return seen, hit


def false_closures(aperture: np.ndarray, raw: np.ndarray,
                   mask: np.ndarray) -> tuple[int, int]:
    """(closed, open): frames of ``mask`` where the video's mouth is clearly open, and how
    many of them the animation holds closed."""
    n = min(len(aperture), len(raw), len(mask))
    open_video = mask[:n] & (np.nan_to_num(raw[:n], nan=-np.inf) > OPEN_VIDEO)
    return int((open_video & (aperture[:n] < LIPS_MEET)).sum()), int(open_video.sum())


@dataclass
class Reference:
    """What one clip shows on video."""

    name: str
    fps: float
    raw: np.ndarray            # inner-lip opening / eye-corner distance (NaN: no face)
    captured: np.ndarray       # the captured take's lip aperture
    captured_jitter: float
    words: list[Word]


def clip_scores(aperture: np.ndarray, weights_jitter: float, ref: Reference,
                against_capture: bool = True) -> dict:
    """Every real-motion number of one animation (its lip aperture) on one clip."""
    n = min(len(aperture), len(ref.raw), len(ref.captured))
    ap, raw = np.asarray(aperture, np.float64)[:n], ref.raw[:n]
    mask = speech_mask(ref.words, ref.fps, n) & np.isfinite(raw)
    r_raw, lag_raw = lag_correlation(ap, raw, mask)
    out = {"frames": int(mask.sum()), "r_raw": r_raw, "lag_raw": lag_raw,
           "jitter": weights_jitter, "captured_jitter": ref.captured_jitter}
    if against_capture:
        out["r_capture"], out["lag_capture"] = lag_correlation(ap, ref.captured[:n], mask)
    out["closures_seen"], out["closures_hit"] = closure_recall(ap, raw, ref.words, ref.fps)
    out["closed_while_open"], out["open_frames"] = false_closures(ap, raw, mask)
    return out


def aggregate(per_clip: list[dict]) -> dict:
    """Means of per-clip r and jitter, pooled closure and false-closure counts."""
    def mean(key):
        values = [c[key] for c in per_clip if key in c and np.isfinite(c[key])]
        return float(np.mean(values)) if values else float("nan")

    def median(key):
        values = [c[key] for c in per_clip if key in c and np.isfinite(c[key])]
        return float(np.median(values)) if values else float("nan")

    seen = sum(c["closures_seen"] for c in per_clip)
    hit = sum(c["closures_hit"] for c in per_clip)
    closed = sum(c["closed_while_open"] for c in per_clip)
    opened = sum(c["open_frames"] for c in per_clip)
    return {"clips": len(per_clip), "frames": sum(c["frames"] for c in per_clip),
            "r_capture": mean("r_capture"), "r_raw": mean("r_raw"),
            "r_raw_median": median("r_raw"), "lag_raw_median": median("lag_raw"),
            "closures_seen": seen, "closures_hit": hit,
            "closure_recall": hit / seen if seen else float("nan"),
            "closed_while_open": closed, "open_frames": opened,
            "false_closure_share": closed / opened if opened else float("nan"),
            "jitter": mean("jitter"), "captured_jitter": mean("captured_jitter")}


# ------------------------------------------------------------------------- running
def real_motion_systems(systems: list[System] | None = None) -> list[System]:
    """The columns: every engine with neutral emotion, plus its transcript variant where
    it reads one (``auto`` columns are another question)."""
    systems = systems_for() if systems is None else systems
    return [s for s in systems if s.emotion == "neutral"]


def load_reference(video: Path, landmark_cache: Path | None) -> tuple[Reference, Speech]:
    raw, fps = lip_opening(video, landmark_cache)
    take = capture(video, cache_dir=landmark_cache, progress=False)
    words = read_alignment(video.parent / "align" / f"{video.stem}.align")
    info = capture_video.probe(video)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "sound.wav"
        if not capture_video.extract_audio(info, wav):
            raise UserError(f"{video} has no readable soundtrack")
        speech = Speech.from_file(wav)   # 16 kHz mono
    speech.source = video.stem
    ref = Reference(video.stem, fps, np.asarray(raw, np.float64),
                    lip_aperture(take.weights.astype(np.float64)), jitter(take), words)
    return ref, speech


def _animate(engines: Engines, system: System, speech: Speech, ref: Reference):
    if system.transcript:
        speech = Speech(speech.samples, speech.sample_rate, text=transcript(ref.words),
                        source=speech.source)
    return engines[system.engine].animate(speech, "neutral", fps=ref.fps, seed=SEED)


def run(clips: list[Path] | None = None, systems: list[System] | None = None,
        cache_dir: str | Path | None = None, progress: bool = True) -> dict:
    """Per-clip and aggregate scores of every system and the captured take on ``clips``
    (default: the 100 held-out GRID clips). Landmarks and each (clip, system)'s scores are
    cached under ``cache_dir``, so a rerun is fast and an interrupted run resumes."""
    reason = unavailable_reason(Path(clips[0]).parent if clips else None)
    if reason:
        raise UserError(f"real motion: {reason}")
    clips = grid_split()[1] if clips is None else [Path(c) for c in clips]
    if not clips:
        raise UserError("real motion: no clips to run on")
    systems, broken = usable_systems(real_motion_systems(systems))
    landmarks = Path(cache_dir) if cache_dir else None
    cache = Cache(landmarks / "realmotion" if landmarks else None)
    engines = Engines()
    labels = [CAPTURE] + [s.label for s in systems]
    per_clip: dict[str, dict] = {label: {} for label in labels}
    for video in tqdm(clips, desc="real motion", unit="clip", file=sys.stderr, disable=None
                      if progress else True, dynamic_ncols=True):
        keys = {label: Cache.key(video.name, label, FPS, SEED) for label in labels}
        got = {label: cache.get("clips", keys[label]) for label in labels}
        if any(v is None for v in got.values()):
            ref, speech = load_reference(video, landmarks)
            for s in systems:
                if got[s.label] is None:
                    anim = _animate(engines, s, speech, ref)
                    got[s.label] = clip_scores(lip_aperture(anim.weights.astype(np.float64)),
                                               jitter(anim), ref)
            if got[CAPTURE] is None:
                got[CAPTURE] = clip_scores(ref.captured, ref.captured_jitter, ref,
                                           against_capture=False)
            for label in labels:
                cache.put("clips", keys[label], got[label])
        for label in labels:
            per_clip[label][video.stem] = got[label]
    return {"data": f"GRID talker s1 ({ATTRIBUTION})", "clips": [v.stem for v in clips],
            "systems": labels, "unavailable": broken, "seed": SEED,
            "summary": {label: aggregate(list(per_clip[label].values())) for label in labels},
            "per_clip": per_clip}


# ------------------------------------------------------------------------- report
def _num(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def render_markdown(results: dict) -> str:
    """The real-motion table (one row per system, the captured take last)."""
    rows = [s for s in results["systems"] if s != CAPTURE] + [CAPTURE]
    lines = [
        "| system | r vs captured take | r vs raw landmarks (median lag) | b/p/m closures "
        "closed +-1 frame | closed while video open | jitter, 10⁻³ (captured take) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label in rows:
        s = results["summary"][label]
        r_capture = "-" if label == CAPTURE else _num(s["r_capture"])
        lag = s["lag_raw_median"]
        lines.append(
            f"| {label} | {r_capture} | {_num(s['r_raw'])} ({lag:+.0f}) | "
            f"{s['closures_hit']}/{s['closures_seen']} ({100 * s['closure_recall']:.0f} %) | "
            f"{100 * s['false_closure_share']:.1f} % of {s['open_frames']} | "
            f"{_num(1e3 * s['jitter'])} ({_num(1e3 * s['captured_jitter'])}) |")
    clips = results["clips"]
    s = results["summary"][CAPTURE]
    notes = [
        "",
        f"{len(clips)} held-out clips ({clips[0]}..{clips[-1]}), {s['frames']} speech frames "
        f"at 25 fps; data: {results['data']}. r: Pearson r of the lip aperture per clip "
        f"over the speech, best lag within +-{MAX_LAG} frames (positive: the animation "
        "late), mean over clips. Closures: b/p/m words whose inner lips touch on video "
        f"(opening < {CONTACT_GAP} eye-corner distances), pooled. Closed while open: "
        f"aperture < {LIPS_MEET} on speech frames whose raw opening is > {OPEN_VIDEO}. "
        "Jitter: mean absolute second difference of the 52 weights at 30 fps (10⁻³ "
        "weight/frame²), mean over clips, the captured take's in brackets. Every system "
        f"animates the clip's soundtrack at 25 fps, neutral emotion, seed {SEED}; "
        "\"+ transcript\" gets the alignment's words. Reproduce: "
        f"`{COMMAND} --json OUT.json` (`emoface.eval.realmotion`).",
    ]
    if results.get("unavailable"):
        notes.append("Not run here: " + "; ".join(f"{k} ({v})" for k, v in
                                                  results["unavailable"].items()) + ".")
    return "\n".join(lines + notes) + "\n"


def write_outputs(results: dict, json_out: str | None = None,
                  markdown: str | None = None) -> None:
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=1, default=float))
    text = render_markdown(results)
    if markdown and markdown != "-":
        Path(markdown).write_text(text)
    elif not json_out or markdown == "-":
        sys.stdout.write(text)
