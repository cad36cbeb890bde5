"""Capture on real video: GRID talker s1 (../shared/data/video/grid-s1, CC BY 4.0,
Cooke et al. 2006).

For each clip: the captured lip aperture (DESIGN's formula on the captured weights) against
the raw inner-lip opening over the eye-corner distance (FaceMesh landmarks), as Pearson r
over the speech; closures seen on video inside b/p/m words (raw opening under a threshold
chosen on the first 200 clips by name) and whether the capture closes too (aperture < 0.05)
within +-1 frame (with and without capture's lip-contact rule, which closes the take where
the inner lips touch on video, and so makes that figure partly a consistency check);
false closures (capture closed while the video is clearly open); and the
capture speed in video frames per second (FaceMesh included, nothing cached). Alignment
parsing, the split and the closure counts are emoface.eval.realmotion's (the real-motion
benchmark's), so the two measure alike.

    python tools/capture_grid.py --cache /tmp/grid-cache [--speed-clips 20]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from emoface.animation import frames_inside
from emoface.arkit import lip_aperture
from emoface.capture import capture, lip_opening
from emoface.eval.realmotion import (
    closure_recall,
    false_closures,
    grid_clips,
    grid_split,
    is_bilabial,
    lag_correlation,
    read_alignment,
    speech_mask,
    spoken,
)


def clip_stats(video: Path, cache: str, contact_rule: bool = True) -> dict:
    raw, fps = lip_opening(video, cache)
    anim = capture(video, cache_dir=cache, progress=False, contact_rule=contact_rule)
    ap = lip_aperture(anim.weights.astype(np.float64))
    words = read_alignment(video.parent / "align" / f"{video.stem}.align")
    n = min(len(raw), len(ap))
    raw, ap = raw[:n], ap[:n]
    ok = speech_mask(words, fps, n) & np.isfinite(raw)
    bil = [frames_inside(w.start, w.end, fps, n) for w in spoken(words) if is_bilabial(w.word)]
    return {"raw": raw, "ap": ap, "speech": ok, "words": words, "fps": fps, "bilabial": bil,
            "r": lag_correlation(ap, raw, ok, max_lag=0)[0]}


def closures(stats: list[dict], threshold: float) -> tuple[int, int, int, int, int]:
    seen = hit = false_closed = open_frames = speech_frames = 0
    for st in stats:
        s, h = closure_recall(st["ap"], st["raw"], st["words"], st["fps"], gap=threshold)
        c, o = false_closures(st["ap"], st["raw"], st["speech"])
        seen, hit, false_closed, open_frames = seen + s, hit + h, false_closed + c, open_frames + o
        speech_frames += int(st["speech"].sum())
    return seen, hit, false_closed, open_frames, speech_frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True, help="landmark cache folder")
    ap.add_argument("--speed-clips", type=int, default=20,
                    help="held-out clips timed without the cache (default 20)")
    args = ap.parse_args()
    videos = grid_clips()
    fit, held = grid_split(videos)
    print(f"{len(videos)} clips: fit on {len(fit)} ({fit[0].stem}..{fit[-1].stem}), "
          f"report on {len(held)} ({held[0].stem}..{held[-1].stem})")

    # Speed first (nothing cached for these clips in this pass).
    t, frames = 0.0, 0
    for v in held[:args.speed_clips]:
        start = time.perf_counter()
        anim = capture(v, cache_dir=None, progress=False)
        t += time.perf_counter() - start
        frames += anim.num_frames
    if frames:
        print(f"speed: {frames} frames in {t:.1f} s = {frames / t:.1f} video frames/s "
              f"({args.speed_clips} clips, FaceMesh included, no cache)")

    fit_stats = [clip_stats(v, args.cache) for v in fit]
    # Threshold for "closed on video": the valley of the per-word minimum raw opening in
    # b/p/m words on the fit clips (closed lips read near 0, open ones well above).
    mins = np.array([np.nanmin(st["raw"][f]) for st in fit_stats for f in st["bilabial"]
                     if np.isfinite(st["raw"][f]).any()])
    grid = np.linspace(0.002, 0.03, 29)
    counts = np.array([((mins >= g - 0.001) & (mins < g + 0.001)).sum() for g in grid])
    threshold = float(grid[np.argmin(counts)])
    print(f"fit clips: per-word minimum raw opening in b/p/m words, quartiles "
          f"{np.percentile(mins, [25, 50, 75]).round(4).tolist()}; closed-on-video threshold "
          f"{threshold:.3f}")
    held_stats = [clip_stats(v, args.cache) for v in held]
    plain = [clip_stats(v, args.cache, contact_rule=False) for v in held]
    for name, stats in (("fit (first 200)", fit_stats), ("held out (last 100)", held_stats),
                        ("held out, without the lip-contact rule", plain)):
        r = np.array([st["r"] for st in stats])
        pooled = lag_correlation(np.concatenate([st["ap"][st["speech"]] for st in stats]),
                                 np.concatenate([st["raw"][st["speech"]] for st in stats]),
                                 max_lag=0)[0]
        seen, hit, false_closed, open_frames, speech_frames = closures(stats, threshold)
        print(f"{name}: r per clip mean {np.nanmean(r):.3f} median {np.nanmedian(r):.3f} "
              f"(min {np.nanmin(r):.3f}, {int((r >= 0.9).sum())}/{len(r)} clips >= 0.9), "
              f"pooled r {pooled:.3f}; closures seen on video in b/p/m words {seen}, "
              f"closed by the capture within +-1 frame {hit} ({100 * hit / max(seen, 1):.1f} %); "
              f"false closures {false_closed} of {open_frames} clearly open frames "
              f"({100 * false_closed / max(open_frames, 1):.1f} %; {speech_frames} speech "
              "frames)")


if __name__ == "__main__":
    main()
