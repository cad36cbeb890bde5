"""Speed, memory and timing-accuracy figures for the audio stage.

    .venv/bin/python benchmarks/audio_bench.py [--minutes 20] [--json out.json]

Each measurement runs in a fresh process so its peak memory (max RSS) is its own.
Inputs are built from the LibriVox clips in the shared data (concatenated, with pauses)
and from espeak-ng, whose phone events are exact and so serve as the reference for
the aligner's boundaries.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emoface.paths import shared_data_dir  # noqa: E402

LIBRIVOX = "speech/librivox"


def _librivox() -> tuple[list[np.ndarray], list[str]]:
    from emoface.audio.io import load_audio
    folder = shared_data_dir() / LIBRIVOX
    clips, texts = [], []
    for line in (folder / "transcription").read_text().splitlines():
        text, _, name = line.rpartition("(")
        clips.append(load_audio(folder / f"{name.strip(' )')}.wav"))
        texts.append(text)
    return clips, texts


def _long_speech(seconds: float) -> tuple[np.ndarray, str]:
    """LibriVox clips end to end with 0.4 s pauses, repeated to ``seconds``."""
    clips, texts = _librivox()
    pause = np.zeros(int(0.4 * 16000), np.float32)
    pieces, words, total = [], [], 0.0
    while total < seconds:
        for clip, text in zip(clips, texts):
            pieces += [clip, pause]
            words.append(text)
            total += len(clip) / 16000 + 0.4
            if total >= seconds:
                break
    return np.concatenate(pieces), " ".join(words)


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries
    ru_maxrss across exec, so a spawned child would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(queue, name, args):
    baseline = _peak_mb()
    result = globals()[name](*args)
    result["peak_rss_mb"] = round(_peak_mb(), 1)
    result["baseline_rss_mb"] = round(baseline, 1)
    queue.put(result)


def _isolated(name: str, *args) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run, args=(queue, name, args))
    process.start()
    result = queue.get()
    process.join()
    return result


# ------------------------------------------------------------------ measurements

def bench_load(path: str) -> dict:
    from emoface.audio.io import audio_duration, load_audio
    start = time.perf_counter()
    seconds = audio_duration(path)
    header = time.perf_counter() - start
    start = time.perf_counter()
    samples = load_audio(path)
    elapsed = time.perf_counter() - start
    return {"what": "load_audio 44.1 kHz stereo wav", "audio_s": round(seconds, 1),
            "seconds": round(elapsed, 2), "rtf": round(elapsed / seconds, 4),
            "audio_duration_s": round(header, 4), "samples": len(samples)}


def bench_prosody(path: str) -> dict:
    from emoface.audio.io import load_audio
    from emoface.audio.prosody import analyse
    samples = load_audio(path)
    start = time.perf_counter()
    analyse(samples)
    elapsed = time.perf_counter() - start
    return {"what": "prosody.analyse", "audio_s": round(len(samples) / 16000, 1),
            "seconds": round(elapsed, 2), "rtf": round(elapsed / (len(samples) / 16000), 4)}


def bench_align(seconds: float) -> dict:
    from emoface.audio.align import align_detailed
    samples, text = _long_speech(seconds)
    start = time.perf_counter()
    result = align_detailed(samples, text)
    elapsed = time.perf_counter() - start
    audio = len(samples) / 16000
    return {"what": "align (forced alignment)", "audio_s": round(audio, 1),
            "seconds": round(elapsed, 2), "rtf": round(elapsed / audio, 4),
            "method": result.method, "note": result.note}


def bench_phone_loop(seconds: float) -> dict:
    from emoface.audio.align import phone_loop_detailed
    samples, _ = _long_speech(seconds)
    start = time.perf_counter()
    phone_loop_detailed(samples)
    elapsed = time.perf_counter() - start
    audio = len(samples) / 16000
    return {"what": "phone_loop", "audio_s": round(audio, 1), "seconds": round(elapsed, 2),
            "rtf": round(elapsed / audio, 4)}


def bench_phone_loop_silence(seconds: float) -> dict:
    from emoface.audio.align import phone_loop_detailed
    samples = np.zeros(int(seconds * 16000), np.float32)
    start = time.perf_counter()
    result = phone_loop_detailed(samples)
    elapsed = time.perf_counter() - start
    return {"what": "phone_loop on silence", "audio_s": seconds, "seconds": round(elapsed, 3),
            "phones": len(result.phones)}


def bench_boundaries() -> dict:
    """espeak-ng speech, whose phone times are exact, aligned back from its text:
    how far the aligner's word starts are from the truth, and how often a 10 ms frame
    gets the same phone from the aligner / the phone loop as from espeak."""
    from emoface.audio.align import align_detailed, phone_loop_detailed
    from emoface.audio.espeak import synthesize
    from emoface.audio.io import resample
    sentences = ["The quick brown fox jumps over the lazy dog.",
                 ("She sells sea shells by the sea shore, and the shells she sells are surely "
                  "seashells."), "Would you like a cup of tea before we start the meeting?",
                 "My grandmother kept a small garden full of roses behind the old stone house."]
    word_errors, align_agree, loop_agree = [], [], []
    for sentence in sentences:
        samples, sr, truth = synthesize(sentence)
        x = resample(samples, sr, 16000)
        aligned = align_detailed(x, sentence)
        looped = phone_loop_detailed(x)
        true_starts = _word_starts(truth, normalize=True)
        got_starts = _word_starts(aligned.phones)
        if [w for w, _ in true_starts] == [w for w, _ in got_starts]:
            word_errors += [abs(a - b) for (_, a), (_, b) in zip(true_starts, got_starts)]
        frames = np.arange(0, len(x) / 16000, 0.01) + 0.005
        reference = _labels_at(truth, frames)
        align_agree.append(np.mean(_labels_at(aligned.phones, frames) == reference))
        loop_agree.append(np.mean(_labels_at(looped.phones, frames) == reference))
    errors = np.array(word_errors)
    return {"what": "boundaries vs espeak truth", "words": len(errors),
            "word_start_error_median_ms": round(float(np.median(errors)) * 1000, 1),
            "word_start_error_p90_ms": round(float(np.percentile(errors, 90)) * 1000, 1),
            "frame_phone_agreement_alignment": round(float(np.mean(align_agree)), 3),
            "frame_phone_agreement_phone_loop": round(float(np.mean(loop_agree)), 3)}


def _word_starts(phones, normalize: bool = False) -> list[tuple[str, float]]:
    from emoface.audio.transcript import normalize_transcript
    out, previous = [], None
    for p in phones:
        if p.word and (previous is None or previous.word != p.word or previous.is_silence):
            word = " ".join(normalize_transcript(p.word)) if normalize else p.word
            out.append((word, p.start))
        previous = p
    return out


def _labels_at(phones, times: np.ndarray) -> np.ndarray:
    starts = np.array([p.start for p in phones])
    names = np.array([p.phone for p in phones])
    return names[np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(names) - 1)]


def _write_long_file(path: Path, minutes: float) -> None:
    import soundfile as sf

    from emoface.audio.io import resample
    samples, _ = _long_speech(minutes * 60)
    wide = resample(samples, 16000, 44100)
    stereo = np.stack([wide, 0.8 * wide], axis=1)
    sf.write(path, stereo, 44100, subtype="PCM_16")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="length of the long file")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--skip-long", action="store_true", help="no 20-minute runs")
    args = parser.parse_args(argv)
    if not (shared_data_dir() / LIBRIVOX).is_dir():
        print(f"shared data not found at {shared_data_dir()}", file=sys.stderr)
        return 1
    results = []

    def report(result: dict) -> None:
        results.append(result)
        print(json.dumps(result), flush=True)

    report(_isolated("bench_boundaries"))
    report(_isolated("bench_align", 49.0))
    report(_isolated("bench_align", 60.0))
    report(_isolated("bench_phone_loop", 60.0))
    report(_isolated("bench_phone_loop_silence", 600.0))
    if not args.skip_long:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.wav"
            _write_long_file(path, args.minutes)
            report(_isolated("bench_load", str(path)))
            report(_isolated("bench_prosody", str(path)))
        report(_isolated("bench_phone_loop", args.minutes * 60))
        report(_isolated("bench_align", args.minutes * 60))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
