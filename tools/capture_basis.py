"""Rebuild the bundled head's capture basis (emoface/assets/capture_basis_default.npz).

Renders the default rig with a known random take (seed 1000, 1600 frames), tracks it with
FaceMesh and fits the landmark displacement per ARKit shape and the drift with the head's
turn. One to four minutes on the shared 2-core CPU.

    python tools/capture_basis.py
"""
from __future__ import annotations

from emoface.capture.basis import write_bundled

if __name__ == "__main__":
    print(f"wrote {write_bundled()}")
