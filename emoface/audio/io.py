"""Reading and writing audio: any common file in, mono float32 at 16 kHz out.

Files are decoded in blocks and resampled block by block (with enough overlap that the
result matches a one-shot resample), so a 20-minute 44.1 kHz stereo file never needs
more memory than its 16 kHz mono result.
"""
from __future__ import annotations

import contextlib
import math
import os
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ..errors import UserError, warn
from ..files import atomic_path

SAMPLE_RATE = 16000
SUPPORTED = "wav, flac, ogg, mp3, and through ffmpeg m4a, aac, opus or a video's sound"
# What a folder of inputs is searched for.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus")
_BLOCK_FRAMES = 1 << 16
# Decoded float samples beyond this are corrupt data, not loud audio (a clipped float file
# reaches a little over 1; garbage from a damaged stream reaches 1e38).
ABSURD_SAMPLE = 64.0
# A file whose decodable audio falls this far short of what its header promises is
# truncated: said in one line, and the part read is used.
TRUNCATED_SHORTFALL_S = 0.05
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


@contextlib.contextmanager
def _quiet_decoder() -> Iterator[None]:
    """Keep the C decoders' chatter (libmpg123's "Warning: Xing stream size off ...") off
    the user's terminal: file descriptor 2 points at a scratch file meanwhile."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to protect
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _declared_wav_seconds(p: Path) -> float | None:
    """Seconds of PCM a RIFF/WAVE header promises (its ``data`` chunk), or None when the
    file is not a plain PCM wav or the header cannot be read."""
    try:
        with open(p, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, None
    while pos + 8 <= len(head):
        tag, size = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if tag == b"fmt " and pos + 20 <= len(head):
            byte_rate = struct.unpack("<I", head[pos + 16:pos + 20])[0]
        if tag == b"data":
            return size / byte_rate if byte_rate else None
        pos += 8 + size + (size & 1)
    return None


def _transcoded(p: Path, reason: str) -> sf.SoundFile:
    """Audio libsndfile cannot read (AAC in .m4a/.mp4, Opus, a video's sound track)
    decoded by the ffmpeg that imageio-ffmpeg ships into a temporary 16-bit wav at its
    own rate, opened, and unlinked at once (the open file stays readable)."""
    refused = UserError(f"audio file {_describe(p)} is not audio that can be read "
                        f"({reason}); supported formats: {SUPPORTED}")
    try:
        import imageio_ffmpeg
    except ImportError:
        raise refused from None
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "audio.wav"
        proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin",
                               "-loglevel", "error", "-i", str(p), "-map", "0:a:0", "-vn",
                               "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", str(wav)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not wav.is_file():
            if "matches no streams" in proc.stderr:
                raise UserError(f"{_describe(p)} has no sound track") from None
            raise refused from None
        return sf.SoundFile(str(wav))


def _open(path: str | os.PathLike) -> sf.SoundFile:
    p = _check_file(path)
    try:
        with _quiet_decoder():
            f = sf.SoundFile(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        f = _transcoded(p, str(exc).split(":")[-1].strip() or "unknown format")
    if f.samplerate <= 0 or f.channels <= 0:
        f.close()
        raise UserError(f"audio file {_describe(p)} has no valid sample rate or channels")
    if f.frames == 0:
        f.close()
        raise UserError(f"audio file {_describe(p)} contains no audio samples (zero length)")
    return f


def audio_duration(path: str | os.PathLike) -> float:
    """Seconds of audio in ``path``, from the header (no decoding for wav/flac/ogg; other
    formats are decoded by ffmpeg first)."""
    p = _check_file(path)
    try:
        with _quiet_decoder():
            info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        with _open(p) as f:
            return f.frames / f.samplerate
    if info.frames == 0 or info.samplerate <= 0:
        raise UserError(f"audio file {_describe(p)} contains no audio samples (zero length)")
    return info.frames / info.samplerate


def _mono_blocks(f: sf.SoundFile, path: Path) -> Iterator[np.ndarray]:
    """Mono blocks of what the decoder really produced. Not ``SoundFile.blocks``: on a
    truncated mp3 it pads to the length the header claims with whatever memory held."""
    done = 0
    try:
        while True:
            with _quiet_decoder():
                block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
            if not len(block):
                return
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            bad = ~(np.abs(mono) <= ABSURD_SAMPLE)     # also NaN
            if bad.any():
                at = (done + int(np.argmax(bad))) / f.samplerate
                raise UserError(f"audio file {_describe(path)} is damaged: invalid samples "
                                f"(not finite, or beyond +-{ABSURD_SAMPLE:g}) from {at:.2f} s")
            done += len(mono)
            yield mono
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise UserError(f"audio file {_describe(path)} is damaged and could not be decoded "
                        f"({str(exc).split(':')[-1].strip()})") from None


def _check_complete(path: Path, decoded_s: float, header_s: float) -> None:
    """One warning line when less audio decodes than the header promises."""
    declared = max(header_s, _declared_wav_seconds(path) or 0.0)
    shortfall = declared - decoded_s
    if shortfall > TRUNCATED_SHORTFALL_S and shortfall > 0.02 * declared:
        warn(f"audio file {_describe(path)} is truncated: its header promises "
             f"{declared:.2f} s, {decoded_s:.2f} s could be read; using what was read")


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


class AudioBlocks:
    """The decoded file as consecutive mono float32 blocks at ``sample_rate``, read and
    resampled one block at a time (the same samples :func:`load_audio` returns, joined).

    Opening checks the file (a :class:`UserError` for anything that is not readable
    audio); iterating raises one for damaged data, and at the end for a file with no
    samples, and warns once when the file is truncated."""

    def __init__(self, path: str | os.PathLike, sample_rate: int = SAMPLE_RATE):
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self._file = _open(self.path)
        sr_in = self._file.samplerate
        frames = self._file.frames
        # samples the header promises at sample_rate (mp3 headers can be short)
        self.expected = math.ceil(frames * self.sample_rate / sr_in) if frames > 0 else 0

    def __iter__(self) -> Iterator[np.ndarray]:
        p, f, rate = self.path, self._file, self.sample_rate
        filled = 0
        with f:
            sr_in = f.samplerate
            if sr_in == rate:
                for block in _mono_blocks(f, p):
                    filled += len(block)
                    yield block
            else:
                resampler = _StreamResampler(sr_in, rate)
                for block in _mono_blocks(f, p):
                    for chunk in resampler.feed(block):
                        filled += len(chunk)
                        yield chunk
                for chunk in resampler.finish():
                    filled += len(chunk)
                    yield chunk
            header_s = f.frames / sr_in
        if filled == 0:
            raise UserError(f"audio file {_describe(p)} contains no audio samples (zero length)")
        _check_complete(p, filled / rate, header_s)


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at ``sample_rate`` from a wav/flac/ogg/mp3 file of any rate
    and channel count. Raises :class:`UserError` (one line naming the file) for anything
    that is not readable audio."""
    blocks = AudioBlocks(path, sample_rate)
    out = np.empty(blocks.expected, np.float32)
    filled = 0
    for chunk in blocks:
        if filled + len(chunk) > len(out):  # mp3 frame counts in the header can be short
            grown = np.empty(max(filled + len(chunk), int(len(out) * 1.25) + 1), np.float32)
            grown[:filled] = out[:filled]
            out = grown
        out[filled:filled + len(chunk)] = chunk
        filled += len(chunk)
    return out[:filled] if filled == len(out) else out[:filled].copy()


@dataclass(frozen=True)
class AudioWindow:
    """One window of a long file: ``samples`` at 16 kHz from sample ``start`` on;
    ``last`` is True for the window that reaches the end of the file."""

    index: int
    start: int
    samples: np.ndarray
    last: bool


def audio_windows(path: str | os.PathLike, window_s: float, overlap_s: float,
                  sample_rate: int = SAMPLE_RATE) -> Iterator[AudioWindow]:
    """A file as overlapping windows, decoded block by block, so memory stays at about
    one and a half windows whatever the file's length.

    Window ``k`` starts at ``k * (window_s - overlap_s)`` seconds and is ``window_s``
    long, except the last, which runs to the end of the file and is between
    ``overlap_s + window_s / 2`` and ``1.5 * window_s`` long (a short remainder is
    added to the window before it instead of making a window of its own). A file shorter
    than that is one window. Joined without their overlaps, the windows are exactly
    :func:`load_audio`'s samples."""
    win = int(round(window_s * sample_rate))
    hop = win - int(round(overlap_s * sample_rate))
    if not 0 < hop <= win:
        raise ValueError(f"need 0 <= overlap_s < window_s, got {overlap_s} and {window_s}")
    tail = win // 2
    buf = np.zeros(0, np.float32)
    buf_start = 0                      # sample index of buf[0]
    chunks: list[np.ndarray] = []      # decoded after buf
    have = 0                           # samples decoded so far
    start, index = 0, 0
    for chunk in AudioBlocks(path, sample_rate):
        chunks.append(chunk)
        have += len(chunk)
        while have >= start + win + tail:
            buf = np.concatenate([buf, *chunks])
            chunks = []
            yield AudioWindow(index, start, buf[start - buf_start:start - buf_start + win].copy(),
                              False)
            index, start = index + 1, start + hop
            buf, buf_start = buf[start - buf_start:], start
    buf = np.concatenate([buf, *chunks])
    yield AudioWindow(index, start, buf[start - buf_start:].copy(), True)


_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"),
            ".mp3": ("MP3", "MPEG_LAYER_III")}


def save_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono (or ``(n, channels)``) samples in [-1, 1]; atomically, so a failure
    leaves no partial file. 16-bit PCM wav unless the extension asks for flac/ogg/mp3."""
    x = np.clip(np.nan_to_num(np.asarray(samples, dtype=np.float32)), -1.0, 1.0)
    fmt, subtype = _FORMATS.get(Path(path).suffix.lower(), ("WAV", "PCM_16"))
    with atomic_path(path) as tmp:
        sf.write(str(tmp), x, int(sample_rate), format=fmt, subtype=subtype)
