"""Live Link Face UDP packets: what the iPhone app sends to Unreal's Live Link (port 11111).

One packet per frame, every number big-endian (network order):

    uint8    packet version, 6
    int32 n, n bytes UTF-8   device id (the app sends its UUID)
    int32 n, n bytes UTF-8   subject name (what Unreal lists as the Live Link subject)
    int32    frame number    the frame of a timecode day: seconds since midnight * rate
    float32  sub-frame       the fraction of that frame, in [0, 1)
    int32    rate numerator, int32 rate denominator   (60, 1 for the phone's 60 fps)
    uint8    value count, 61
    61 x float32             the 52 blendshapes in Unreal's ``EARFaceBlendShape`` order, then
                             HeadYaw HeadPitch HeadRoll, LeftEye Yaw Pitch Roll, RightEye
                             Yaw Pitch Roll (radians)

The value order is the engine enum's, which is not the order of the app's CSV header: the
enum has ``JawLeft, JawRight`` and ``MouthLeft, MouthRight``, the CSV the reverse. Sources:
docs/live-outputs.md, "Live Link Face packets".
"""
from __future__ import annotations

import socket
import struct
import uuid
from collections.abc import Sequence

import numpy as np

from ..arkit import INDEX, LIVE_LINK_EYES, LIVE_LINK_HEAD, LIVE_LINK_ORDER, pascal

PACKET_VERSION = 6
DEFAULT_PORT = 11111
PHONE_FPS = 60
DEFAULT_SUBJECT = "emoface"

# Unreal's EARFaceBlendShape order: the CSV order with the two Left/Right pairs swapped back.
_CSV_TO_ENUM_SWAPS = (("jawRight", "jawLeft"), ("mouthRight", "mouthLeft"))


def _enum_order() -> tuple[str, ...]:
    order = list(LIVE_LINK_ORDER)
    for right, left in _CSV_TO_ENUM_SWAPS:
        i, j = order.index(right), order.index(left)
        order[i], order[j] = order[j], order[i]
    return tuple(order)


PACKET_BLENDSHAPES: tuple[str, ...] = _enum_order()
# The 61 curve names as Unreal shows them, in packet order.
PACKET_NAMES: tuple[str, ...] = (*(pascal(n) for n in PACKET_BLENDSHAPES),
                                 *LIVE_LINK_HEAD, *LIVE_LINK_EYES)
VALUE_COUNT = len(PACKET_NAMES)  # 61
_COLUMNS = np.array([INDEX[n] for n in PACKET_BLENDSHAPES])


def packet_values(weights: Sequence[float], head: Sequence[float] | None = None,
                  eyes: Sequence[float] | None = None) -> np.ndarray:
    """One frame's 61 values in packet order, from weights in ARKit (alphabetical) order,
    head yaw/pitch/roll and the six eye angles (zeros where absent)."""
    w = np.asarray(weights, np.float32)
    h = np.zeros(3, np.float32) if head is None else np.asarray(head, np.float32)
    e = np.zeros(6, np.float32) if eyes is None else np.asarray(eyes, np.float32)
    return np.concatenate([w[_COLUMNS], h, e])


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">i", len(data)) + data


def encode_packet(values: Sequence[float], *, subject: str, device_id: str,
                  frame_number: int, sub_frame: float, fps: int = PHONE_FPS) -> bytes:
    """The bytes of one Live Link Face packet (layout in the module docstring)."""
    values = np.asarray(values, ">f4")
    if values.shape != (VALUE_COUNT,):
        raise ValueError(f"a packet carries {VALUE_COUNT} values, got {values.shape}")
    return b"".join([
        struct.pack(">B", PACKET_VERSION), _string(device_id), _string(subject),
        struct.pack(">ifii", int(frame_number), float(sub_frame), int(fps), 1),
        struct.pack(">B", VALUE_COUNT), values.tobytes(),
    ])


def frame_time(seconds_of_day: float, fps: int) -> tuple[int, float]:
    """(frame number, sub-frame) of a moment, as a timecode at ``fps`` counts it."""
    position = seconds_of_day * fps
    frame = int(np.floor(position))
    return frame, float(position - frame)


def device_id_for(subject: str) -> str:
    """A stable id per subject name, so Unreal keeps one source across restarts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emoface:{subject}")).upper()


class LiveLinkSender:
    """Sends frames to one Unreal host as the Live Link Face app would."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, *, subject: str = DEFAULT_SUBJECT,
                 fps: int = PHONE_FPS):
        self.address = (host, port)
        self.subject, self.fps = subject, int(fps)
        self.device_id = device_id_for(subject)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, seconds_of_day: float, weights, head=None, eyes=None) -> bytes:
        frame, sub = frame_time(seconds_of_day, self.fps)
        packet = encode_packet(packet_values(weights, head, eyes), subject=self.subject,
                               device_id=self.device_id, frame_number=frame, sub_frame=sub,
                               fps=self.fps)
        self.sock.sendto(packet, self.address)
        return packet

    def close(self) -> None:
        self.sock.close()
