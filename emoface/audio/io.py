"""Reading and writing audio: any common file in, mono float32 at 16 kHz out.

Files are decoded in blocks and resampled block by block (with enough overlap that the
result matches a one-shot resample), so a 20-minute 44.1 kHz stereo file never needs
more memory than its 16 kHz mono result.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ..errors import UserError
from ..files import atomic_path

SAMPLE_RATE = 16000
SUPPORTED = "wav, flac, ogg, mp3"
_BLOCK_FRAMES = 1 << 16
# resample_poly's default filter reaches 10 * max(up, down) samples at the upsampled rate
# either side of a point; this many input samples of context make block edges invisible.
_FILTER_HALF_TAPS = 10


def _describe(path: str | os.PathLike) -> str:
    return repr(str(path))


def _check_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise UserError(f"audio file {_describe(p)} does not exist")
    if p.is_dir():
        raise UserError(f"audio file {_describe(p)} is a folder, not an audio file")
    if not os.access(p, os.R_OK):
        raise UserError(f"audio file {_describe(p)} cannot be read (permission denied)")
    if p.stat().st_size == 0:
        raise UserError(f"audio file {_describe(p)} is empty (0 bytes)")
    return p


def _open(path: str | os.PathLike) -> sf.SoundFile:
    p = _check_file(path)
    try:
        f = sf.SoundFile(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = str(exc).split(":")[-1].strip() or "unknown format"
        raise UserError(f"audio file {_describe(p)} is not audio that can be read "
                        f"({reason}); supported formats: {SUPPORTED}") from None
    if f.samplerate <= 0 or f.channels <= 0:
        f.close()
        raise UserError(f"audio file {_describe(p)} has no valid sample rate or channels")
    if f.frames == 0:
        f.close()
        raise UserError(f"audio file {_describe(p)} contains no audio samples (zero length)")
    return f


def audio_duration(path: str | os.PathLike) -> float:
    """Seconds of audio in ``path``, from the header (no decoding for wav/flac/ogg)."""
    p = _check_file(path)
    try:
        info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = str(exc).split(":")[-1].strip() or "unknown format"
        raise UserError(f"audio file {_describe(p)} is not audio that can be read "
                        f"({reason}); supported formats: {SUPPORTED}") from None
    if info.frames == 0 or info.samplerate <= 0:
        raise UserError(f"audio file {_describe(p)} contains no audio samples (zero length)")
    return info.frames / info.samplerate


def _mono_blocks(f: sf.SoundFile, path: Path) -> Iterator[np.ndarray]:
    try:
        for block in f.blocks(blocksize=_BLOCK_FRAMES, dtype="float32", always_2d=True):
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            # float files can carry NaN/inf; one bad sample must not poison every feature
            yield np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise UserError(f"audio file {_describe(path)} is damaged and could not be decoded "
                        f"({str(exc).split(':')[-1].strip()})") from None


def _ratio(sr_in: int, sr_out: int) -> tuple[int, int]:
    g = math.gcd(int(sr_in), int(sr_out))
    return int(sr_out) // g, int(sr_in) // g


class _StreamResampler:
    """Resample a stream of blocks with resample_poly, matching a one-shot call.

    Each emitted stretch starts at an input index that is a multiple of ``down`` so its
    output lands exactly on the global output grid; ``pad`` input samples of context on
    either side (zeros beyond the file, as resample_poly assumes) hide the block edges."""

    def __init__(self, sr_in: int, sr_out: int):
        self.up, self.down = _ratio(sr_in, sr_out)
        half = math.ceil(_FILTER_HALF_TAPS * max(self.up, self.down) / self.up) + 2
        self.pad = math.ceil(half / self.down) * self.down
        self.step = max(1, _BLOCK_FRAMES // self.down) * self.down
        self.buf = np.zeros(0, np.float32)
        self.buf_start = 0      # input index of buf[0]
        self.next_start = 0     # input index of the next stretch to emit

    def _emit(self, n: int) -> np.ndarray:
        start = self.next_start
        a = max(0, start - self.pad)
        b = min(self.buf_start + len(self.buf), start + n + self.pad)
        x = self.buf[a - self.buf_start:b - self.buf_start]
        y = resample_poly(x, self.up, self.down).astype(np.float32, copy=False)
        first = (start - a) * self.up // self.down
        count = -(-(start + n) * self.up // self.down) - start * self.up // self.down
        self.next_start = start + n
        keep_from = max(0, self.next_start - self.pad)
        self.buf = self.buf[keep_from - self.buf_start:]
        self.buf_start = keep_from
        return y[first:first + count]

    def feed(self, block: np.ndarray) -> Iterator[np.ndarray]:
        self.buf = np.concatenate([self.buf, block]) if len(self.buf) else block
        while self.buf_start + len(self.buf) >= self.next_start + self.step + self.pad:
            yield self._emit(self.step)

    def finish(self) -> Iterator[np.ndarray]:
        remaining = self.buf_start + len(self.buf) - self.next_start
        if remaining > 0:
            yield self._emit(remaining)


def resample(samples: np.ndarray, sr_in: int, sr_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample a mono signal (polyphase filter); returns float32."""
    x = np.asarray(samples, dtype=np.float32)
    if int(sr_in) == int(sr_out) or len(x) == 0:
        return x
    up, down = _ratio(sr_in, sr_out)
    return resample_poly(x, up, down).astype(np.float32, copy=False)


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at ``sample_rate`` from a wav/flac/ogg/mp3 file of any rate
    and channel count. Raises :class:`UserError` (one line naming the file) for anything
    that is not readable audio."""
    p = Path(path)
    with _open(p) as f:
        sr_in = f.samplerate
        expected = math.ceil(f.frames * sample_rate / sr_in) if f.frames > 0 else 0
        out = np.empty(expected, np.float32)
        filled = 0

        def put(chunk: np.ndarray) -> None:
            nonlocal out, filled
            if filled + len(chunk) > len(out):  # mp3 frame counts in the header can be short
                grown = np.empty(max(filled + len(chunk), int(len(out) * 1.25) + 1), np.float32)
                grown[:filled] = out[:filled]
                out = grown
            out[filled:filled + len(chunk)] = chunk
            filled += len(chunk)

        if sr_in == sample_rate:
            for block in _mono_blocks(f, p):
                put(block)
        else:
            resampler = _StreamResampler(sr_in, sample_rate)
            for block in _mono_blocks(f, p):
                for chunk in resampler.feed(block):
                    put(chunk)
            for chunk in resampler.finish():
                put(chunk)
    if filled == 0:
        raise UserError(f"audio file {_describe(p)} contains no audio samples (zero length)")
    return out[:filled] if filled == len(out) else out[:filled].copy()


_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"),
            ".mp3": ("MP3", "MPEG_LAYER_III")}


def save_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono (or ``(n, channels)``) samples in [-1, 1]; atomically, so a failure
    leaves no partial file. 16-bit PCM wav unless the extension asks for flac/ogg/mp3."""
    x = np.clip(np.nan_to_num(np.asarray(samples, dtype=np.float32)), -1.0, 1.0)
    fmt, subtype = _FORMATS.get(Path(path).suffix.lower(), ("WAV", "PCM_16"))
    with atomic_path(path) as tmp:
        sf.write(str(tmp), x, int(sample_rate), format=fmt, subtype=subtype)
