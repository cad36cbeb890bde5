"""Live outputs: Live Link Face UDP packets and VMC OSC bundles, caught by receivers on
loopback and decoded here with decoders written from the published layouts (not the
encoders'), then checked for names, order and values against the offline animation."""
from __future__ import annotations

import math
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.spatial.transform import Rotation

from emoface.animation import Animation
from emoface.arkit import ARKIT_NAMES, INDEX
from emoface.cli import main
from emoface.engines import load_engine
from emoface.engines.base import Capabilities
from emoface.stream import live
from emoface.threads import one_maths_thread

ROOT = Path(__file__).resolve().parents[1]

# Unreal's EARFaceBlendShape enum (AugmentedReality/Public/ARTrackable.h), the order of the
# 61 values in a Live Link Face packet; typed from Epic's API page, not from our code.
UNREAL_ENUM = """EyeBlinkLeft EyeLookDownLeft EyeLookInLeft EyeLookOutLeft EyeLookUpLeft
EyeSquintLeft EyeWideLeft EyeBlinkRight EyeLookDownRight EyeLookInRight EyeLookOutRight
EyeLookUpRight EyeSquintRight EyeWideRight JawForward JawLeft JawRight JawOpen MouthClose
MouthFunnel MouthPucker MouthLeft MouthRight MouthSmileLeft MouthSmileRight MouthFrownLeft
MouthFrownRight MouthDimpleLeft MouthDimpleRight MouthStretchLeft MouthStretchRight
MouthRollLower MouthRollUpper MouthShrugLower MouthShrugUpper MouthPressLeft MouthPressRight
MouthLowerDownLeft MouthLowerDownRight MouthUpperUpLeft MouthUpperUpRight BrowDownLeft
BrowDownRight BrowInnerUp BrowOuterUpLeft BrowOuterUpRight CheekPuff CheekSquintLeft
CheekSquintRight NoseSneerLeft NoseSneerRight TongueOut HeadYaw HeadPitch HeadRoll
LeftEyeYaw LeftEyePitch LeftEyeRoll RightEyeYaw RightEyePitch RightEyeRoll""".split()


# ------------------------------------------------------------------ independent decoders
def decode_livelink(packet: bytes) -> dict:
    at = 0

    def take(fmt):
        nonlocal at
        values = struct.unpack_from(">" + fmt, packet, at)
        at += struct.calcsize(">" + fmt)
        return values

    def text():
        (n,) = take("i")
        return take(f"{n}s")[0].decode()

    (version,) = take("B")
    device, subject = text(), text()
    frame, sub, num, den = take("ifii")
    (count,) = take("B")
    values = take(f"{count}f")
    assert at == len(packet), "bytes left over after the values"
    return dict(version=version, device=device, subject=subject, frame=frame, sub=sub,
                rate=(num, den), values=dict(zip(UNREAL_ENUM, values)), count=count)


def _osc_string(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode(), (end + 4) & ~3


def decode_osc(data: bytes) -> list[tuple]:
    """A message or a bundle -> [(address, *args)] in order."""
    if data.startswith(b"#bundle\0"):
        out, at = [], 16
        while at < len(data):
            (size,) = struct.unpack_from(">i", data, at)
            out += decode_osc(data[at + 4:at + 4 + size])
            at += 4 + size
        return out
    address, at = _osc_string(data, 0)
    tags, at = _osc_string(data, at)
    args = []
    for tag in tags[1:]:
        if tag == "s":
            value, at = _osc_string(data, at)
        else:
            (value,) = struct.unpack_from(">" + tag, data, at)
            at += 4
        args.append(value)
    return [(address, *args)]


class Receiver:
    """A UDP socket on loopback collecting every datagram in a thread."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.packets.append(self.sock.recv(65536))
            except TimeoutError:
                continue

    def close(self) -> list[bytes]:
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return self.packets


# ------------------------------------------------------------------ helpers
class _FixedEngine:
    """An engine stand-in that returns a given animation (the loop's logic, no engine)."""
    name = "fixed"
    capabilities = Capabilities()

    def __init__(self, anim):
        self.anim = anim

    def animate(self, *_args, **_kwargs):
        return self.anim


class _NoWait(live.Pacer):
    def __init__(self):
        self.now = 0.0
        super().__init__(clock=lambda: self.now, sleep=self._sleep)

    def _sleep(self, seconds):
        self.now += seconds


def distinct_animation(frames=4, fps=60.0) -> Animation:
    """Every channel of every frame a different value: any swap of names shows."""
    w = (np.arange(52)[None, :] + 1 + 100 * np.arange(frames)[:, None]) / (100 * frames + 60)
    head = np.array([[0.1, 0.2, 0.3]]) + 0.01 * np.arange(frames)[:, None]
    eyes = np.array([[0.01, 0.02, 0.03, 0.04, 0.05, 0.06]]) + 0.001 * np.arange(frames)[:, None]
    return Animation(w, fps, head=head, eyes=eyes)


def send_in_process(anim, url, tmp_path, **options) -> list[bytes]:
    wav = tmp_path / "x.wav"
    sf.write(wav, np.zeros(1600), 16000)  # only checked for existence by the offline path
    rx = Receiver()
    try:
        target = live.parse_target(url.format(port=rx.port))
        report = live.run_live(str(wav), target, _FixedEngine(anim), "neutral", fps=anim.fps,
                               pacer=_NoWait(), **options)
        assert report.frames == anim.num_frames
        deadline = 0
        while len(rx.packets) < anim.num_frames and deadline < 50:
            threading.Event().wait(0.02)
            deadline += 1
    finally:
        packets = rx.close()
    return packets


# ------------------------------------------------------------------ Live Link
def test_livelink_names_order_and_values(tmp_path):
    anim = distinct_animation()
    packets = send_in_process(anim, "livelink://127.0.0.1:{port}", tmp_path, subject="Anna")
    assert len(packets) == anim.num_frames
    decoded = [decode_livelink(p) for p in packets]
    frames = [d["frame"] for d in decoded]
    for i, d in enumerate(decoded):
        assert d["version"] == 6 and d["count"] == 61 and d["rate"] == (60, 1)
        assert d["subject"] == "Anna" and len(d["device"]) == 36
        assert 0 <= d["sub"] < 1
        for name in ARKIT_NAMES:
            assert d["values"][name[0].upper() + name[1:]] == pytest.approx(
                anim.weights[i, INDEX[name]], abs=1e-6), name
        assert [d["values"][k] for k in ("HeadYaw", "HeadPitch", "HeadRoll")] == pytest.approx(
            anim.head[i], abs=1e-6)
        assert [d["values"][k] for k in UNREAL_ENUM[-6:]] == pytest.approx(anim.eyes[i], abs=1e-6)
    # one frame of a 60 fps timecode apart (the wall clock may cross a frame boundary late)
    assert all(b - a in (1, 2) for a, b in zip(frames, frames[1:]))


def test_vmc_names_order_and_values(tmp_path):
    anim = distinct_animation()
    packets = send_in_process(anim, "vmc://127.0.0.1:{port}", tmp_path)
    assert len(packets) == anim.num_frames
    for i, packet in enumerate(packets):
        messages = decode_osc(packet)
        blends = [m for m in messages if m[0] == "/VMC/Ext/Blend/Val"]
        assert [m[1] for m in blends] == [n[0].upper() + n[1:] for n in ARKIT_NAMES]
        assert [m[2] for m in blends] == pytest.approx(anim.weights[i], abs=1e-6)
        addresses = [m[0] for m in messages]
        assert addresses.index("/VMC/Ext/Blend/Apply") > max(
            k for k, a in enumerate(addresses) if a == "/VMC/Ext/Blend/Val")
        bones = {m[1]: m[2:] for m in messages if m[0] == "/VMC/Ext/Bone/Pos"}
        assert set(bones) == {"Head", "LeftEye", "RightEye"}
        for bone, (yaw, pitch, roll) in (("Head", anim.head[i]), ("LeftEye", anim.eyes[i, :3]),
                                         ("RightEye", anim.eyes[i, 3:])):
            # Unity's Euler order (Z, then X, then Y), Live Link's roll sign flipped
            expected = Rotation.from_euler("YXZ", [yaw, pitch, -roll]).as_quat()
            got = np.array(bones[bone][3:])
            assert bones[bone][:3] == (0.0, 0.0, 0.0)
            assert min(np.abs(got - expected).max(), np.abs(got + expected).max()) < 1e-6
        assert ("/VMC/Ext/OK", 1) in messages


def test_vmc_head_turn_signs():
    from emoface.stream.vmc import unity_quaternion
    yaw = unity_quaternion(0.3, 0, 0)  # toward the avatar's right: about +Y
    assert yaw == pytest.approx([0, math.sin(0.15), 0, math.cos(0.15)])
    down = unity_quaternion(0, 0.2, 0)  # looking down: about +X in Unity
    assert down == pytest.approx([math.sin(0.1), 0, 0, math.cos(0.1)])


# ------------------------------------------------------------------ the command, end to end
def _cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "emoface", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> Path:
    sr = 16000
    t = np.arange(int(1.2 * sr)) / sr
    path = tmp_path_factory.mktemp("live") / "tone.wav"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 140 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)), sr)
    return path


@pytest.mark.parametrize("scheme", ["livelink", "vmc"])
def test_live_command_sends_the_offline_animation(tone, scheme):
    offline = load_engine("rules").animate(tone, "happy", fps=60, seed=3)
    rx = Receiver()
    try:
        result = _cli("live", tone, "--to", f"{scheme}://127.0.0.1:{rx.port}", "--engine",
                      "rules", "--emotion", "happy", "--seed", "3")
        threading.Event().wait(0.3)
    finally:
        packets = rx.close()
    assert result.returncode == 0, result.stderr
    assert len(packets) == offline.num_frames
    if scheme == "livelink":
        got = np.array([[decode_livelink(p)["values"][n[0].upper() + n[1:]] for n in ARKIT_NAMES]
                        for p in packets])
        head = np.array([[decode_livelink(p)["values"][k] for k in UNREAL_ENUM[52:55]]
                         for p in packets])
        assert np.abs(head - offline.head).max() < 1e-6 and np.abs(offline.head).max() > 0.01
    else:
        got = np.array([[m[2] for m in decode_osc(p) if m[0] == "/VMC/Ext/Blend/Val"]
                        for p in packets])
    assert np.abs(got - offline.weights).max() < 1e-6
    assert offline.weights.max() > 0.3  # a face that moves, not zeros matching zeros


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "livelink://", "livelink://h:99999",
                                 "vmc://h:abc", "livelink://h/path", "127.0.0.1:11111",
                                 "livelink://no-such-host.invalid"])
def test_bad_target_is_one_line(tone, url, capsys):
    assert main(["live", str(tone), "--to", url, "--engine", "neutral"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("emoface: error: --to"), err


def test_microphone_needs_a_streaming_engine(tone, capsys):
    assert main(["live", "mic", "--to", "vmc://127.0.0.1:9", "--engine", "loudness-jaw"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "streams" in err, err
    assert main(["live", str(tone.with_name("missing.wav")), "--to", "vmc://127.0.0.1:9",
                 "--engine", "neutral"]) == 2
    assert "no such file" in capsys.readouterr().err


class _StreamingEngine:
    """A streaming stand-in: frame k of a known animation leaves once the audio up to its
    end has been fed (the way a real stream's look-ahead holds frames back)."""
    name = "fixed-stream"
    capabilities = Capabilities(streams=True)

    def __init__(self, anim):
        self.anim, self.fed, self.chunks = anim, 0, []

    def stream(self, sample_rate, emotion="auto", fps=30.0, seed=0):
        from emoface.engines.streaming import Frames

        engine, anim = self, self.anim

        class _Stream:
            sent = 0

            def _frames(self, upto):
                a, self.sent = self.sent, max(self.sent, min(upto, anim.num_frames))
                return Frames(a, anim.fps, anim.weights[a:self.sent], anim.head[a:self.sent],
                              anim.eyes[a:self.sent], np.zeros((self.sent - a, 8), np.float32))

            def feed(self, chunk):
                engine.chunks.append(len(chunk))
                engine.fed += len(chunk)
                return self._frames(int(engine.fed / sample_rate * anim.fps))

            def flush(self):
                return self._frames(anim.num_frames)

        return _Stream()


def test_streaming_engine_frames_go_out_as_they_come(tmp_path):
    anim = distinct_animation(frames=30)
    wav = tmp_path / "half_second.wav"
    sf.write(wav, np.zeros(8000), 16000)
    engine = _StreamingEngine(anim)
    pacer, sent_at = _NoWait(), []
    rx = Receiver()
    try:
        target = live.parse_target(f"livelink://127.0.0.1:{rx.port}")
        report = live.run_live(str(wav), target, engine, "neutral", fps=60, pacer=pacer,
                               on_frame=lambda f: sent_at.append((f.t, pacer.now)))
        threading.Event().wait(0.3)
    finally:
        packets = rx.close()
    assert report.frames == 30 and len(packets) == 30
    assert set(engine.chunks[:-1]) == {320}                  # 20 ms chunks
    # each frame left once the audio up to its end had been played, not before
    assert all(now >= t + 1 / 60 - 1e-9 for t, now in sent_at[:-1])
    got = np.array([[decode_livelink(p)["values"][n[0].upper() + n[1:]] for n in ARKIT_NAMES]
                    for p in packets])
    assert np.abs(got - anim.weights).max() < 1e-6


def test_microphone_without_a_device_is_one_line(capsys):
    """Where there is no input device (CI, this machine), `mic` fails before the engine
    loads, in one line."""
    try:
        import sounddevice as sd
        if any(d["max_input_channels"] > 0 for d in sd.query_devices()):
            pytest.skip("this machine has a microphone")
    except (ImportError, OSError):
        pass  # no sounddevice or no PortAudio: the command says so in its one line
    assert main(["live", "mic", "--to", "vmc://127.0.0.1:9", "--engine", "neural"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "microphone" in err, err


def test_streams_run_on_one_maths_thread():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    with one_maths_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
