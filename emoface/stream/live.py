"""``emoface live``: animate audio as it plays and send each frame to Unreal or a VTuber app.

The audio is a file played in real time (each frame leaves when the audio it shows has
played) or a microphone read through ``sounddevice``. Frames come from the engine's stream
when the engine streams; otherwise the file is animated first and its frames are sent
paced to the wall clock. Targets are URLs: ``livelink://HOST[:PORT]`` (Live Link Face
packets, :mod:`.livelink`) and ``vmc://HOST[:PORT]`` (VMC OSC bundles, :mod:`.vmc`).
"""
from __future__ import annotations

import contextlib
import datetime
import queue
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ..animation import Animation
from ..audio.io import SAMPLE_RATE, load_audio
from ..errors import UserError
from ..threads import one_maths_thread
from . import livelink, vmc

SCHEMES = {"livelink": livelink.DEFAULT_PORT, "vmc": vmc.DEFAULT_PORT}
MICROPHONE = "mic"
CHUNK_S = 0.02  # audio handed to a streaming engine at a time: 20 ms, as a sound card would


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_target(url: str) -> Target:
    """``livelink://HOST[:PORT]`` or ``vmc://HOST[:PORT]`` -> Target; anything else is one
    clear UserError."""
    hint = "give livelink://HOST[:PORT] (Unreal) or vmc://HOST[:PORT] (VSeeFace, Warudo, ...)"
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES or "://" not in url:
        raise UserError(f"--to {url!r}: unknown target; {hint}")
    try:
        port = parts.port
    except ValueError:
        raise UserError(f"--to {url!r}: the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise UserError(f"--to {url!r}: no host; {hint}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise UserError(f"--to {url!r}: only a host and a port belong in the URL; {hint}")
    if port == 0:
        raise UserError(f"--to {url!r}: the port must be a number from 1 to 65535")
    return Target(parts.scheme, parts.hostname, port or SCHEMES[parts.scheme])


def resolve_host(target: Target) -> str:
    """The target's IPv4 address, looked up once: a typo fails before any work."""
    try:
        return socket.gethostbyname(target.host)
    except OSError as exc:
        raise UserError(f"--to {target}: unknown host ({exc.strerror or exc})") from None


def open_sender(target: Target, *, subject: str = livelink.DEFAULT_SUBJECT,
                fps: float = livelink.PHONE_FPS, names: str = "pascal"):
    """A sender with ``send(stamp, weights, head, eyes)`` and ``close()``. Datagrams go
    unconnected, so a receiver that is not up yet costs nothing but the frames."""
    host = resolve_host(target)
    if target.scheme == "livelink":
        return livelink.LiveLinkSender(host, target.port, subject=subject, fps=round(fps))
    return vmc.VMCSender(host, target.port, names=names)


@dataclass
class Frame:
    t: float                  # seconds of audio this frame shows
    weights: np.ndarray       # (52,) ARKit order
    head: np.ndarray | None   # (3,) yaw pitch roll
    eyes: np.ndarray | None   # (6,)


def animation_frames(anim: Animation) -> Iterator[Frame]:
    for i in range(anim.num_frames):
        yield Frame(i / anim.fps, anim.weights[i],
                    None if anim.head is None else anim.head[i],
                    None if anim.eyes is None else anim.eyes[i])


def _unbatch(batch) -> Iterator[Frame]:
    """A stream's batch of consecutive frames (``engines.streaming.Frames``) one by one."""
    for t, w, h, e in zip(batch.times, batch.weights, batch.head, batch.eyes):
        yield Frame(float(t), w, h, e)


def stream_frames(stream, chunks: Iterator[np.ndarray]) -> Iterator[Frame]:
    """Feed PCM chunks to an engine stream; frames as soon as it gives them, then the rest
    at the end."""
    for chunk in chunks:
        yield from _unbatch(stream.feed(chunk))
    yield from _unbatch(stream.flush())


def file_chunks(samples: np.ndarray, sleep_until: Callable[[float], None]) -> Iterator[np.ndarray]:
    """The file's samples in 20 ms chunks, each released when it would have been heard."""
    step = int(round(CHUNK_S * SAMPLE_RATE))
    for a in range(0, len(samples), step):
        sleep_until((a + step) / SAMPLE_RATE)
        yield samples[a:a + step]


def microphone_chunks(device=None) -> Iterator[np.ndarray]:
    """20 ms chunks of mono float32 audio at 16 kHz from the microphone, until Ctrl-C."""
    sd = _input_device(device)
    blocks: queue.Queue = queue.Queue(maxsize=500)

    def arrived(data, *_):
        with contextlib.suppress(queue.Full):  # a stalled consumer drops audio, not the card
            blocks.put_nowait(data[:, 0].copy())

    with sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", device=device,
                        blocksize=int(CHUNK_S * SAMPLE_RATE), callback=arrived):
        while True:
            yield blocks.get()


def _seconds_of_day() -> float:
    now = datetime.datetime.now()
    return now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6


class Pacer:
    """Waits until a moment measured from the start; ``clock`` and ``sleep`` are
    injectable so tests can run without waiting."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.clock, self.sleep = clock, sleep
        self.start = clock()

    def until(self, t: float) -> None:
        wait = self.start + t - self.clock()
        if wait > 0:
            self.sleep(wait)

    def late(self, t: float) -> float:
        return self.clock() - (self.start + t)


@dataclass
class LiveReport:
    frames: int
    seconds: float
    max_late_s: float   # how far behind its audio the latest frame left


def check_source(source: str, engine_cls, device=None) -> None:
    """Fail before loading anything: a missing file; the microphone with an engine that does
    not stream, or with no usable input device."""
    if source == MICROPHONE:
        if not engine_cls.capabilities.streams:
            raise UserError(f"the microphone needs an engine that streams; the "
                            f"{engine_cls.name} engine does not (give an audio file)")
        _input_device(device)
    elif not Path(source).exists():
        raise UserError(f"no such file: {source!r}")


def _input_device(device):
    """sounddevice, once it has checked that ``device`` can record 16 kHz mono."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library is missing
        raise UserError(f"the microphone needs sounddevice and PortAudio "
                        f"(pip install 'emoface[live]'; apt install libportaudio2): {exc}"
                        ) from None
    try:
        sd.check_input_settings(device=device, channels=1, samplerate=SAMPLE_RATE)
    except Exception as exc:  # PortAudioError or ValueError: no such device
        raise UserError(f"no usable microphone ({exc}); give an audio file instead") from None
    return sd


def run_live(source: str, target: Target, engine, emotion, *, fps: float, seed: int = 0,
             subject: str = livelink.DEFAULT_SUBJECT, names: str = "pascal",
             device=None, pacer: Pacer | None = None,
             on_frame: Callable[[Frame], None] | None = None) -> LiveReport:
    """Send the animation of ``source`` (a file, or ``mic``) to ``target`` as it plays.
    The clock starts once the engine is ready (a stream made, or the file animated)."""
    check_source(source, type(engine), device)
    sender = open_sender(target, subject=subject, fps=fps, names=names)
    streams = engine.capabilities.streams
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(sender.close)
        if streams:
            stream = engine.stream(SAMPLE_RATE, emotion=emotion, fps=fps, seed=seed)
            cleanup.enter_context(one_maths_thread())  # after: the stream loads torch
            if source == MICROPHONE:
                chunks = microphone_chunks(device)
                pacer = pacer or Pacer()
            else:
                samples = load_audio(source)
                pacer = pacer or Pacer()
                chunks = file_chunks(samples, pacer.until)
            frames = stream_frames(stream, chunks)
        else:
            frames = animation_frames(engine.animate(source, emotion, fps=fps, seed=seed))
            pacer = pacer or Pacer()
        day0 = _seconds_of_day() - (pacer.clock() - pacer.start)
        count, worst, t = 0, 0.0, 0.0
        for frame in frames:
            if not streams:
                pacer.until(frame.t)
            t = frame.t
            sender.send(day0 + t, frame.weights, frame.head, frame.eyes)
            worst = max(worst, pacer.late(t))
            count += 1
            if on_frame is not None:
                on_frame(frame)
        return LiveReport(count, t + (1.0 / fps if count else 0.0), worst)
