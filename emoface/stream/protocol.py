"""The ``/stream`` WebSocket protocol (docs/live.md): messages in, messages out, limits.

    client  {"sample_rate": 16000, "emotion": "auto", "fps": 30}      first, JSON text
            (optional "engine", "seed", "format": "json" | "binary")
    server  {"event": "ready", ...}                                   names, rates, look-ahead
    client  binary PCM16 little-endian mono, any number of bytes (even)
    server  {"t": 0.0333, "weights": [52], "head": [3], "eyes": [6]}   one per frame
    client  {"emotion": "happy:0.7"}                                  any time
    client  {"event": "end"}                                          flush
    server  last frames, then {"event": "end", "frames": N, "seconds": S}; closes (1000)

A mistake gets ``{"event": "error", "code": ..., "message": ...}`` and a close with one
of the close codes below. Nothing here touches the network: the server calls these.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from ..arkit import ARKIT_NAMES
from ..audio.live_resample import LIVE_RATES, check_live_rate
from ..emotion import parse_emotion
from ..engines.streaming import Frames
from ..errors import UserError

# Close codes (RFC 6455): what each limit answers with.
CLOSE_NORMAL = 1000        # the stream ended ({"event": "end"})
CLOSE_GOING_AWAY = 1001    # idle timeout, server shutting down
CLOSE_POLICY = 1008        # bad config, bad JSON, wrong rate, not reading frames
CLOSE_TOO_BIG = 1009       # a message over the size limit
CLOSE_INTERNAL = 1011      # a bug on our side
CLOSE_BUSY = 1013          # too many sessions: try again later

FRAME_FORMATS = ("json", "binary")
CONFIG_KEYS = {"sample_rate", "emotion", "fps", "engine", "seed", "format"}
MAX_FPS = 120.0
DECIMALS = 4               # weights and angles in JSON frames (1e-4 is far below visible)


class ProtocolError(Exception):
    """A client's mistake: sent to it as an error message, then the connection closes."""

    def __init__(self, code: str, message: str, close_code: int = CLOSE_POLICY):
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


@dataclass(frozen=True)
class StreamConfig:
    sample_rate: int
    emotion: str = "auto"
    fps: float = 30.0
    engine: str | None = None
    seed: int = 0
    format: str = "json"


def _json_object(text, what: str) -> dict:
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise ProtocolError("expected_text", f"{what} must be JSON text, not binary")
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"{what} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ProtocolError("bad_json", f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def parse_config(text) -> StreamConfig:
    """The client's first message -> StreamConfig, or a ProtocolError saying what is wrong."""
    data = _json_object(text, "the first message (the stream's configuration)")
    unknown = sorted(set(data) - CONFIG_KEYS)
    if unknown:
        raise ProtocolError("bad_config", f"unknown configuration keys {unknown}; known: "
                            f"{sorted(CONFIG_KEYS)}")
    if "sample_rate" not in data:
        raise ProtocolError("bad_config", "the configuration needs \"sample_rate\" (one of "
                            f"{', '.join(map(str, LIVE_RATES))})")
    try:
        rate = check_live_rate(data["sample_rate"])
    except UserError as exc:
        raise ProtocolError("bad_sample_rate", str(exc)) from None
    fps = data.get("fps", 30)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not (
            math.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise ProtocolError("bad_config", f"\"fps\" must be a number above 0 and up to "
                            f"{MAX_FPS:g}, got {fps!r}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2**32 - 1:
        raise ProtocolError("bad_config", f"\"seed\" must be a whole number from 0 to "
                            f"{2**32 - 1}, got {seed!r}")
    fmt = data.get("format", "json")
    if fmt not in FRAME_FORMATS:
        raise ProtocolError("bad_config", f"\"format\" must be one of {FRAME_FORMATS}, got {fmt!r}")
    engine = data.get("engine")
    if engine is not None and not isinstance(engine, str):
        raise ProtocolError("bad_config", f"\"engine\" must be a name, got {engine!r}")
    emotion = check_emotion(data.get("emotion", "auto"))
    return StreamConfig(rate, emotion, float(fps), engine, seed, fmt)


def check_emotion(value) -> str:
    if not isinstance(value, str):
        raise ProtocolError("bad_emotion", f"\"emotion\" must be text such as \"auto\" or "
                            f"\"happy:0.7\", got {value!r}")
    try:
        parse_emotion(value, None)
    except UserError as exc:
        raise ProtocolError("bad_emotion", str(exc)) from None
    return value


def parse_control(text) -> tuple[str, str | None]:
    """A text message after the configuration: ("emotion", value) or ("end", None)."""
    data = _json_object(text, "a control message")
    if data.get("event") == "end" and len(data) == 1:
        return "end", None
    if set(data) == {"emotion"}:
        return "emotion", check_emotion(data["emotion"])
    raise ProtocolError("bad_message", "text messages after the configuration are "
                        "{\"emotion\": ...} or {\"event\": \"end\"}; audio is sent as binary")


def error_message(code: str, message: str) -> str:
    return json.dumps({"event": "error", "code": code, "message": message})


def ready_message(cfg: StreamConfig, engine: str, lookahead_s: float) -> str:
    return json.dumps({"event": "ready", "engine": engine, "sample_rate": cfg.sample_rate,
                       "fps": cfg.fps, "format": cfg.format, "names": list(ARKIT_NAMES),
                       "lookahead_ms": round(lookahead_s * 1000, 1)})


def end_message(frames: int, seconds: float) -> str:
    return json.dumps({"event": "end", "frames": frames, "seconds": round(seconds, 4)})


def frame_messages(frames: Frames, fmt: str = "json") -> list[str | bytes]:
    """One message per frame: JSON text, or in the binary variant 62 little-endian
    float32 (t, 52 weights, 3 head, 6 eyes)."""
    t = frames.times
    if fmt == "binary":
        rows = np.concatenate([t[:, None], frames.weights, frames.head, frames.eyes], 1)
        return [row.astype("<f4").tobytes() for row in rows]
    w = np.round(frames.weights.astype(np.float64), DECIMALS).tolist()
    h = np.round(frames.head.astype(np.float64), DECIMALS).tolist()
    e = np.round(frames.eyes.astype(np.float64), DECIMALS).tolist()
    return [json.dumps({"t": round(float(t[i]), 4), "weights": w[i], "head": h[i], "eyes": e[i]},
                       separators=(",", ":")) for i in range(len(t))]

