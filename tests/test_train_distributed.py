"""Training on two processes under torchrun (gloo, on this CPU): both ranks end with the
same weights, and the run takes the steps one process takes on the same global batch.

The same global batch: each rank draws its micro-batch from its own data stream (stream
= rank), and one process with ``accumulate = 2`` draws its two micro-batches from streams
0 and 1 (emoface.train.loop), so the two runs see the same clips and the same latent
noise at every step. Dropout is off: its masks come from each process's own generator.

The tolerance: with two ranks the runs should agree exactly. DDP sums the two ranks'
float32 gradients (one rounding; the order of two addends does not matter) and divides by
2 (exact); one process adds g0/2 and g1/2 (exact halvings, then the same one rounding).
The losses are the same sums over the same numbers. So the test allows 1e-6 (absolute
on weights, relative on losses): room for a reduction that reassociates, and still far
below the gap a missing average opens (with DDP's averaging removed, the ranks' weights
differ after the first step and this test fails).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from emoface.data.build import BuildOptions, build  # noqa: E402
from emoface.engines.neural.checkpoint import load_network  # noqa: E402
from emoface.train.loop import fit  # noqa: E402

SMALL = dict(d_model=48, n_heads=2, content_layers=2, decoder_layers=1, d_emotion=24,
             emotion_layers=2, content_window=16, decoder_window=12, d_latent=4, dropout=0.0)
STEPS = 3
TOLERANCE = 1e-6
RANK_SCRIPT = """\
import os, sys
from emoface.engines.neural.checkpoint import save_checkpoint
from emoface.train.loop import fit
net, _ = fit(sys.argv[1], sys.argv[2])
save_checkpoint(net, os.path.join(sys.argv[2], f"rank{os.environ['RANK']}.safetensors"))
"""


def recipe(tmp_path, corpus, name: str, accumulate: int):
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
[data]
corpus = "{corpus}"
crop_seconds = 2.0
source_weights = {{ tts = 1.0 }}
augment_prob = 0.0
[train]
steps = {STEPS}
batch_size = 2
accumulate = {accumulate}
lr = 3e-3
warmup_steps = 1
eval_every = 1
threads = 1
[model]
{chr(10).join(f"{k} = {v}" for k, v in SMALL.items())}
""")
    return path


def log(run) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_two_ranks_under_torchrun_match_one_process_on_the_same_global_batch(tmp_path):
    corpus = tmp_path / "corpus"
    build(corpus, [("tts", None)], BuildOptions(tts_hours=0.006, workers=1, progress=False))
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    ranks = tmp_path / "two_ranks"
    # torchrun is torch.distributed.run; run as a module so the ranks use this interpreter
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                             "--nproc-per-node", "2", str(script),
                             str(recipe(tmp_path, corpus, "ranks", accumulate=1)), str(ranks)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0 = load_network(ranks / "rank0.safetensors").state_dict()
    rank1 = load_network(ranks / "rank1.safetensors").state_dict()
    for name, value in rank0.items():
        assert torch.equal(value, rank1[name]), f"the ranks' {name} differ"

    one = tmp_path / "one_process"
    net, _ = fit(recipe(tmp_path, corpus, "one", accumulate=2), one)
    for name, value in net.state_dict().items():
        assert torch.allclose(value, rank0[name], rtol=0, atol=TOLERANCE), name
    assert len(log(ranks)) == len(log(one)) == STEPS
    for two_ranks, one_process in zip(log(ranks), log(one)):
        for part in ("train", "val"):
            for key, want in one_process[part].items():
                got = two_ranks[part][key]
                assert got == pytest.approx(want, rel=TOLERANCE, nan_ok=True), (part, key)
