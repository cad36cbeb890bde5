"""ONNX export of the network and the onnxruntime path.

Two graphs: ``emotion`` (log-mel, prosody -> logits, intensity) and ``decode`` (log-mel
with the phone scores beside it when the weights read them, per-frame amounts,
latent -> weights, head), both with dynamic length. They are
written to a cache keyed by the weights' hash (``$EMOFACE_CACHE`` or ``~/.cache/emoface``),
timed against torch once, and used automatically unless torch is clearly faster; a later
process then needs no torch at all. ``emoface export-onnx`` writes them wherever you like.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from ...errors import UserError
from ...files import atomic_path
from .checkpoint import file_sha256

OPSET = 17


def cache_dir() -> Path:
    return Path(os.environ.get("EMOFACE_CACHE", Path.home() / ".cache" / "emoface"))


def weights_key(path: str | os.PathLike) -> str:

    return file_sha256(path)[:16]


def export(net, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``emotion.onnx`` and ``decode.onnx`` for ``net`` into ``out_dir``."""
    import torch

    class Emotion(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, mel, prosody):
            _, _, logits, intensity = self.n.encode_emotion(mel, prosody)
            return logits, intensity

    class Decode(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def forward(self, mel, amounts, z):
            return self.n.decode(mel, amounts, z)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    net = net.eval()
    t, t_out = 300, 90
    mel = torch.randn(1, t, net.cfg.n_mels)
    feats = torch.randn(1, t, net.cfg.n_features)
    prosody = torch.randn(1, t, net.cfg.n_prosody)
    amounts = torch.full((1, t_out, net.cfg.n_emotions), 1.0 / net.cfg.n_emotions)
    z = torch.zeros(1, net.cfg.d_latent)
    paths = {"emotion": out_dir / "emotion.onnx", "decode": out_dir / "decode.onnx"}
    # Wrappers must be in eval mode: the exporter restores each module's mode afterwards,
    # and a fresh wrapper would put the network back into training (dropout on).
    # The TorchScript exporter is chosen on purpose (dynamo=False needs no onnxscript); its
    # deprecation notice and tracer notes (shapes that are constants here: head size,
    # block size) are not for our users.
    import warnings


    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with atomic_path(paths["emotion"]) as tmp:
            torch.onnx.export(Emotion(net).eval(), (mel, prosody), str(tmp), dynamo=False,
                              input_names=["mel", "prosody"], output_names=["logits", "intensity"],
                              dynamic_axes={"mel": {1: "frames"}, "prosody": {1: "frames"}},
                              opset_version=OPSET)
        with atomic_path(paths["decode"]) as tmp:
            torch.onnx.export(Decode(net).eval(), (feats, amounts, z), str(tmp), dynamo=False,
                              input_names=["mel", "amounts", "z"],
                              output_names=["weights", "head"],
                              dynamic_axes={"mel": {1: "frames"}, "amounts": {1: "out_frames"},
                                            "weights": {1: "out_frames"}, "head": {1: "out_frames"}},
                              opset_version=OPSET)
    net.eval()
    return paths


def _sessions(paths: dict[str, Path], one_thread: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # No memory arena: it keeps the largest buffers of every input length it has seen,
    # which on a long input animated in windows costs ~35 MB of peak memory for nothing.
    options.enable_cpu_mem_arena = False
    if one_thread:
        # For many small calls beside other work (live streams): the default pool's
        # threads spin after each call, measured at 23 ms of CPU per 1.7 ms emotion call.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return {name: ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
            for name, p in paths.items()}


def export_paths(weights_path: str | os.PathLike) -> dict[str, Path]:
    """The exported graphs of these weights (present once :func:`onnx_sessions` made them)."""
    folder = cache_dir() / "onnx" / f"{weights_key(weights_path)}-{GRAPH_VERSION}"
    return {"emotion": folder / "emotion.onnx", "decode": folder / "decode.onnx"}


def one_thread_session(path: Path):
    """One graph's session on the calling thread, without spinning worker threads."""
    return _sessions({"graph": path}, one_thread=True)["graph"]


def _time_each(fns, repeats: int = 5, pause_s: float = 0.1) -> list[float]:
    """The fastest of ``repeats`` timed calls of each function after a warm-up, taken in
    turns: a burst of other work on a shared machine then slows both, not only the one
    being timed, and the minimum is the steadiest estimate of the cost. The pause lets the
    previous runtime's worker threads stop spinning on the two cores."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            time.sleep(pause_s)
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def onnx_sessions(weights_path: str | os.PathLike, get_net=None, required: bool = False):
    """onnxruntime sessions for these weights unless torch is clearly faster here (or when
    ``required``); None to stay with torch. Exports and times once per weights file;
    ``get_net()`` supplies the torch network only when that has to happen."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        if required:
            raise UserError("onnxruntime is not installed; pip install 'emoface[model]'") from None
        return None
    paths = export_paths(weights_path)
    folder = paths["emotion"].parent
    verdict = folder / "verdict.json"
    if not all(p.exists() for p in paths.values()) or not _has_decision(verdict):
        if get_net is None:
            return None
        try:
            net = get_net()
            export(net, folder)
            decision = _benchmark(net, _sessions(paths))
        except Exception as exc:  # noqa: BLE001 - ONNX is an optimisation, not a must
            if required:
                raise UserError(f"ONNX export failed ({exc.__class__.__name__}: {exc})") from None
            return None
        verdict.write_text(json.dumps(decision))
    choice = json.loads(verdict.read_text())
    if required or choice.get("use_onnx"):
        return _sessions(paths)
    return None


def _has_decision(verdict: Path) -> bool:
    """A verdict made by the current rule (older ones are decided again)."""
    try:
        return json.loads(verdict.read_text()).get("rule") == DECISION_RULE
    except (OSError, ValueError, AttributeError):
        return False


# onnxruntime is chosen unless torch is clearly faster at the network itself: the ONNX
# path never imports torch, which saves about 1.5 s of start-up and 200 MB per process,
# far more than a tie in network time either way (one timing here is noisy by ~5%).
TORCH_MUST_WIN_BY = 0.15
# Version of the way the choice is made; verdict files of an older rule are redone. Rule 3:
# fastest of five calls each, taken in turns (rule 2 timed torch's five calls, then
# onnxruntime's, and once picked torch at 33 vs 48 ms where the two tie at about 43 ms;
# rule 1, the mean of three, did the same on a loaded machine).
DECISION_RULE = 3
# Version of the exported graphs' inputs, part of the cache folder's name so that exports
# of an older version are never fed the current inputs. 2: the style input is gone.
GRAPH_VERSION = 2


def _benchmark(net, sessions) -> dict:
    """Time torch and onnxruntime on 20 s of input; the decision is saved with the export."""
    import torch

    rng = np.random.default_rng(0)
    mel = rng.normal(size=(1, 2000, net.cfg.n_features)).astype(np.float32)
    amounts = np.full((1, 600, net.cfg.n_emotions), 1 / net.cfg.n_emotions, np.float32)
    z = np.zeros((1, net.cfg.d_latent), np.float32)

    def with_torch():
        with torch.inference_mode():
            net.decode(torch.from_numpy(mel), torch.from_numpy(amounts), torch.from_numpy(z))

    def with_onnx():
        sessions["decode"].run(None, {"mel": mel, "amounts": amounts, "z": z})

    t_torch, t_onnx = _time_each([with_torch, with_onnx])
    return {"torch_s": round(t_torch, 4), "onnx_s": round(t_onnx, 4),
            "use_onnx": t_onnx < t_torch * (1.0 + TORCH_MUST_WIN_BY), "rule": DECISION_RULE}
