"""The neural engine's text branch: what the transcript's words add to the upper face and
head (Fan et al. 2022's joint audio-text model; docs/text.md).

    MiniLM word + sentence vectors, timing in the word ─► 1x1 conv (no bias) ─► h
    prosody (f0, voicing, loudness) + emotion amounts ─► convs ─► a
    h ← h + GELU(dilated conv(h) · (1 + tanh(gate(a))))   for dilations 1, 2, 4, 8
    h ─► 1x1 conv (no bias) ─► 11 upper-face weights + head yaw, pitch, roll

It runs after the decoder and adds to its output, on the brow, cheek, squint and eye-wide
channels and the head only: the lips stay the audio's, whatever the words say. The text
path has no bias anywhere and GELU(0) = 0, so frames far (beyond about 1 s) from every
word, and the whole take without words, get exactly zero: the branch needs no learnt
"no text" state, and animating without words is bit for bit the audio-only network.
The voice side gates the words' effect (where the pitch accents fall, how strongly the
requested emotion leaves room for them). Trained on the text-aware teacher's word cues
(:func:`emoface.engines.rules.text_cues.delta`) by ``tools/train_text_branch.py``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...arkit import INDEX, NUM_BLENDSHAPES
from ...paths import ASSETS_DIR
from ...text.words import TimedWord
from ...threads import one_maths_thread
from ..rules.text_cues import TEXT_CHANNELS
from .config import OUTPUT_FPS
from .word_inputs import AUDIO_INPUTS, HEAD_SCALE, TEXT_INPUTS, audio_features, text_features

BUNDLED = ASSETS_DIR / "text_branch.safetensors"
_CHANNELS = np.array([INDEX[n] for n in TEXT_CHANNELS])


class TextBranch(nn.Module):
    def __init__(self, width: int = 64, dilations: tuple[int, ...] = (1, 2, 4, 8)):
        super().__init__()
        self.config = {"width": width, "dilations": list(dilations)}
        self.text_in = nn.Conv1d(TEXT_INPUTS, width, 1, bias=False)
        self.audio_in = nn.Sequential(
            nn.Conv1d(AUDIO_INPUTS, width, 5, padding=2), nn.GELU(),
            nn.Conv1d(width, width, 5, padding=4, dilation=2), nn.GELU())
        self.mix = nn.ModuleList(nn.Conv1d(width, width, 5, padding=2 * d, dilation=d, bias=False)
                                 for d in dilations)
        self.gate = nn.ModuleList(nn.Conv1d(width, width, 1) for _ in dilations)
        self.out = nn.Conv1d(width, len(TEXT_CHANNELS) + 3, 1, bias=False)

    def forward(self, text: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """text (B, T, TEXT_INPUTS), audio (B, T, AUDIO_INPUTS) -> (B, T, 11 + 3)."""
        a = self.audio_in(audio.transpose(1, 2))
        h = F.gelu(self.text_in(text.transpose(1, 2)))
        for mix, gate in zip(self.mix, self.gate):
            h = h + F.gelu(mix(h) * (1 + torch.tanh(gate(a))))
        return self.out(h).transpose(1, 2)


class WordBranch:
    """A trained :class:`TextBranch`, run on the CPU."""

    def __init__(self, path: str | Path | None = None):
        from safetensors import safe_open
        from safetensors.torch import load_file

        self.path = Path(path) if path is not None else BUNDLED
        with safe_open(str(self.path), "pt") as f:
            config = json.loads(f.metadata()["config"])
        self.net = TextBranch(config["width"], tuple(config["dilations"]))
        self.net.load_state_dict(load_file(str(self.path)))
        self.net.eval()

    def __call__(self, text: np.ndarray, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weights (n, 52) added on the text channels only, head (n, 3) radians)."""
        with torch.inference_mode(), one_maths_thread():
            y = self.net(torch.from_numpy(text)[None], torch.from_numpy(audio)[None])[0].numpy()
        weights = np.zeros((len(y), NUM_BLENDSHAPES), np.float32)
        weights[:, _CHANNELS] = y[:, :len(_CHANNELS)]
        return weights, (y[:, len(_CHANNELS):] * HEAD_SCALE).astype(np.float32)


def save_branch(net: TextBranch, path: str | Path, recipe: dict) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path),
              metadata={"config": json.dumps(net.config), "recipe": json.dumps(recipe)})


_loaded: dict[Path, WordBranch] = {}


def bundled_branch() -> WordBranch | None:
    """The bundled branch, loaded once; None when it is not installed."""
    if not BUNDLED.exists():
        return None
    if BUNDLED not in _loaded:
        _loaded[BUNDLED] = WordBranch(BUNDLED)
    return _loaded[BUNDLED]


def words_layer(branch: WordBranch, words: list[TimedWord], text: str, prosody,
                amounts: np.ndarray, fps: float = OUTPUT_FPS) -> tuple[np.ndarray, np.ndarray]:
    """What ``words`` add at ``fps`` frames (``amounts`` (n, 8) gives n): (weights, head)."""
    n = len(amounts)
    return branch(text_features(words, text, n, fps), audio_features(prosody, amounts, fps))
