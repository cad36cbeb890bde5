"""Rebuild the bundled head's capture basis (emoface/assets/capture_basis_default.npz).

Renders the default rig with a known random take (seed 1000, 800 frames), tracks it with
FaceMesh and fits the landmark displacement per ARKit shape. About 30 s on 2 CPU cores.

    python tools/capture_basis.py
"""
from __future__ import annotations

from emoface.capture.basis import write_bundled

if __name__ == "__main__":
    print(f"wrote {write_bundled()}")
