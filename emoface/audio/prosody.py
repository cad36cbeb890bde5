"""Prosody on a 100 Hz grid: loudness, pitch and voicing, from Praat (parselmouth).

Loudness comes twice: ``loudness_db`` as Praat measures it (dB re 2e-5 with samples taken
as pascals, so full scale is about 91 dB), and ``loudness`` normalised to 0..1 within the
utterance between a noise floor (a low percentile) and the loud vowels (a high percentile),
so that animation does not depend on recording level. Long inputs are analysed in chunks
with overlap, which bounds memory and gives the same frames as one pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import parselmouth

from .io import SAMPLE_RATE

FRAME_RATE = 100            # frames per second of every Prosody
PITCH_FLOOR_HZ = 60.0       # low male voices; sets Praat's window (3 periods = 50 ms)
PITCH_CEILING_HZ = 650.0    # excited or fearful high voices reach well above 500 Hz
SILENCE_DB = 20.0           # Praat dB this low is digital silence (about -71 dBFS)
MIN_SPAN_DB = 15.0          # never stretch less than this range of dB to 0..1
FLOOR_PERCENTILE = 5.0
PEAK_PERCENTILE = 98.0
_CHUNK_SECONDS = 60.0
_CONTEXT_SECONDS = 1.0      # well over Praat's longest analysis window


@dataclass(frozen=True, eq=False)  # arrays: equality would be ambiguous
class Prosody:
    """Per-frame prosody; frame ``k`` is centred at ``times[k] = k / FRAME_RATE`` seconds."""

    times: np.ndarray        # (N,) float64 seconds
    loudness_db: np.ndarray  # (N,) float32, Praat intensity dB, floored at 0
    loudness: np.ndarray     # (N,) float32 in [0, 1], normalised within the utterance
    f0: np.ndarray           # (N,) float32 Hz, 0 where unvoiced
    voiced: np.ndarray       # (N,) bool

    def __len__(self) -> int:
        return len(self.times)

    @property
    def duration(self) -> float:
        return len(self.times) / FRAME_RATE

    def loudness_at(self, times: np.ndarray | float) -> np.ndarray:
        """Normalised loudness at arbitrary times (linear interpolation)."""
        return self._interp(self.loudness, times)

    def loudness_db_at(self, times: np.ndarray | float) -> np.ndarray:
        return self._interp(self.loudness_db, times)

    def voiced_at(self, times: np.ndarray | float) -> np.ndarray:
        """Voicing of the nearest frame."""
        return self.voiced[self._nearest(times)] if len(self) else np.zeros(np.shape(times), bool)

    def f0_at(self, times: np.ndarray | float) -> np.ndarray:
        """f0 in Hz at arbitrary times: interpolated between voiced frames, 0 where the
        nearest frame is unvoiced (pitch is never invented across a voiceless stretch)."""
        if not len(self):
            return np.zeros(np.shape(times), np.float32)
        idx = self._nearest(times)
        t = np.asarray(times, dtype=np.float64)
        pos = np.clip(t * FRAME_RATE, 0, len(self) - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, len(self) - 1)
        frac = pos - lo
        both = self.voiced[lo] & self.voiced[hi]
        blended = (1 - frac) * self.f0[lo] + frac * self.f0[hi]
        out = np.where(both, blended, self.f0[idx])
        return np.where(self.voiced[idx], out, 0.0).astype(np.float32)

    def semitones(self) -> np.ndarray:
        """f0 in semitones relative to the utterance's median voiced f0 (0 when unvoiced):
        the speaker-independent pitch movement that expression follows."""
        out = np.zeros(len(self), np.float32)
        if self.voiced.any():
            ref = float(np.median(self.f0[self.voiced]))
            out[self.voiced] = 12.0 * np.log2(self.f0[self.voiced] / ref)
        return out

    def at(self, times: np.ndarray) -> Prosody:
        """The same prosody sampled at other times (e.g. animation frames)."""
        t = np.asarray(times, dtype=np.float64)
        return Prosody(times=t, loudness_db=self.loudness_db_at(t).astype(np.float32),
                       loudness=self.loudness_at(t).astype(np.float32),
                       f0=self.f0_at(t), voiced=self.voiced_at(t).astype(bool))

    def _interp(self, values: np.ndarray, times) -> np.ndarray:
        if not len(self):
            return np.zeros(np.shape(times), np.float32)
        return np.interp(np.asarray(times, np.float64), self.times, values).astype(np.float32)

    def _nearest(self, times) -> np.ndarray:
        t = np.asarray(times, dtype=np.float64)
        return np.clip(np.rint(t * FRAME_RATE), 0, len(self) - 1).astype(int)


def normalise_loudness(loudness_db: np.ndarray) -> np.ndarray:
    """Map dB to 0..1 between the utterance's noise floor and its loud peaks.

    Percentiles rather than min/max, so a click or a dropout does not set the scale; the
    floor is never put below digital silence (pure silence stays 0) and the span is at
    least MIN_SPAN_DB (a steady tone is loud, not noise)."""
    db = np.asarray(loudness_db, dtype=np.float64)
    if db.size == 0:
        return np.zeros(0, np.float32)
    floor_db = float(np.percentile(db, FLOOR_PERCENTILE))
    peak_db = float(np.percentile(db, PEAK_PERCENTILE))
    floor_db = max(min(floor_db, peak_db - MIN_SPAN_DB), SILENCE_DB)
    span = max(peak_db - floor_db, MIN_SPAN_DB)
    return np.clip((db - floor_db) / span, 0.0, 1.0).astype(np.float32)


def analyse(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Prosody:
    """Prosody of mono ``samples`` on the 100 Hz grid (``ceil(duration * 100)`` frames)."""
    x = np.asarray(samples).ravel()  # float64 only chunk by chunk: bounded memory
    n_frames = math.ceil(len(x) / sample_rate * FRAME_RATE) if len(x) else 0
    times = np.arange(n_frames, dtype=np.float64) / FRAME_RATE
    loud_db = np.zeros(n_frames, np.float32)
    f0 = np.zeros(n_frames, np.float32)
    chunk = int(_CHUNK_SECONDS * FRAME_RATE)
    context = int(_CONTEXT_SECONDS * sample_rate)
    for first in range(0, n_frames, chunk):
        last = min(first + chunk, n_frames)
        a = max(0, int(first / FRAME_RATE * sample_rate) - context)
        b = min(len(x), int(last / FRAME_RATE * sample_rate) + context)
        seg_db, seg_f0 = _analyse_piece(x[a:b], sample_rate, times[first:last] - a / sample_rate)
        loud_db[first:last] = seg_db
        f0[first:last] = seg_f0
    voiced = f0 > 0
    return Prosody(times=times, loudness_db=loud_db, loudness=normalise_loudness(loud_db),
                   f0=f0, voiced=voiced)


def _analyse_piece(x: np.ndarray, sample_rate: int, times: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Praat intensity and pitch of one stretch, sampled at ``times`` (relative to x[0])."""
    # Praat refuses a sound shorter than its analysis window; silence around is harmless.
    x = np.asarray(x, dtype=np.float64)
    min_len = int(0.2 * sample_rate)
    if len(x) < min_len:
        x = np.concatenate([x, np.zeros(min_len - len(x))])
    if not np.any(x):
        return np.zeros(len(times), np.float32), np.zeros(len(times), np.float32)
    sound = parselmouth.Sound(x, sampling_frequency=sample_rate)
    step = 1.0 / FRAME_RATE

    intensity = sound.to_intensity(minimum_pitch=100.0, time_step=step, subtract_mean=True)
    db = np.nan_to_num(intensity.values[0], nan=0.0, posinf=0.0, neginf=0.0)
    db_times = intensity.xs()
    if len(db_times):
        db_out = np.interp(times, db_times, np.maximum(db, 0.0), left=0.0, right=0.0)
    else:
        db_out = np.zeros(len(times))
    # intensity frames start half a window in; hold the edge values rather than drop to 0
    if len(db_times):
        db_out[times < db_times[0]] = max(float(db[0]), 0.0)
        db_out[times > db_times[-1]] = max(float(db[-1]), 0.0)

    pitch = sound.to_pitch_ac(time_step=step, pitch_floor=PITCH_FLOOR_HZ,
                              pitch_ceiling=PITCH_CEILING_HZ)
    hz = np.nan_to_num(pitch.selected_array["frequency"], nan=0.0)
    pitch_times = pitch.xs()
    f0_out = np.zeros(len(times))
    if len(pitch_times):
        idx = np.rint((times - pitch_times[0]) / step).astype(int)
        inside = (idx >= 0) & (idx < len(hz))
        f0_out[inside] = hz[idx[inside]]
    return db_out.astype(np.float32), f0_out.astype(np.float32)
