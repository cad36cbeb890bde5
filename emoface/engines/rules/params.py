"""Parameters of the rule-based animator.

Measured values come from :mod:`emoface.engines.rules.calibration` (statistics of the Live Link
captures; docs/calibration.md). What the captures cannot tell (no head rotation was
recorded; nobody speaks in them) comes from the literature or is set by design, and says so.
"""
from __future__ import annotations

import math

from . import calibration as cal

# ---- blinks
# Listening/idle rate as measured (pooled over all takes); while speaking the literature's
# conversational rate (the captures are silent). Both lie inside the measured per-take range.
BLINK_RATE_REST_PER_MIN = cal.BLINK_RATE_PER_MIN             # 20.1 measured
BLINK_RATE_SPEAKING_PER_MIN = cal.BLINK_RATE_SPEAKING_PER_MIN  # 26, Bentivoglio et al. 1997
BLINK_INTERVAL_GAMMA_SHAPE = 2.0   # gives ~6% of gaps under 0.5 s (measured: 7%)
BLINK_MIN_GAP = 0.4                # s; measured p10 gap 0.63 s, 7% of gaps under 0.5 s
BLINK_SNAP_TO_PAUSE = 1.0          # a blink due within this many s before a pause moves to it
BLINK_CLOSE_S = cal.BLINK_CLOSING_S   # 73 ms measured
BLINK_OPEN_S = cal.BLINK_OPENING_S    # 158 ms measured
BLINK_HOLD_S = 0.02
# ARKit reports real blinks at a median peak of 0.65 (p90 0.86), but rigs (ours, ICT) only
# close the lids at 1.0; we aim at the top of the measured range so a blink reads as one.
BLINK_AMPLITUDE = 0.9

# ---- gaze (sign convention of the captures: yaw + toward the character's right, pitch + down)
SACCADE_INTERVAL_S = 2.4           # calm takes: sad 25/min, angry 15/min (fear scans far more)
SACCADE_DURATION_S = cal.SACCADE_DURATION_S
GAZE_AWAY_PROB = 0.35              # share of fixations that look away from the listener
GAZE_AWAY_YAW = math.radians(6.0)  # gives shifts around the measured median of 3.8 deg
GAZE_AWAY_PITCH = math.radians(3.5)
GAZE_NEAR = math.radians(1.2)
EYE_YAW_PER_WEIGHT = cal.EYE_YAW_RAD_PER_LOOK              # 0.624 rad per unit of eyeLook
EYE_PITCH_UP_PER_WEIGHT = cal.EYE_PITCH_RAD_PER_LOOK_UP    # 0.418
EYE_PITCH_DOWN_PER_WEIGHT = cal.EYE_PITCH_RAD_PER_LOOK_DOWN  # 0.641
LID_FOLLOWS_GAZE_DOWN = 0.3        # upper lid drops with a downward look (by design)

# ---- speech
JAW_LOUDNESS_FLOOR = 0.5           # jaw gain for the quietest voiced speech
TYPICAL_LOUDNESS = 0.7             # loudness (0..1) at which viseme targets apply as written

# ---- prosody-driven brows (by design: the captures have no speech)
ACCENT_MIN_LOUDNESS = 0.35
ACCENT_MIN_SEMITONES = 1.5
ACCENT_MIN_GAP = 0.5
BROW_ACCENT_AMPLITUDE = 0.22       # idle brows peak at 0.03-0.04, expressive takes at 0.3-0.5
EXPRESSION_WOBBLE = 0.08

# ---- head (assumed: no head rotation in the captures)
HEAD_YAW_STD = math.radians(2.5)
HEAD_PITCH_STD = math.radians(2.0)
HEAD_ROLL_STD = math.radians(1.2)
HEAD_TIMESCALE_S = 1.5            # slow drift
HEAD_QUICK_TIMESCALE_S = 0.35     # quicker movements riding on it
HEAD_QUICK_SHARE = 0.3            # share of the variance in the quick part
HEAD_NOD_RAD = math.radians(2.0)
