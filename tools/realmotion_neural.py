"""Real-motion rows of the neural engine alone, for comparing weights files:

    EMOFACE_MODEL=runs/x/best.safetensors python tools/realmotion_neural.py OUT.json [held|val]

``held`` (default): the 100 held-out GRID clips; ``val``: the 20 validation clips of the
fitting side (every 10th by name, the corpus's ``video`` val split). Landmarks and results
are cached under $RM_CACHE (default runs/real-motion; results are keyed by the weights).
"""
import json
import os
import sys

from emoface.eval import realmotion
from emoface.eval.runner import System

out = sys.argv[1]
which = sys.argv[2] if len(sys.argv) > 2 else "held"
fit, held = realmotion.grid_split()
clips = held if which == "held" else [c for i, c in enumerate(fit) if i % 10 == 9]
res = realmotion.run(clips, systems=[System("neural", "neural", False)],
                     cache_dir=os.environ.get("RM_CACHE", "runs/real-motion"), progress=False)
with open(out, "w") as f:
    json.dump(res, f, indent=1, default=float)
for k, s in res["summary"].items():
    print(k, f"r_capture {s['r_capture']:.3f} r_raw {s['r_raw']:.3f} closures "
          f"{s['closures_hit']}/{s['closures_seen']} ({100 * s['closure_recall']:.1f} %) false "
          f"{s['closed_while_open']}/{s['open_frames']} jitter {s['jitter']:.4f}")
print(realmotion.render_markdown(res))
