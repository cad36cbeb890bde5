"""How much each English phone sounds like what is heard, every 10 ms, from pocketsphinx's
US English acoustic model (trained on many hours of many real speakers).

Our own corpus has one real English speaker; this model has heard many. Its phone
likelihoods describe *what* is said in a way that depends less on the speaker and the room
than our log-mel does; the neural model's content encoder reads them beside the log-mel
(``ModelConfig.n_phonetic``).

What is computed, from facts about the model (its ``feat.params`` and file headers):

- the model's front-end: pre-emphasis 0.97, 410-sample Hamming window every 160 samples,
  512-point power spectrum, 25 triangular mel bands (130-6800 Hz, unit area), natural log,
  orthonormal DCT-II to 13 cepstra, sine lifter 22, the utterance's mean removed (the
  model's batch CMN), then deltas ``c[t+2] - c[t-2]`` and their deltas, in three streams of
  13 (``1s_c_d_dd``);
- the scores of the 126 context-independent senones (3 states of 42 phones): the model is
  phonetically tied, so each phone has a codebook of 128 diagonal Gaussians per stream and
  each senone its own mixture weights over them (``sendump`` stores them as 8-bit
  negative logs in units of 1024 x ln 1.0001);
- per frame, the log-posterior of each phone (its states summed, likelihoods scaled by
  :data:`ACOUSTIC_SCALE`), floored at :data:`FLOOR` and mapped to [-1, 1].

Frame ``k`` is centred at ``k * 10 ms`` like :func:`emoface.audio.features.log_mel` and
there are as many frames. Look-ahead: 43 ms (half a window and three frames of deltas);
the mean removal sees the whole input, so long files are scored once, before windowing.
"""
from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import (
    SAMPLE_RATE,
    _hz_to_mel,
    _mel_to_hz,
    centred_frames,
    num_frames,
    triangular_filterbank,
    warp_band_axis,
)

WIN = 410                    # 25.625 ms, the model's window
N_FFT = 512
N_BANDS = 25
LOWER_HZ, UPPER_HZ = 130.0, 6800.0
N_CEPS = 13
_BLOCK = 4096               # frames per FFT block in band_energies
LIFTER = 22
ACOUSTIC_SCALE = 0.1         # Gaussian log-likelihoods are far too sharp to read as posteriors
FILTER_SCALE = 0.3           # likelihood exponent of the phone loop's forward pass
FLOOR = -10.0                # log-posteriors below this all mean "not this phone"
_LOG_W = 1024 * np.log(1.0001)   # one sendump unit in natural log


def model_dir() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us" / "en-us"


def _sphinx3_body(path: Path) -> tuple[bytes, int]:
    """A sphinx-3 parameter file's bytes and the offset of its byte-order mark, checked."""
    data = path.read_bytes()
    i = data.index(b"endhdr\n") + 7
    if struct.unpack_from("<I", data, i)[0] != 0x11223344:
        raise ValueError(f"{path}: not a little-endian sphinx-3 parameter file")
    return data, i


def _read_gaussians(path: Path) -> np.ndarray:
    """A sphinx-3 means/variances file as (codebooks, streams, densities, dims)."""
    data, i = _sphinx3_body(path)
    n_cb, n_streams, n_dens = struct.unpack_from("<3i", data, i + 4)
    dims = struct.unpack_from(f"<{n_streams}i", data, i + 16)
    i += 16 + 4 * n_streams
    (count,) = struct.unpack_from("<i", data, i)
    values = np.frombuffer(data, "<f4", count, i + 4)
    return values.reshape(n_cb, n_streams, n_dens, dims[0]).astype(np.float64)


def _read_mixture_weights(path: Path) -> np.ndarray:
    """``sendump`` as (streams, densities, senones) natural-log mixture weights."""
    data = path.read_bytes()
    i = 0
    while True:                                   # header: length-prefixed strings, 0 ends
        (n,) = struct.unpack_from("<i", data, i)
        i += 4 + n
        if n == 0:
            break
    n_dens, n_sen = struct.unpack_from("<2i", data, i)
    n_streams = (len(data) - i - 8) // (n_dens * n_sen)
    q = np.frombuffer(data, np.uint8, n_streams * n_dens * n_sen, i + 8)
    return -q.reshape(n_streams, n_dens, n_sen).astype(np.float64) * _LOG_W


def _read_transitions(path: Path) -> np.ndarray:
    """``transition_matrices`` as (phones, states, states + 1) probabilities: from each
    emitting state to itself, to the next, and (last column) out of the phone."""
    data, i = _sphinx3_body(path)
    n_tmat, n_src, n_dst, count = struct.unpack_from("<4i", data, i + 4)
    counts = np.frombuffer(data, "<f4", count, i + 20).reshape(n_tmat, n_src, n_dst)
    counts = counts.astype(np.float64)
    return counts / counts.sum(2, keepdims=True)


def _read_phone_names(path: Path) -> tuple[list[str], int]:
    """The context-independent phone names of a binary ``mdef`` and the count of CI senones."""
    data = path.read_bytes()
    marker = b"END FILE FORMAT DESCRIPTION\n"
    i = data.index(marker) + len(marker)
    i += -i % 4
    n_ci, _, n_states, n_ci_sen = struct.unpack_from("<4i", data, i)
    if n_ci_sen != n_ci * n_states:
        raise ValueError(f"{path}: expected {n_ci} phones x {n_states} states")
    i += 40
    names = []
    for _ in range(n_ci):
        j = data.index(b"\0", i)
        names.append(data[i:j].decode("ascii"))
        i = j + 1
    return names, n_ci_sen


class AcousticModel:
    """The context-independent part of the model, ready to score feature frames."""

    def __init__(self, directory: Path | None = None):
        d = Path(directory) if directory else model_dir()
        self.phones, n_ci_sen = _read_phone_names(d / "mdef")
        means, variances = _read_gaussians(d / "means"), _read_gaussians(d / "variances")
        log_w = _read_mixture_weights(d / "sendump")[:, :, :n_ci_sen]
        n_cb, self.n_streams, self.n_dens, dim = means.shape
        # A few Gaussians were never trained (zero variance): they must never win.
        dead = (variances <= 1e-3).any(-1)
        variances = np.where(variances <= 1e-3, 1.0, variances)
        inv = 1.0 / variances
        const = -0.5 * (np.log(2 * np.pi * variances).sum(-1) + (means ** 2 * inv).sum(-1))
        const[dead] = -1e30
        # log N(x) = const + x.(mu/var) - 0.5 x^2.(1/var): one matrix product per stream,
        # (codebooks * densities, 2 * dim + 1) @ [x^2, x, 1]^T, in float32 (exp is 8x
        # faster). Frames last: the max over a codebook's densities and the mixture sums
        # then run over whole rows of frames (a quarter faster than frames first).
        self.project = [np.concatenate([-0.5 * inv[:, s].reshape(-1, dim),
                                        (means[:, s] * inv[:, s]).reshape(-1, dim),
                                        const[:, s].reshape(-1, 1)], 1).astype(np.float32)
                        for s in range(self.n_streams)]
        # Mixture weights of senone 3p + j over phone p's codebook: (streams, phones, 3, dens)
        states = n_ci_sen // n_cb
        w = np.exp(log_w).reshape(self.n_streams, self.n_dens, n_cb, states)
        self.weights = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).astype(np.float32)
        self.states = states
        # The phone loop over (phone, state) pairs, built once for every forward pass.
        self.loop = _loop_transitions(_read_transitions(d / "transition_matrices"))

    def phone_loglik(self, feats: np.ndarray) -> np.ndarray:
        """(T, streams, 13) features -> (T, phones) log-likelihood, each phone's states summed."""
        return _sum_states(self.state_loglik(feats))

    def state_loglik(self, feats: np.ndarray) -> np.ndarray:
        """(T, streams, 13) features -> (T, phones, states) log-likelihood of each senone."""
        out = np.empty((len(feats), len(self.phones), self.states))
        for a in range(0, len(feats), _CHUNK):
            out[a:a + _CHUNK] = self._loglik(feats[a:a + _CHUNK])
        return out

    def _loglik(self, feats: np.ndarray) -> np.ndarray:
        t, n_cb = len(feats), len(self.phones)
        total = np.zeros((n_cb, self.states, t), np.float32)
        for s in range(self.n_streams):
            x = feats[:, s].astype(np.float32)
            g = self.project[s] @ np.concatenate([x * x, x, np.ones((t, 1), np.float32)], 1).T
            g = g.reshape(n_cb, self.n_dens, t)
            top = g.max(1, keepdims=True)
            np.subtract(g, top, out=g)
            # Below exp(-80) a density adds nothing to a sum whose largest term is 1, and
            # float32 exp(-88 and less) is subnormal: the product after it then runs on
            # the slow subnormal path (3x slower on real speech measured here).
            np.maximum(g, _EXP_FLOOR, out=g)
            np.exp(g, out=g)
            mix = np.matmul(self.weights[s], g)                     # (phones, states, t)
            total += np.log(np.maximum(mix, 1e-30)) + top
        return total.transpose(2, 0, 1)


def _sum_states(state_ll: np.ndarray) -> np.ndarray:
    """(T, phones, states) -> (T, phones): log of the sum over each phone's states."""
    m = state_ll.max(2, keepdims=True)
    return np.log(np.exp(state_ll - m).sum(2)) + m[..., 0]


_EXP_FLOOR = np.float32(-80.0)
_CHUNK = 256   # frames scored at once (5376 Gaussians each): faster than 128 or 64 here


@lru_cache(maxsize=1)
def acoustic_model() -> AcousticModel:
    return AcousticModel()


@lru_cache(maxsize=1)
def _band_edges_hz() -> np.ndarray:
    return _mel_to_hz(np.linspace(_hz_to_mel(LOWER_HZ), _hz_to_mel(UPPER_HZ), N_BANDS + 2))


def band_centres_hz() -> np.ndarray:
    return _band_edges_hz()[1:-1]


@lru_cache(maxsize=1)
def _filterbank() -> np.ndarray:
    return triangular_filterbank(_band_edges_hz(), N_FFT, SAMPLE_RATE)   # (bins, bands)


@lru_cache(maxsize=1)
def _dct() -> np.ndarray:
    """Orthonormal DCT-II to N_CEPS cepstra with the sine lifter folded in: (bands, ceps)."""
    k, n = np.arange(N_CEPS)[None], np.arange(N_BANDS)[:, None]
    basis = np.cos(np.pi * k * (n + 0.5) / N_BANDS) * np.sqrt(2.0 / N_BANDS)
    basis[:, 0] = np.sqrt(1.0 / N_BANDS)
    return basis * (1 + LIFTER / 2 * np.sin(np.pi * np.arange(N_CEPS) / LIFTER))


def band_energies(samples16k: np.ndarray) -> np.ndarray:
    """(frames, 25) natural-log mel band energies of the model's front-end, frame k centred
    at k * 10 ms. Separate from :func:`scores_from_bands` so augmentation can bend the
    spectrum."""
    x = np.asarray(samples16k, np.float64).ravel() * 32768.0    # the model heard 16-bit PCM
    if num_frames(len(x)) == 0:
        return np.zeros((0, N_BANDS))
    x = np.concatenate([x[:1], x[1:] - 0.97 * x[:-1]])
    frames, window, fb = centred_frames(x, WIN), np.hamming(WIN), _filterbank()
    out = np.empty((len(frames), fb.shape[1]))
    for a in range(0, len(frames), _BLOCK):   # spectra a block at a time: bounded memory
        spec = np.fft.rfft(frames[a:a + _BLOCK] * window, N_FFT, axis=1)
        power = spec.real ** 2 + spec.imag ** 2
        out[a:a + len(spec)] = np.log(np.maximum(power @ fb, 1e-5))
    return out


def warp_bands(log_bands: np.ndarray, factor: float) -> np.ndarray:
    """The band energies of the same sound with every frequency multiplied by ``factor``
    (augmentation: another vocal tract)."""
    return warp_band_axis(log_bands, band_centres_hz(), factor)


def equalise_bands(log_bands: np.ndarray, curve_hz: np.ndarray, gains_db: np.ndarray
                   ) -> np.ndarray:
    """The band energies after an equaliser given as dB gains at frequencies ``curve_hz``
    (interpolated over log frequency)."""
    gains = np.interp(np.log(band_centres_hz()), np.log(np.maximum(curve_hz, 1.0)), gains_db)
    return log_bands + gains * (np.log(10.0) / 10.0)


# Cepstral mean removal. "utterance": the whole input's mean (the model's batch CMN, what
# training computes). "running": frame t removes the mean of frames 0..t, started from a
# prior worth RUNNING_PRIOR_FRAMES frames; it needs no future audio, so a live stream can
# compute it exactly (emoface.audio.live_features), and the neural engine uses it offline
# too (held out it scores as the whole-input mean does: docs/live.md).
CEPSTRAL_MEANS = ("utterance", "running")
# The mean cepstrum over 60 LibriSpeech clips (every 4th file of shared/data, measured
# once with band_energies @ _dct): where the running mean starts.
RUNNING_PRIOR = np.array([51.067, -0.888, -1.144, 7.992, -0.687, -0.066, -6.176, -3.608,
                          -2.176, 0.254, -0.949, -0.16, 0.607])
RUNNING_PRIOR_FRAMES = 100


def running_means(cepstra: np.ndarray, start: int = 0, total: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Running means for frames ``start ..`` of ``cepstra`` (T, 13), given the sum of the
    frames before ``start`` (``total``); returns (means, the new sum)."""
    before = np.zeros(N_CEPS) if total is None else total
    sums = before + np.cumsum(cepstra, 0)
    count = RUNNING_PRIOR_FRAMES + start + 1 + np.arange(len(cepstra))
    means = (RUNNING_PRIOR_FRAMES * RUNNING_PRIOR + sums) / count[:, None]
    return means, (sums[-1] if len(sums) else before)


def deltas(c: np.ndarray) -> np.ndarray:
    """(T, 13) mean-removed cepstra -> (T, 3, 13) with deltas ``c[t+2] - c[t-2]`` and their
    deltas, indices held at the edges."""
    # The same differences as padding the edges and differencing the padded rows, without
    # np.pad and np.stack (a live stream takes deltas of a few frames per tick).
    t = len(c)
    out = np.empty((t, 3, c.shape[1]), c.dtype)
    if t == 0:
        return out
    pad = np.concatenate([np.repeat(c[:1], 3, 0), c, np.repeat(c[-1:], 3, 0)])
    d = pad[4:] - pad[:-4]                       # rows 2 .. t + 3 of the padded deltas
    out[:, 0] = c
    out[:, 1] = d[1:-1]
    out[:, 2] = d[2:] - d[:-2]
    return out


def features(log_bands: np.ndarray, cepstral_mean: str = "utterance") -> np.ndarray:
    """(T, 25) log band energies -> (T, 3, 13) mean-removed cepstra, deltas, delta-deltas."""
    c = log_bands @ _dct()
    if cepstral_mean == "running":
        c = c - running_means(c)[0]
    elif cepstral_mean == "utterance":
        c -= c.mean(0)
    else:
        raise ValueError(f"cepstral_mean must be one of {CEPSTRAL_MEANS}, not {cepstral_mean!r}")
    return deltas(c)


def forward_posteriors(state_ll: np.ndarray, loop: np.ndarray,
                       scale: float = FILTER_SCALE, alpha: np.ndarray | None = None
                       ) -> np.ndarray:
    """(T, phones) log-posterior of the phone sounding at each frame given the frames up to
    it: the forward pass of a phone loop (every phone's 3-state HMM, any phone may follow
    any other, equally likely), the likelihoods raised to ``scale``. Causal, so it adds no
    look-ahead; unlike a frame's own scores it knows how long phones last and that their
    states come in order. ``loop``: :func:`_loop_transitions` (``AcousticModel.loop``).
    ``alpha``: the last row of an earlier call's forward variables (before the log and the
    state sum) to continue from, updated in place (a live stream scores block by block)."""
    t_len, n, states = state_ll.shape
    if t_len == 0:
        return np.empty((0, n))
    ll = scale * state_ll.reshape(t_len, n * states)
    lik = np.exp(ll - ll.max(1, keepdims=True))           # each frame's best senone: 1
    alphas = np.empty((t_len, n * states))
    resume = alpha is not None and alpha.any()
    carry = alpha
    if not resume:
        alpha = np.zeros(n * states)
        alpha[::states] = 1.0 / n
    for t in range(t_len):
        if t or resume:
            alpha = alpha @ loop
        alpha *= lik[t]
        total = alpha.sum()
        # A frame no state can explain (all underflow): start afresh from that frame.
        alpha = alpha / total if total > 1e-280 else lik[t] / lik[t].sum()
        alphas[t] = alpha
    if carry is not None:
        carry[:] = alpha
    return np.log(np.maximum(alphas.reshape(t_len, n, states).sum(2), 1e-300))


def _loop_transitions(transitions: np.ndarray) -> np.ndarray:
    """The phone loop as one matrix over (phone, state) pairs: each phone's own transitions,
    and out of its last state into the first state of any phone, all equally likely."""
    n, states, _ = transitions.shape
    move = np.zeros((n * states, n * states))
    for p in range(n):
        for s in range(states):
            i = p * states + s
            move[i, i] = transitions[p, s, s]
            if s + 1 < states:
                move[i, i + 1] = transitions[p, s, s + 1]
            else:
                move[i, ::states] += transitions[p, s, s + 1] / n
    return move


def _to_unit_range(logpost: np.ndarray) -> np.ndarray:
    return (np.maximum(logpost, FLOOR) / -FLOOR * 2.0 + 1.0).astype(np.float32)


def frame_scores(state_ll: np.ndarray) -> np.ndarray:
    """(T, phones, states) senone log-likelihoods -> (T, 42) scores in [-1, 1]."""
    ll = _sum_states(state_ll) * ACOUSTIC_SCALE
    m = ll.max(1, keepdims=True)
    return _to_unit_range(ll - m - np.log(np.exp(ll - m).sum(1, keepdims=True)))


def scores_from_bands(log_bands: np.ndarray, filtered: bool = False,
                      cepstral_mean: str = "utterance") -> np.ndarray:
    """(T, 42) float32 in [-1, 1]: each phone's scaled log-posterior, floored (see module);
    with ``filtered``, (T, 84): then also the phone loop's :func:`forward_posteriors`."""
    model = acoustic_model()
    width = len(model.phones) * (2 if filtered else 1)
    if len(log_bands) == 0:
        return np.zeros((0, width), np.float32)
    state_ll = model.state_loglik(features(log_bands, cepstral_mean))
    scores = frame_scores(state_ll)
    if not filtered:
        return scores
    return np.concatenate([scores, _to_unit_range(forward_posteriors(state_ll, model.loop))], 1)


def phone_scores(samples16k: np.ndarray, filtered: bool = False,
                 cepstral_mean: str = "utterance") -> np.ndarray:
    """(frames, 42) phone scores of mono 16 kHz audio in [-1, 1], on the log-mel grid;
    (frames, 84) with ``filtered`` (see :func:`scores_from_bands`)."""
    return scores_from_bands(band_energies(samples16k), filtered, cepstral_mean)


def columns_filtered(n_phonetic: int) -> bool:
    """Whether a network reading ``n_phonetic`` score columns reads the filtered ones too."""
    n = len(acoustic_model().phones)
    if n_phonetic not in (n, 2 * n):
        raise ValueError(f"n_phonetic must be {n} or {2 * n}, got {n_phonetic}")
    return n_phonetic == 2 * n


def phone_names() -> list[str]:
    return list(acoustic_model().phones)
