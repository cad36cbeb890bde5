"""Render speed on the default and ICT rigs: the render half of ``emoface dev graphics``.

    .venv/bin/python benchmarks/render_bench.py [--size 512] [--frames 150] [--repeat 3]
                                                [--rigs default,ict] [--no-video]

``emoface bench --suite full`` runs the same measurement and puts it in BENCHMARKS.md;
this script prints just the render table.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["dev", "graphics", "render", *sys.argv[1:]]))
