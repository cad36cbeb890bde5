"""Measured constants for the rule-based animator.

Measured by ``emoface dev livelink-report`` on the 10 shared Live Link Face
captures (../shared/data/livelink: one performer, acted, silent, 60 fps, 5.5 min in all);
docs/calibration.md has the tables, the method and the caveats. Emotion keys follow
:mod:`emoface.emotion`: the folder ``angry_or_disgusted`` supplies both angry and disgusted
(the captures do not tell them apart), ``idle`` supplies neutral; happy, surprised and
contempt were not captured and have no entry. Weights are ARKit units in [0, 1]; an unsided
feature (``browDown``) is the left/right average. "take" = one capture file.

Where the captures cannot tell (no head rotation was recorded; nobody speaks), values come
from the literature or are marked "assumed".
"""
from __future__ import annotations

# ---------------------------------------------------------------------------- blinks
# Blinks are short (half-width <= 0.3 s) closures of both eyes; signal eyeBlink - eyeWide.
BLINK_RATE_PER_MIN = 20.1  # all takes pooled: 110 blinks in 5.48 min
BLINK_RATE_RANGE_PER_MIN = (3.9, 37.2)  # lowest take (fearful 162) and highest (sad 168)
BLINK_RATE_BY_EMOTION = {  # per-folder pooled rate; fearful = wide-eyed stare, few blinks
    "neutral": 22.4, "angry": 24.4, "disgusted": 24.4, "fearful": 8.4, "sad": 26.1}
# Literature, for speech (the captures are silent): Bentivoglio et al. 1997, Movement
# Disorders 12(6):1028-34, 150 adults: 17/min at rest, 26/min in conversation, 4.5 reading.
BLINK_RATE_SPEAKING_PER_MIN = 26.0  # Bentivoglio et al. 1997, conversation mean
BLINK_RATE_REST_PER_MIN = 17.0  # Bentivoglio et al. 1997, rest mean (idle take measured 22.4)
BLINK_INTERVAL_MEDIAN_S = 1.52  # median peak-to-peak gap between consecutive blinks, all takes
BLINK_INTERVAL_RANGE_S = (0.63, 6.4)  # p10-p90 of the same gaps (long-tailed, not periodic)
BLINK_DOUBLE_SHARE = 0.07  # share of gaps under 0.5 s (double blinks / flurries)
BLINK_MIN_GAP_S = 0.2  # detector's minimum separation; no two counted blinks are closer
BLINK_AMPLITUDE = 0.64  # median rise of mean eyeBlink above the surrounding open level
BLINK_PEAK_WEIGHT = 0.65  # median mean-eyeBlink at the peak; ARKit rarely reports 1.0
BLINK_PEAK_WEIGHT_RANGE = (0.37, 0.86)  # p10-p90 of blink peak eyeBlink
BLINK_PEAK_WEIGHT_BY_EMOTION = {  # median blink peak per folder: idle blinks shallow, sad deep
    "neutral": 0.41, "angry": 0.64, "disgusted": 0.64, "fearful": 0.50, "sad": 0.78}
BLINK_CLOSING_S = 0.073  # median time from 10% of the rise to the peak
BLINK_OPENING_S = 0.158  # median time from the peak back to 10% of the rise
BLINK_DURATION_S = 0.239  # median full blink (10% to 10%)
BLINK_DURATION_RANGE_S = (0.16, 0.54)  # p10-p90 of the full blink duration
BLINK_HALF_WIDTH_S = 0.107  # median time above half the rise
LONG_CLOSURES_PER_MIN = 1.6  # 9 closures longer than a blink in 5.48 min (6 sad, 2 angry, 1 fear)
LONG_CLOSURE_DURATION_S = 0.77  # median duration of those closures

# ------------------------------------------------------------------------------ gaze
# Live Link signs: eye yaw + toward the performer's right (eyeLookInLeft, eyeLookOutRight),
# eye pitch + down. Slopes are least squares over frames outside ARKit's dead zone.
EYE_YAW_RAD_PER_LOOK = 0.624  # |yaw| per unit of eyeLookOut - eyeLookIn, both eyes (35.8 deg)
EYE_PITCH_RAD_PER_LOOK = 0.467  # |pitch| per unit of eyeLookUp - eyeLookDown (26.8 deg)
EYE_PITCH_RAD_PER_LOOK_UP = 0.418  # fit of the looking-up frames alone (24.0 deg per unit)
EYE_PITCH_RAD_PER_LOOK_DOWN = 0.641  # fit of the looking-down frames alone (36.7 deg per unit)
EYE_LOOK_DEAD_ZONE_DEG = 1.9  # median over eyes/axes of p95 |rotation| while the weights read 0
SACCADE_RATE_PER_MIN = 36.5  # all takes pooled: 200 saccades (>30 deg/s, >=1 deg, not in blinks)
SACCADE_RATE_BY_EMOTION = {  # per folder; fearful takes scan around, idle stares at the phone
    "neutral": 2.4, "angry": 14.8, "disgusted": 14.8, "fearful": 88.2, "sad": 25.4}
SACCADE_INTERVAL_MEDIAN_S = 0.37  # median onset-to-onset gap, all takes (fear scanning dominates)
SACCADE_INTERVAL_RANGE_S = (0.15, 2.6)  # p10-p90 of the same gaps
SACCADE_AMPLITUDE_DEG = 3.8  # median gaze shift
SACCADE_AMPLITUDE_RANGE_DEG = (1.4, 10.5)  # p10-p90 gaze shift
SACCADE_PEAK_VELOCITY_DEG_S = 83.0  # median peak speed at 60 fps (true saccades are faster)
SACCADE_DURATION_S = 0.05  # median time above 30 deg/s (3 frames at 60 fps)
GAZE_YAW_RANGE_DEG_BY_EMOTION = {  # p5-p95 of conjugate eye yaw per folder
    "neutral": (-0.1, 1.5), "angry": (-1.9, 3.2), "disgusted": (-1.9, 3.2),
    "fearful": (-13.6, 22.5), "sad": (-4.6, 1.8)}
GAZE_PITCH_RANGE_DEG_BY_EMOTION = {  # p5-p95 of eye pitch per folder (+ down)
    "neutral": (-0.3, 5.6), "angry": (-7.6, 4.3), "disgusted": (-7.6, 4.3),
    "fearful": (-12.1, 2.1), "sad": (-12.6, 8.3)}

# ------------------------------------------------------------------ expression levels
# Typical held level (p50 over frames) and peak (p95 over frames) of each feature per folder.
_IDLE_P50 = {
    "browInnerUp": 0.00, "browDown": 0.00, "browOuterUp": 0.00, "eyeWide": 0.00,
    "eyeSquint": 0.00, "cheekSquint": 0.01, "noseSneer": 0.03, "mouthSmile": 0.05,
    "mouthFrown": 0.00, "mouthStretch": 0.00, "mouthDimple": 0.00, "mouthPress": 0.01,
    "mouthShrugLower": 0.03, "mouthShrugUpper": 0.01, "mouthRollLower": 0.03,
    "mouthUpperUp": 0.00, "mouthLowerDown": 0.00, "mouthFunnel": 0.00, "mouthPucker": 0.01,
    "mouthClose": 0.00, "jawOpen": 0.00, "jawForward": 0.00,
}
_IDLE_P95 = {
    "browInnerUp": 0.03, "browDown": 0.00, "browOuterUp": 0.04, "eyeWide": 0.04,
    "eyeSquint": 0.08, "cheekSquint": 0.12, "noseSneer": 0.14, "mouthSmile": 0.20,
    "mouthFrown": 0.02, "mouthStretch": 0.04, "mouthDimple": 0.03, "mouthPress": 0.02,
    "mouthShrugLower": 0.09, "mouthShrugUpper": 0.04, "mouthRollLower": 0.05,
    "mouthUpperUp": 0.03, "mouthLowerDown": 0.07, "mouthFunnel": 0.05, "mouthPucker": 0.04,
    "mouthClose": 0.03, "jawOpen": 0.05, "jawForward": 0.02,
}
_ANGRY_OR_DISGUSTED_P50 = {
    "browInnerUp": 0.04, "browDown": 0.15, "browOuterUp": 0.00, "eyeWide": 0.00,
    "eyeSquint": 0.32, "cheekSquint": 0.25, "noseSneer": 0.13, "mouthSmile": 0.39,
    "mouthFrown": 0.00, "mouthStretch": 0.09, "mouthDimple": 0.05, "mouthPress": 0.02,
    "mouthShrugLower": 0.08, "mouthShrugUpper": 0.07, "mouthRollLower": 0.13,
    "mouthUpperUp": 0.03, "mouthLowerDown": 0.00, "mouthFunnel": 0.00, "mouthPucker": 0.00,
    "mouthClose": 0.00, "jawOpen": 0.00, "jawForward": 0.03,
}
_ANGRY_OR_DISGUSTED_P95 = {
    "browInnerUp": 0.45, "browDown": 0.41, "browOuterUp": 0.56, "eyeWide": 0.18,
    "eyeSquint": 0.59, "cheekSquint": 0.44, "noseSneer": 0.34, "mouthSmile": 0.75,
    "mouthFrown": 0.00, "mouthStretch": 0.24, "mouthDimple": 0.19, "mouthPress": 0.05,
    "mouthShrugLower": 0.30, "mouthShrugUpper": 0.20, "mouthRollLower": 0.25,
    "mouthUpperUp": 0.39, "mouthLowerDown": 0.67, "mouthFunnel": 0.00, "mouthPucker": 0.01,
    "mouthClose": 0.02, "jawOpen": 0.14, "jawForward": 0.21,
}
_FEARFUL_P50 = {
    "browInnerUp": 0.13, "browDown": 0.00, "browOuterUp": 0.00, "eyeWide": 0.32,
    "eyeSquint": 0.16, "cheekSquint": 0.02, "noseSneer": 0.00, "mouthSmile": 0.00,
    "mouthFrown": 0.09, "mouthStretch": 0.08, "mouthDimple": 0.01, "mouthPress": 0.00,
    "mouthShrugLower": 0.00, "mouthShrugUpper": 0.00, "mouthRollLower": 0.01,
    "mouthUpperUp": 0.00, "mouthLowerDown": 0.08, "mouthFunnel": 0.14, "mouthPucker": 0.03,
    "mouthClose": 0.08, "jawOpen": 0.10, "jawForward": 0.04,
}
_FEARFUL_P95 = {
    "browInnerUp": 0.30, "browDown": 0.52, "browOuterUp": 0.40, "eyeWide": 0.53,
    "eyeSquint": 0.36, "cheekSquint": 0.07, "noseSneer": 0.01, "mouthSmile": 0.00,
    "mouthFrown": 0.20, "mouthStretch": 0.15, "mouthDimple": 0.02, "mouthPress": 0.00,
    "mouthShrugLower": 0.03, "mouthShrugUpper": 0.02, "mouthRollLower": 0.03,
    "mouthUpperUp": 0.02, "mouthLowerDown": 0.18, "mouthFunnel": 0.44, "mouthPucker": 0.08,
    "mouthClose": 0.17, "jawOpen": 0.26, "jawForward": 0.07,
}
_SAD_P50 = {
    "browInnerUp": 0.20, "browDown": 0.18, "browOuterUp": 0.00, "eyeWide": 0.06,
    "eyeSquint": 0.22, "cheekSquint": 0.07, "noseSneer": 0.04, "mouthSmile": 0.00,
    "mouthFrown": 0.05, "mouthStretch": 0.04, "mouthDimple": 0.00, "mouthPress": 0.01,
    "mouthShrugLower": 0.12, "mouthShrugUpper": 0.08, "mouthRollLower": 0.13,
    "mouthUpperUp": 0.00, "mouthLowerDown": 0.00, "mouthFunnel": 0.00, "mouthPucker": 0.00,
    "mouthClose": 0.00, "jawOpen": 0.00, "jawForward": 0.01,
}
_SAD_P95 = {
    "browInnerUp": 0.34, "browDown": 0.32, "browOuterUp": 0.00, "eyeWide": 0.27,
    "eyeSquint": 0.37, "cheekSquint": 0.14, "noseSneer": 0.16, "mouthSmile": 0.04,
    "mouthFrown": 0.28, "mouthStretch": 0.09, "mouthDimple": 0.00, "mouthPress": 0.02,
    "mouthShrugLower": 0.29, "mouthShrugUpper": 0.24, "mouthRollLower": 0.21,
    "mouthUpperUp": 0.00, "mouthLowerDown": 0.00, "mouthFunnel": 0.00, "mouthPucker": 0.02,
    "mouthClose": 0.00, "jawOpen": 0.00, "jawForward": 0.02,
}

EMOTION_LEVELS: dict[str, dict[str, float]] = {  # p50 per folder (held level)
    "neutral": _IDLE_P50, "angry": _ANGRY_OR_DISGUSTED_P50, "disgusted": _ANGRY_OR_DISGUSTED_P50,
    "fearful": _FEARFUL_P50, "sad": _SAD_P50}
EMOTION_PEAKS: dict[str, dict[str, float]] = {  # p95 per folder (what the face reaches)
    "neutral": _IDLE_P95, "angry": _ANGRY_OR_DISGUSTED_P95, "disgusted": _ANGRY_OR_DISGUSTED_P95,
    "fearful": _FEARFUL_P95, "sad": _SAD_P95}
NEUTRAL_BASELINE: dict[str, float] = {  # idle take's mean: ARKit's resting offsets of this face
    "mouthSmile": 0.06, "noseSneer": 0.04, "cheekSquint": 0.03, "mouthShrugLower": 0.03,
    "mouthRollLower": 0.03, "eyeBlink": 0.03, "eyeSquint": 0.02, "mouthPucker": 0.02,
    "mouthLowerDown": 0.01, "jawOpen": 0.01, "mouthClose": 0.01}
# ARKit reads this performer's angry/disgusted grimace (lips pulled back, teeth bared) as
# mouthSmile 0.3-0.6 with mouthLowerDown and mouthUpperUp; do not read it as a smile cue.
ANGRY_GRIMACE_SMILE = 0.39  # angry_or_disgusted p50 of mouthSmile, present in all 3 takes

# ------------------------------------------------------------------------ asymmetry
LOWER_FACE_ASYMMETRY = 0.20  # median mean|L-R|/level over mouth, cheek and nose pairs
MOUTH_STRETCH_LEFT_BIAS = 0.035  # mean mouthStretchLeft - Right (this performer's habit)
BLINK_ASYMMETRY = 0.07  # mean|L-R|/level of eyeBlink; L/R correlation 0.99
UPPER_FACE_ASYMMETRY = 0.0  # browOuterUp/eyeSquint/eyeWide L-R < 0.03 every frame: ARKit ties them

# ------------------------------------------------------------------------ smoothness
JITTER_30FPS = 0.0026  # mean |2nd difference| over all 52 channels at 30 fps, all takes
JITTER_30FPS_MEDIAN_CHANNEL = 0.0010  # median over the 52 channels (blinks do not sway it)
JITTER_30FPS_BY_EMOTION = {  # all-channel mean per folder
    "neutral": 0.0011, "angry": 0.0031, "disgusted": 0.0031, "fearful": 0.0020, "sad": 0.0035}
JITTER_30FPS_EYEBLINK = 0.0156  # eyeBlink channels alone (dominated by the blinks themselves)

# ------------------------------------------------------------- head (not recorded)
# HeadYaw/Pitch/Roll are zero in every capture, so nothing here is measured. Munhall et al.
# 2004 (Psychological Science 15(2):133-7) found head motion during speech correlates
# strongly with F0 and amplitude, so drive it from prosody; Busso et al. 2007 (IEEE TASLP
# 15(3):1075-86) found emotional speech differs from neutral in head-motion activation, range
# and velocity. The magnitudes below are not taken from either paper.
HEAD_YAW_STD_DEG = 2.5  # assumed
HEAD_PITCH_STD_DEG = 2.0  # assumed
HEAD_ROLL_STD_DEG = 1.2  # assumed
HEAD_MOTION_GAIN_BY_EMOTION = {  # assumed: direction per Busso et al. 2007 not verified here
    "neutral": 1.0, "happy": 1.2, "sad": 0.7, "angry": 1.3, "fearful": 1.1,
    "disgusted": 1.0, "surprised": 1.2, "contempt": 0.9}

# --------------------------------------------------------------------- speech (silent)
# No take contains speech (jawOpen peaks <= 0.13/s, <= 1% of its variance in 2-8 Hz, where
# syllables would put most of it), so no articulation constant is measured here.
JAW_HELD_OPEN_FEARFUL = 0.10  # fearful p50 jawOpen: the mouth hangs open in fear (0.19 in take 162)
