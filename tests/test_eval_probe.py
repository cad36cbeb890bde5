"""The held-out lip-sync probe (emoface dev probe)."""
from __future__ import annotations

import io
import re

import pytest

from emoface.cli import main
from emoface.engines.neural.checkpoint import BUNDLED_MODEL
from emoface.eval import probe
from emoface.eval.lipsync import BILABIALS
from emoface.eval.runner import prepare


def test_missing_weights_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["dev", "probe", str(tmp_path / "nothing.safetensors")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "not found" in err[0]


def test_probe_counts_every_reference_bilabial(shared_data, monkeypatch):
    if not BUNDLED_MODEL.exists():
        pytest.skip("no bundled model")
    items = probe.probe_items(shared_data)
    picked = {"LibriVox": [i for i in items["LibriVox"] if i.id == "librivox/0880"],
              "EmoDB 13+14": items["EmoDB 13+14"][:1]}
    monkeypatch.setattr(probe, "probe_items", lambda root=None: picked)
    out = io.StringIO()
    probe.probe([str(BUNDLED_MODEL)], show_misses=True, out=out)
    text = out.getvalue()
    for name, chosen in picked.items():
        phones = prepare(chosen[0]).ref_phones
        expected = sum(p.phone in BILABIALS for p in phones)
        m = re.search(rf"{re.escape(name)}\s+closure (\d+)/(\d+) \(.*\), r (-?[\d.]+) over 1 clips",
                      text)
        assert m, text
        assert int(m[2]) == expected and 0 <= int(m[1]) <= expected
        assert -1.0 <= float(m[3]) <= 1.0
    # the bundled weights carry a phone head, so its accuracy is reported
    m = re.search(r"phone head ([\d.]+) % of (\d+) frames", text)
    assert m and 0 < int(m[2]) and 0.0 <= float(m[1]) <= 100.0
