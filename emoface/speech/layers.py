"""Whisper's encoder layer by layer, in torch, from the weights CTranslate2 runs.

``ctranslate2.models.Whisper.encode`` returns the last layer only. The same weights
(:mod:`.model_bin`) run through this small re-implementation give every layer's output;
its last layer matches CTranslate2's (the tests check it), which is what makes the
intermediate layers trustworthy. torch is imported lazily, here only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .model_bin import read_variables


class LayerEncoder:
    """Whisper's encoder (conv stem, sinusoidal positions, pre-norm transformer blocks,
    final layer norm) over float32 weights read from ``model.bin``."""

    def __init__(self, model_bin: str | Path, threads: int | None = None):
        import torch

        self._torch = torch
        if threads:
            torch.set_num_threads(threads)
        raw = read_variables(model_bin, prefix="encoder/")
        self.heads = int(raw.pop("encoder/num_heads"))
        self.w = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in raw.items()}
        self.num_layers = 1 + max(int(k.split("/")[1][len("layer_"):]) for k in self.w
                                  if k.split("/")[1][len("layer_"):].isdigit())
        self.dim = self.w["encoder/conv1/bias"].shape[0]
        self.max_frames = self.w["encoder/position_encodings/encodings"].shape[0]

    def _norm(self, x, name: str):
        f = self._torch.nn.functional
        return f.layer_norm(x, (self.dim,), self.w[f"{name}/gamma"], self.w[f"{name}/beta"],
                            eps=1e-5)

    def _linear(self, x, name: str):
        return self._torch.nn.functional.linear(x, self.w[f"{name}/weight"], self.w[f"{name}/bias"])

    def forward(self, mel: np.ndarray, upto: int) -> np.ndarray:
        """Hidden states after block ``upto`` (1..num_layers; num_layers also takes the
        final layer norm, as CTranslate2's output does), shape (frames, dim), for a log-mel
        ``mel`` of shape (n_mels, mel_frames)."""
        torch, f = self._torch, self._torch.nn.functional
        w = self.w
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(mel, dtype=np.float32))[None]
            x = f.gelu(f.conv1d(x, w["encoder/conv1/weight"], w["encoder/conv1/bias"], padding=1))
            x = f.gelu(f.conv1d(x, w["encoder/conv2/weight"], w["encoder/conv2/bias"],
                                stride=2, padding=1))
            x = x.transpose(1, 2)
            x = x + w["encoder/position_encodings/encodings"][:x.shape[1]]
            heads, head_dim = self.heads, self.dim // self.heads
            for i in range(upto):
                name = f"encoder/layer_{i}"
                h = self._norm(x, f"{name}/self_attention/layer_norm")
                qkv = self._linear(h, f"{name}/self_attention/linear_0")
                q, k, v = (t.unflatten(-1, (heads, head_dim)).transpose(1, 2)
                           for t in qkv.chunk(3, dim=-1))
                a = f.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
                x = x + self._linear(a, f"{name}/self_attention/linear_1")
                h = self._norm(x, f"{name}/ffn/layer_norm")
                h = self._linear(f.gelu(self._linear(h, f"{name}/ffn/linear_0")),
                                 f"{name}/ffn/linear_1")
                x = x + h
            if upto == self.num_layers:
                x = self._norm(x, "encoder/layer_norm")
            return x[0].numpy()
