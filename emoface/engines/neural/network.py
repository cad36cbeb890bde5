"""The emotion-disentangled speech-to-animation network (EmoTalk/EMOTE style).

    log-mel [+ phone scores] ─► content encoder (conv ×2, local attention ×N) ───┐
                                                                               ├► decoder ─► 42 weights
    log-mel + prosody ─► emotion encoder ─► logits (8), intensity                 │   + head (3)
                  amounts per frame (explicit/keyframed, or auto = p × intensity) ┤
                                     latent z (posterior in training, seed at run) ┘

The decoder never sees the voice's emotion except through the 8-value *amounts* vector,
so an explicit emotion controls the face regardless of the voice, and ``auto`` is the same
path fed with the emotion branch's own estimate. Content features are pushed to carry no
emotion by cross-reconstruction in training (the same content under every emotion must
give the teacher's target for that emotion).
"""
from __future__ import annotations

import math
import sys

import torch
import torch.nn.functional as F
from torch import nn

from .config import ENCODER_RATE, FEATURE_RATE, OUTPUT_FPS, ModelConfig

LEGACY_STYLE_ROWS = 16   # rows of the style table earlier versions had (ModelConfig.n_styles)


def alibi_slopes(heads: int) -> torch.Tensor:
    """Per-head distance penalties (geometric, as in ALiBi): relative positions without
    learned tables, so any length works."""
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / heads) for h in range(heads)])


ATTENTION_BLOCK = 32   # queries per block of banded attention
_MASKED = -1e9         # not -inf: a padded query with no visible key must not become NaN


def local_bias(length: int, window: int, lookahead: int, slopes: torch.Tensor,
               device=None) -> torch.Tensor:
    """(heads, T, T) additive bias of the dense formulation (a reference for tests):
    query i sees keys i - window .. i + lookahead, farther keys weighted down linearly."""
    pos = torch.arange(length, device=device)
    rel = pos[None, :] - pos[:, None]                      # key - query
    visible = (rel >= -window) & (rel <= lookahead)
    bias = -slopes.to(device)[:, None, None] * rel.abs()[None].float()
    return bias.masked_fill(~visible[None], float("-inf"))


def banded_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int,
                     lookahead: int, slopes: torch.Tensor, block: int = ATTENTION_BLOCK
                     ) -> torch.Tensor:
    """Attention where query i sees only keys i - window .. i + lookahead (ALiBi-biased),
    computed block by block: cost grows linearly with length, not quadratically.

    q, k, v: (B, H, T, D). Equal to dense attention with :func:`local_bias`."""
    b, h, t, d = q.shape
    n_blocks = (t + block - 1) // block
    pad = n_blocks * block - t
    span = block + window + lookahead
    q = F.pad(q, (0, 0, 0, pad)).view(b, h, n_blocks, block, d)
    # Keys of block n: padded positions n*block .. n*block + span.
    index = (torch.arange(n_blocks, device=q.device)[:, None] * block
             + torch.arange(span, device=q.device)[None, :])              # (nb, span)
    k = F.pad(k, (0, 0, window, lookahead + pad))
    v = F.pad(v, (0, 0, window, lookahead + pad))
    if torch.onnx.is_in_onnx_export():
        # A gather: ONNX exports it with a dynamic length, where unfold it does not.
        k, v = k[:, :, index], v[:, :, index]                              # (B,H,nb,span,D)
    else:
        # The same values as strided windows: the gather's backward (an accumulating
        # scatter) cost a tenth of a CPU training step.
        k = k.unfold(2, span, block).transpose(-1, -2)
        v = v.unfold(2, span, block).transpose(-1, -2)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)          # (B,H,nb,blk,span)
    i = torch.arange(block, device=q.device)[:, None]
    j = torch.arange(span, device=q.device)[None, :]
    rel = j - window - i                                                   # key - query
    bias = -slopes.to(q.device)[:, None, None] * rel.abs().float()[None]
    bias = bias.masked_fill(((rel < -window) | (rel > lookahead))[None], _MASKED)
    key_pos = index - window                                               # unpadded position
    outside = (key_pos < 0) | (key_pos >= t)
    scores = scores + bias[None, :, None]
    scores = scores.masked_fill(outside[None, None, :, None, :], _MASKED)
    out = torch.matmul(torch.softmax(scores, -1), v)                       # (B,H,nb,blk,D)
    return out.reshape(b, h, n_blocks * block, d)[:, :, :t]


class Dropout(nn.Module):
    """nn.Dropout with a cheaper mask on the CPU, where torch's Bernoulli sampling draws
    (slowly) once per element: together the 24 dropouts of a training step took a quarter
    of it. Here each 31-bit draw of the generator serves two elements, read as two 16-bit
    halves: the low half is uniform over all int16 values, the high one over 0..32767
    (the draw's top bit is always 0), so each half has its own threshold. The drop
    probability is rounded to 1/32768. Elsewhere (a GPU) torch's own dropout."""

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {p}")
        self.p = p
        drop = round(p * 32768)
        self.scale = 32768 / (32768 - drop)
        low, high = -32768 + 2 * drop, drop
        self.register_buffer("thresholds", torch.tensor(
            [low, high] if sys.byteorder == "little" else [high, low], dtype=torch.int16),
            persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, True)
        n = x.numel()
        draws = torch.empty((n + 1) // 2, dtype=torch.int32).random_()
        keep = (draws.view(torch.int16).view(-1, 2) >= self.thresholds).view(-1)[:n]
        return x * (keep.view(x.shape).to(x.dtype) * self.scale)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class FeedForward(nn.Sequential):
    def __init__(self, d: int, mult: int, dropout: float):
        super().__init__(nn.Linear(d, d * mult), nn.GELU(), Dropout(dropout),
                         nn.Linear(d * mult, d))


class LocalBlock(nn.Module):
    """Pre-norm transformer block with banded self-attention and an optional
    cross-attention to a few conditioning tokens."""

    def __init__(self, d: int, heads: int, ff_mult: int, dropout: float, cross: bool = False):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.cross = cross
        if cross:
            self.norm_c = nn.LayerNorm(d)
            self.q_c = nn.Linear(d, d)
            self.kv_c = nn.Linear(d, 2 * d)
            self.proj_c = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.ff = FeedForward(d, ff_mult, dropout)
        self.drop = Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, window: int, lookahead: int, slopes: torch.Tensor,
                tokens: torch.Tensor | None = None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        att = banded_attention(self._split(q), self._split(k), self._split(v), window,
                               lookahead, slopes)
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(b, t, d)))
        if self.cross and tokens is not None:
            q = self._split(self.q_c(self.norm_c(x)))
            k, v = self.kv_c(tokens).chunk(2, dim=-1)
            att = F.scaled_dot_product_attention(q, self._split(k), self._split(v))
            x = x + self.drop(self.proj_c(att.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.ff(self.norm2(x)))


class ContentEncoder(nn.Module):
    """What is being said: log-mel -> 50 fps features, each frame seeing a bounded future."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.front = nn.Sequential(
            nn.Conv1d(cfg.n_mels, d, 5, padding=2), nn.GELU(),
            nn.Conv1d(d, d, 5, stride=2, padding=2), nn.GELU())
        self.n_mels = cfg.n_mels
        # Phone scores enter beside the first convolution. Zero at the start, so a network
        # given them later begins exactly where it was and learns how much to trust them.
        self.phonetic_in = None
        if cfg.n_phonetic:
            self.phonetic_in = nn.Conv1d(cfg.n_phonetic, d, 5, padding=2)
            nn.init.zeros_(self.phonetic_in.weight)
            nn.init.zeros_(self.phonetic_in.bias)
        self.norm_in = nn.LayerNorm(d)
        self.blocks = nn.ModuleList(LocalBlock(d, cfg.n_heads, cfg.ff_mult, cfg.dropout)
                                    for _ in range(cfg.content_layers))
        self.norm_out = nn.LayerNorm(d)
        # Auxiliary phone classifier (training only): per-frame phone identity is a denser,
        # speaker-independent signal than the blendshape targets alone.
        self.phone_head = nn.Linear(d, cfg.n_phones) if cfg.n_phones else None
        self.register_buffer("slopes", alibi_slopes(cfg.n_heads), persistent=False)
        self.window, self.lookahead = cfg.content_window, cfg.content_lookahead

    def forward(self, feats: torch.Tensor) -> torch.Tensor:   # (B, T100, 80 [+ phone scores])
        x = self.front[0](feats[..., :self.n_mels].transpose(1, 2))
        if self.phonetic_in is not None:
            x = x + self.phonetic_in(feats[..., self.n_mels:].transpose(1, 2))
        x = self.norm_in(self.front[1:](x).transpose(1, 2))
        for block in self.blocks:
            x = block(x, self.window, self.lookahead, self.slopes)
        return self.norm_out(x)                                        # (B, T50, d)


class EmotionEncoder(nn.Module):
    """How it is said: log-mel + prosody -> per-frame emotion features, an utterance
    embedding (attentive mean and spread), emotion logits and an intensity."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_emotion
        layers, c_in = [], cfg.n_mels + cfg.n_prosody
        for i in range(cfg.emotion_layers):
            layers += [nn.Conv1d(c_in, d, 5, padding=2 * 2 ** i, dilation=2 ** i),
                       nn.GELU(), Dropout(cfg.dropout)]
            c_in = d
        self.convs = nn.Sequential(*layers)
        self.attend = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, 1))
        self.embed = nn.Sequential(nn.Linear(2 * d, d), nn.GELU(), Dropout(cfg.dropout))
        self.classify = nn.Linear(d, cfg.n_emotions)
        self.intensity = nn.Linear(d, 1)

    def forward(self, mel: torch.Tensor, prosody: torch.Tensor,
                mask: torch.Tensor | None = None):
        h = self.convs(torch.cat([mel, prosody], -1).transpose(1, 2)).transpose(1, 2)
        score = self.attend(h).squeeze(-1)
        if mask is not None:
            score = score.masked_fill(~mask, float("-inf"))
        a = torch.softmax(score, dim=1).unsqueeze(-1)
        mean = (a * h).sum(1)
        spread = ((a * h * h).sum(1) - mean * mean).clamp_min(1e-6).sqrt()
        u = self.embed(torch.cat([mean, spread], -1))
        return h, u, self.classify(u), torch.sigmoid(self.intensity(u)).squeeze(-1)


class Posterior(nn.Module):
    """q(z | target curves): what the teacher did beyond what the inputs determine."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_emotion
        self.net = nn.Sequential(nn.Conv1d(cfg.n_outputs, d, 5, padding=2), nn.GELU(),
                                 nn.Conv1d(d, d, 5, padding=2, stride=2), nn.GELU())
        self.out = nn.Linear(d, 2 * cfg.d_latent)

    def forward(self, target: torch.Tensor):
        h = self.net(target.transpose(1, 2)).mean(-1)
        mu, logvar = self.out(h).chunk(2, -1)
        return mu, logvar.clamp(-8, 4)


def resample_frames(x: torch.Tensor, n_out: int, rate_in: float, rate_out: float) -> torch.Tensor:
    """Linear interpolation of (B, T, d) features from ``rate_in`` to ``rate_out`` frames/s
    (frame k at k / rate); differentiable and ONNX-exportable."""
    pos = torch.arange(n_out, device=x.device, dtype=x.dtype) * (rate_in / rate_out)
    pos = pos.clamp(max=x.shape[1] - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=x.shape[1] - 1)
    w = (pos - lo.to(x.dtype))[None, :, None]
    return x[:, lo] * (1 - w) + x[:, hi] * w


class Decoder(nn.Module):
    """Emotion-guided fusion at 30 fps. The emotion arrives per frame (so keyframed
    emotions change the face over time) as FiLM and an added embedding; a learnt neutral
    token and the latent are utterance tokens that every frame attends to."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.emotion_embed = nn.Sequential(nn.Linear(cfg.n_emotions, d), nn.GELU(), nn.Linear(d, d))
        # One learnt utterance token (row 0 of the style table of earlier versions, the only
        # row ever used; load_network maps old files onto it). Drawn as that 16-row table
        # was, so a fresh network initialises exactly as before.
        self.neutral_token = nn.Parameter(nn.init.normal_(torch.empty(LEGACY_STYLE_ROWS, d))[0].clone())
        self.latent_token = nn.Linear(cfg.d_latent, d)
        self.film = nn.Linear(d, 2 * d)
        self.smooth = nn.Conv1d(d, d, 3, padding=2)  # causal (look-back) smoothing
        self.blocks = nn.ModuleList(LocalBlock(d, cfg.n_heads, cfg.ff_mult, cfg.dropout, True)
                                    for _ in range(cfg.decoder_layers))
        self.norm = nn.LayerNorm(d)
        self.weights = nn.Linear(d, cfg.n_outputs)
        self.head = nn.Linear(d, 3)
        self.register_buffer("slopes", alibi_slopes(cfg.n_heads), persistent=False)
        self.window, self.lookahead = cfg.decoder_window, cfg.decoder_lookahead

    def forward(self, content: torch.Tensor, amounts: torch.Tensor, z: torch.Tensor):
        """content (B, T, d), amounts (B, T, 8), z (B, d_latent)."""
        e = self.emotion_embed(amounts)                                   # (B, T, d)
        neutral = self.neutral_token.expand(len(z), -1)
        tokens = torch.stack([neutral, self.latent_token(z)], 1)
        gamma, beta = self.film(e + tokens.sum(1, keepdim=True)).chunk(2, -1)
        x = content * (1 + gamma) + beta + e
        t = x.shape[1]
        x = x + self.smooth(x.transpose(1, 2))[..., :t].transpose(1, 2)
        for block in self.blocks:
            x = block(x, self.window, self.lookahead, self.slopes, tokens)
        x = self.norm(x)
        return torch.sigmoid(self.weights(x)), 0.3 * torch.tanh(self.head(x))


class EmoFaceNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.content = ContentEncoder(cfg)
        self.emotion = EmotionEncoder(cfg)
        self.decoder = Decoder(cfg)
        self.posterior = Posterior(cfg)
        # Input normalisation, measured on the training corpus and saved with the weights.
        self.register_buffer("mel_mean", torch.zeros(cfg.n_mels))
        self.register_buffer("mel_std", torch.ones(cfg.n_mels))

    @staticmethod
    def output_frames(n_feature_frames: int) -> int:
        return math.ceil(n_feature_frames * OUTPUT_FPS / FEATURE_RATE)

    def normalise(self, feats: torch.Tensor) -> torch.Tensor:
        """Log-mel columns standardised; phone scores (already in [-1, 1]) kept as they are."""
        n = self.cfg.n_mels
        mel = (feats[..., :n] - self.mel_mean) / self.mel_std
        return torch.cat([mel, feats[..., n:]], -1) if feats.shape[-1] > n else mel

    @staticmethod
    def amounts_from(logits: torch.Tensor, intensity: torch.Tensor) -> torch.Tensor:
        """``auto``: the heard emotion as amounts (non-neutral share scaled by intensity)."""
        p = torch.softmax(logits, -1)
        others = p[:, 1:] * intensity[:, None]
        return torch.cat([1 - others.sum(-1, keepdim=True), others], -1)

    def encode_emotion(self, mel: torch.Tensor, prosody: torch.Tensor, mask=None):
        """The emotion branch reads the log-mel columns only."""
        return self.emotion(self.normalise(mel[..., :self.cfg.n_mels]), prosody, mask)

    def decode(self, mel: torch.Tensor, amounts: torch.Tensor, z: torch.Tensor,
               n_out: int | None = None):
        """``mel``: (B, T, cfg.n_features) log-mel and phone scores; ``amounts`` per output
        frame (B, T_out, 8), or one vector per clip (B, 8)."""
        n_out = amounts.shape[1] if amounts.dim() == 3 else (n_out or self.output_frames(mel.shape[1]))
        return self.decode_content(self.content(self.normalise(mel)), amounts, z, n_out)

    def decode_content(self, content: torch.Tensor, amounts: torch.Tensor, z: torch.Tensor,
                       n_out: int):
        """The decoder on content features already computed (B, T50, d)."""
        content = resample_frames(content, n_out, ENCODER_RATE, OUTPUT_FPS)
        if amounts.dim() == 2:
            amounts = amounts[:, None].expand(-1, n_out, -1)
        return self.decoder(content, amounts, z)

    def forward(self, mel, prosody, amounts=None, z=None):
        """Inference in one call: explicit ``amounts`` (B, 8) or None for ``auto``."""
        _, _, logits, intensity = self.encode_emotion(mel, prosody)
        if amounts is None:
            amounts = self.amounts_from(logits, intensity)
        if z is None:
            z = torch.zeros(mel.shape[0], self.cfg.d_latent, device=mel.device)
        weights, head = self.decode(mel, amounts, z)
        return weights, head, logits, intensity
