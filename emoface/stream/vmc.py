"""VMC protocol: OSC messages over UDP that VSeeFace, Warudo, VMagicMirror and EVMC4U read.

Each frame is one OSC bundle (timetag "immediately") holding

    /VMC/Ext/Blend/Val  (s name, f value)   x 52, ARKit "perfect sync" clip names
    /VMC/Ext/Blend/Apply                    apply the values above at once
    /VMC/Ext/Bone/Pos   (s bone, f px py pz, f qx qy qz qw)   Head, LeftEye, RightEye
    /VMC/Ext/OK         (i 1)               a model is loaded (the sender is alive)
    /VMC/Ext/T          (f seconds)         the sender's clock

Perfect-sync receivers look the 52 names up as VRM blend shape clips spelt in PascalCase
(``EyeBlinkLeft``, ``JawOpen``); ``names="camel"`` sends Apple's spelling instead.
Rotations are local bone rotations in Unity's left-handed frame (Y up, the avatar facing
+Z): yaw about +Y toward the avatar's right, pitch about +X looking down, roll about +Z
(the sign flipped from Live Link's, whose roll is toward the right shoulder). Bone
positions are sent as zero: receivers apply rotation only to the head and eyes (the same
choice as iFacialMocap's sender). The OSC encoder is the few lines below (OSC 1.0: strings
NUL-terminated and padded to 4 bytes, big-endian int32 and float32).
"""
from __future__ import annotations

import math
import socket
import struct
from collections.abc import Iterable

import numpy as np

from ..arkit import ARKIT_NAMES, pascal

DEFAULT_PORT = 39539  # the "marionette" port VMC receivers listen on
NAME_STYLES = ("pascal", "camel")


# ------------------------------------------------------------------------ OSC 1.0
def _osc_string(text: str) -> bytes:
    data = text.encode("utf-8") + b"\0"
    return data + b"\0" * (-len(data) % 4)


def osc_message(address: str, *args) -> bytes:
    """One OSC message; str, int and float arguments (bool is not an argument here)."""
    tags, payload = ",", []
    for a in args:
        if isinstance(a, str):
            tags += "s"
            payload.append(_osc_string(a))
        elif isinstance(a, (int, np.integer)) and not isinstance(a, bool):
            tags += "i"
            payload.append(struct.pack(">i", int(a)))
        elif isinstance(a, (float, np.floating)):
            tags += "f"
            payload.append(struct.pack(">f", float(a)))
        else:
            raise TypeError(f"OSC argument of type {type(a).__name__}")
    return _osc_string(address) + _osc_string(tags) + b"".join(payload)


def osc_bundle(messages: Iterable[bytes]) -> bytes:
    """An OSC bundle with the timetag 1 ("immediately")."""
    parts = [_osc_string("#bundle"), struct.pack(">Q", 1)]
    for m in messages:
        parts += [struct.pack(">i", len(m)), m]
    return b"".join(parts)


# --------------------------------------------------------------------- rotations
def _axis_quaternion(axis: int, angle: float) -> np.ndarray:
    q = np.zeros(4)
    q[axis], q[3] = math.sin(angle / 2), math.cos(angle / 2)
    return q


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw,
                     aw * bw - ax * bx - ay * by - az * bz])


def unity_quaternion(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(x, y, z, w) of a Live Link yaw/pitch/roll (radians) as a Unity local rotation:
    Unity's Euler order (roll about Z first, then pitch about X, then yaw about Y)."""
    q = _multiply(_axis_quaternion(1, yaw), _axis_quaternion(0, pitch))
    return _multiply(q, _axis_quaternion(2, -roll))


# ------------------------------------------------------------------------ frames
def blend_names(style: str = "pascal") -> tuple[str, ...]:
    if style not in NAME_STYLES:
        raise ValueError(f"name style {style!r}: one of {NAME_STYLES}")
    return tuple(pascal(n) for n in ARKIT_NAMES) if style == "pascal" else ARKIT_NAMES


def frame_bundle(weights, head=None, eyes=None, *, seconds: float = 0.0,
                 names: tuple[str, ...] = blend_names()) -> bytes:
    """One frame as an OSC bundle (contents in the module docstring)."""
    w = np.asarray(weights, np.float32)
    messages = [osc_message("/VMC/Ext/Blend/Val", n, float(v)) for n, v in zip(names, w)]
    messages.append(osc_message("/VMC/Ext/Blend/Apply"))
    bones = []
    if head is not None:
        bones.append(("Head", head))
    if eyes is not None:
        bones += [("LeftEye", eyes[0:3]), ("RightEye", eyes[3:6])]
    for bone, (yaw, pitch, roll) in bones:
        q = unity_quaternion(float(yaw), float(pitch), float(roll))
        messages.append(osc_message("/VMC/Ext/Bone/Pos", bone, 0.0, 0.0, 0.0,
                                    *(float(c) for c in q)))
    messages += [osc_message("/VMC/Ext/OK", 1), osc_message("/VMC/Ext/T", float(seconds))]
    return osc_bundle(messages)


class VMCSender:
    """Sends frames to one VMC receiver (a "marionette", or a performer's assistant port)."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, *, names: str = "pascal"):
        self.address = (host, port)
        self.names = blend_names(names)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, seconds: float, weights, head=None, eyes=None) -> bytes:
        packet = frame_bundle(weights, head, eyes, seconds=seconds, names=self.names)
        self.sock.sendto(packet, self.address)
        return packet

    def close(self) -> None:
        self.sock.close()
