"""Export speed and file size of 60 s of animation: the export half of ``emoface dev graphics``.

    .venv/bin/python benchmarks/export_bench.py [--seconds 60] [--fps 30] [--repeat 3]
                                                [--rigs default,ict]

``emoface bench --suite full`` runs the same measurement and puts it in BENCHMARKS.md;
this script prints just the export table.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["dev", "graphics", "export", *sys.argv[1:]]))
