"""Speed: real-time factor, latency and peak memory of one system (docs/design.md, Evaluation
protocol).

    emoface dev speed --engine rules [--transcript] [--emotion auto] [--seconds 60]
    emoface dev speed --model [--seconds 60]     the network, per backend
    emoface dev speed --cli [--seconds 60]       `emoface animate`, end to end

each print one JSON line. Run them in a fresh process, as the benchmark does, so that the
peak memory reported is this system's alone. The clip is real recorded speech with its
transcript: the LibriVox clips, then Asterisk prompts, joined with short pauses until it
is at least ``--seconds`` long.

* real-time factor = compute seconds / audio seconds, split into phone timing (forced
  alignment with a transcript, the phone loop without), prosody, and the engine itself;
* cold start: the first utterance of a fresh process (decoders and tables loading);
* latency: an offline engine sees a whole utterance before it emits a frame, so its
  latency is the time from the end of a 5.5 s utterance to its finished animation, warm;
  a streaming engine will report its own first-frame latency here when it exists;
* peak memory: the process's peak resident set (what the OS had to give it), and the
  peak of Python/numpy allocations while animating the clip (tracemalloc; C libraries
  such as the aligner are invisible to it).

``--model`` times the neural engine with each backend it offers (torch, onnxruntime):
the network alone (the time spent inside the predictor's ``decode`` and ``emotion``, so
features, windowing and the nonverbal layer are left out) and the whole engine, with an
explicit emotion and with ``auto`` (which adds the emotion branch).

``--cli`` writes the clip to a WAV file and runs ``emoface animate CLIP -o take.npz
--engine neural`` (default ``auto`` emotion) as a user would: wall clock from process start
to exit, so start-up and imports count, after one untimed run that fills the disk caches
(the ONNX export a first run makes, imported modules). Peak memory is the child's own
(``wait4``), reported with this process's size at the time, which bounds how much of it
Linux may have carried over from the parent.
"""
from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from ..audio.io import SAMPLE_RATE, audio_duration, load_audio
from ..audio.speech import Speech
from ..emotion import EmotionTrack
from ..engines import load_engine
from ..engines.neural.engine import Predictor, animate_with
from ..errors import UserError
from ..outputs import read
from ..paths import shared_data_dir
from .suites import _asterisk, _librivox

PAUSE_S = 0.3
LATENCY_PROMPT = "agent-alreadyon"   # 5.5 s of speech, a typical spoken reply
WARMUP_PROMPT = "vm-goodbye"


def speech_clip(seconds: float):
    """(samples at 16 kHz, transcript) of ``seconds`` (within a second) of real read
    speech: the LibriVox clips, then the longest Asterisk prompts that still fit."""

    root = shared_data_dir()
    chosen, total = [], 0.0
    prompts = sorted(_asterisk(root), key=lambda i: (-audio_duration(i.audio), i.id))
    for item in _librivox(root) + prompts:
        length = audio_duration(item.audio) + PAUSE_S
        if total + length <= seconds + 1.0:
            chosen.append(item)
            total += length
        if total >= seconds - 0.5:
            break
    gap = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    pieces = [part for item in chosen for part in (load_audio(item.audio), gap)]
    return np.concatenate(pieces), " ".join(item.text for item in chosen)


def _prompt(name: str):

    item = next(i for i in _asterisk(shared_data_dir()) if i.id == f"asterisk/{name}")
    return load_audio(item.audio), item.text


def _run(engine, samples: np.ndarray, text: str | None, emotion: str = "neutral") -> dict:
    """Seconds spent in each stage for one utterance by a loaded ``engine``. Engines that
    never read phones (the baselines, the network) get none computed."""

    speech = Speech(samples, 16000, text=text)
    t0 = time.perf_counter()
    if engine.capabilities.reads_transcript:
        speech.phones()
    t1 = time.perf_counter()
    speech.prosody()
    t2 = time.perf_counter()
    engine.animate(speech, emotion, fps=30.0, seed=0)
    t3 = time.perf_counter()
    return {"phones_s": t1 - t0, "prosody_s": t2 - t1, "engine_s": t3 - t2, "total_s": t3 - t0,
            "phone_method": speech.phone_method}


def _peak_rss_mb() -> float:
    """This process's peak resident set. Not getrusage: Linux carries ru_maxrss over
    exec, so a child started by a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(engine: str, transcript: bool, seconds: float, emotion: str = "neutral") -> dict:

    loaded = load_engine(engine)

    def run(samples, text):
        return _run(loaded, samples, text if transcript else None, emotion)

    x, text = _prompt(WARMUP_PROMPT)
    t = time.perf_counter()
    run(x, text)
    cold = time.perf_counter() - t
    cold_audio = len(x) / 16000
    rss_warm = _rss_mb()

    clip, clip_text = speech_clip(seconds)
    duration = len(clip) / 16000
    stages = run(clip, clip_text)
    peak_rss = _peak_rss_mb()

    x, text = _prompt(LATENCY_PROMPT)
    latency = run(x, text)

    tracemalloc.start()
    run(clip, clip_text)
    heap_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "engine": engine, "transcript": transcript, "emotion": emotion, "audio_s": duration,
        "rtf": stages["total_s"] / duration,
        "rtf_phones": stages["phones_s"] / duration, "rtf_prosody": stages["prosody_s"] / duration,
        "rtf_engine": stages["engine_s"] / duration, "stages": stages,
        "cold_start_s": cold, "cold_start_audio_s": cold_audio, "latency_s": latency["total_s"],
        "latency_audio_s": len(x) / 16000, "peak_rss_mb": peak_rss,
        "rss_after_warmup_mb": rss_warm, "heap_peak_mb": heap_peak,
        "phone_method": stages["phone_method"],
    }


# ------------------------------------------------------------------ the network
BACKENDS = ("torch", "onnx")
MODEL_REPEAT = 2


def _timed_network(pred) -> dict:
    """Wrap the predictor's two network calls so the seconds spent inside them add up
    in the returned dict (the instance the engine itself will use)."""
    spent = {"s": 0.0}
    for name in ("decode", "emotion"):
        original = getattr(pred, name)

        def timed(*args, _original=original, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent["s"] += time.perf_counter() - start

        setattr(pred, name, timed)
    return spent


def measure_model(seconds: float, backends=BACKENDS) -> dict:
    """Per backend: load seconds, and the network's and the whole engine's real-time
    factor on the clip with an explicit emotion and with ``auto``."""

    clip, _ = speech_clip(seconds)
    duration = len(clip) / 16000
    warm, _ = _prompt(WARMUP_PROMPT)
    out: dict = {"audio_s": duration, "backends": {}}
    for backend in backends:
        t0 = time.perf_counter()
        try:
            pred = Predictor(None, backend)
        except (UserError, ImportError) as exc:
            out["backends"][backend] = {"error": str(exc)}
            continue
        row: dict = {"load_s": time.perf_counter() - t0, "backend": pred.backend}
        spent = _timed_network(pred)
        animate_with(pred, Speech(warm, 16000), EmotionTrack.constant("neutral"))
        for mode, track in (("explicit", EmotionTrack.constant("neutral")), ("auto", None)):
            engine_s, network_s = [], []
            for _ in range(MODEL_REPEAT):
                speech = Speech(clip, 16000)
                speech.prosody()  # the engine's own share starts after the shared prosody
                spent["s"] = 0.0
                start = time.perf_counter()
                animate_with(pred, speech, track)
                engine_s.append(time.perf_counter() - start)
                network_s.append(spent["s"])
            row[f"model_rtf_{mode}"] = float(np.median(network_s)) / duration
            row[f"engine_rtf_{mode}"] = float(np.median(engine_s)) / duration
        out["backends"][backend] = row
    return out


# --------------------------------------------------------------- the command line
CLI_REPEAT = 2


def _emoface_command() -> list[str]:
    """``emoface`` as installed beside this interpreter, else ``python -m emoface``."""
    script = Path(sys.executable).with_name("emoface")
    return [str(script)] if script.exists() else [sys.executable, "-m", "emoface"]


def _run_child(cmd: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, child's peak RSS in MB, exit code, last stderr line)."""
    import os
    import subprocess

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, proc.returncode, (err.strip().splitlines() or [""])[-1]


def measure_cli(seconds: float) -> dict:
    import tempfile

    import soundfile


    clip, _ = speech_clip(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        wav, take = Path(tmp) / "speech.wav", Path(tmp) / "take.npz"
        soundfile.write(wav, clip, 16000)
        cmd = _emoface_command() + ["animate", str(wav), "-o", str(take), "--engine", "neural"]
        parent_mb = _peak_rss_mb()
        first = _run_child(cmd)
        if first[2] != 0:
            return {"error": first[3] or f"exit code {first[2]}"}
        runs = [_run_child(cmd) for _ in range(CLI_REPEAT)]
        meta = read(take).meta
    return {"audio_s": len(clip) / 16000, "command": "emoface animate CLIP.wav -o take.npz --engine neural",
            "first_wall_s": first[0], "wall_s": float(np.median([r[0] for r in runs])),
            "peak_rss_mb": max(r[1] for r in runs), "parent_peak_rss_mb": parent_mb,
            "engine": meta.get("engine"), "emotion_mode": meta.get("emotion_mode"),
            "backend": meta.get("backend")}


def run(engine: str, transcript: bool, seconds: float, emotion: str, *,
        model: bool = False, cli: bool = False) -> dict:
    """The measurement ``emoface dev speed`` prints as one JSON line: the network alone per
    backend (``model``), ``emoface animate`` end to end (``cli``), else one engine."""
    if model:
        return measure_model(seconds)
    if cli:
        return measure_cli(seconds)
    return measure(engine, transcript, seconds, emotion)
