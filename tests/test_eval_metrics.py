"""Every evaluation metric on hand-made cases with a known answer."""
import numpy as np
import pytest
from conftest import need

from emoface.animation import Animation
from emoface.arkit import INDEX, LIPS_MEET, NUM_BLENDSHAPES
from emoface.audio.phones import Phone
from emoface.eval import emotion, lipsync, motion, vertex
from emoface.rig.model import Rig


# ------------------------------------------------------------------------ vertex
def _random_meshes(seed=0, frames=5, vertices=40):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(frames, vertices, 3)) * 10


def test_identical_meshes_have_zero_vertex_errors():
    m = _random_meshes()
    idx = np.arange(10)
    assert vertex.lve(m, m.copy(), idx) == 0
    assert vertex.eve(m, m.copy(), idx) == 0
    assert vertex.mve(m, m.copy()) == 0
    assert vertex.fdd(m, m.copy(), m[0], idx) == 0


def test_one_lip_vertex_shifted_2mm_every_frame_gives_lve_2mm():
    ref = _random_meshes(frames=7)
    pred = ref.copy()
    lips = np.array([3, 4, 5, 6])
    pred[:, 5] += np.array([0.0, 2.0, 0.0])  # 2 mm up, every frame
    assert vertex.lve(pred, ref, lips) == pytest.approx(2.0)
    assert vertex.eve(pred, ref, np.array([10, 11])) == 0
    assert vertex.mve(pred, ref) == pytest.approx(2.0 / ref.shape[1])


def test_lve_takes_the_worst_vertex_per_frame_then_averages_frames():
    ref = np.zeros((2, 3, 3))
    pred = ref.copy()
    pred[0, 0, 0] = 1.0    # frame 0: errors 1 and 3 -> worst 3
    pred[0, 1, 2] = 3.0
    pred[1, 2, 1] = 4.0    # frame 1: worst 4
    assert vertex.lve(pred, ref) == pytest.approx(3.5)


def test_fdd_compares_the_spread_of_motion_over_time():
    neutral = np.zeros((2, 3))
    ref = np.zeros((4, 2, 3))
    ref[:, :, 0] = 1.0                       # displaced but still: std 0
    pred = np.zeros((4, 2, 3))
    pred[:, 0, 0] = [0.0, 2.0, 0.0, 2.0]     # vertex 0 moves: displacement std 1
    assert vertex.fdd(pred, ref, neutral) == pytest.approx(0.5)  # mean of |1 - 0| and |0 - 0|


def _tiny_rig():
    """Four vertices in cm: 0-1 lips, 2-3 upper face. jawOpen moves vertex 0 down 0.2 cm;
    browInnerUp moves vertices 2 and 3 up 0.1 cm."""
    neutral = np.zeros((4, 3), np.float32)
    deltas = np.zeros((2, 4, 3), np.float32)
    deltas[0, 0, 1] = -0.2
    deltas[1, 2:, 1] = 0.1
    mapping = np.zeros((2, NUM_BLENDSHAPES), np.float32)
    mapping[0, INDEX["jawOpen"]] = 1
    mapping[1, INDEX["browInnerUp"]] = 1
    return Rig("tiny", neutral, deltas, ["jawOpen", "browInnerUp"], np.zeros((0, 3), np.int32),
               mapping, {"lips": np.array([0, 1]), "upper_face": np.array([2, 3]),
                         "face": np.arange(4)}, units="cm")


def test_vertex_metrics_from_weights_in_mm():
    rig = _tiny_rig()
    ref = np.zeros((6, NUM_BLENDSHAPES), np.float32)
    pred = ref.copy()
    pred[:, INDEX["jawOpen"]] = 1.0                   # vertex 0 moves 2 mm, every frame
    pred[::2, INDEX["browInnerUp"]] = 1.0             # brows 1 mm up on every other frame
    e = vertex.vertex_metrics(Animation(pred), Animation(ref), rig)
    assert e.lve == pytest.approx(2.0, abs=1e-5)
    assert e.eve == pytest.approx(0.5, abs=1e-5)      # 1 mm on half the frames
    assert e.mve == pytest.approx((2.0 + 0.5 * 2 * 1.0) / 4, abs=1e-5)
    assert e.fdd == pytest.approx(0.5, abs=1e-5)      # brow displacement std 0.5 mm vs 0
    assert e.frames == 6


def test_vertex_metrics_chunking_matches_one_pass(monkeypatch):
    rig = _tiny_rig()
    rng = np.random.default_rng(1)
    a, b = rng.random((50, NUM_BLENDSHAPES)), rng.random((50, NUM_BLENDSHAPES))
    whole = vertex.vertex_metrics(a, b, rig)
    monkeypatch.setattr(vertex, "CHUNK_FRAMES", 7)
    assert vertex.vertex_metrics(a, b, rig).as_dict() == pytest.approx(whole.as_dict(), rel=1e-5)


def test_vertex_metrics_on_ict_facekit(shared_data):
    need(shared_data / "ict-facekit" / "ict_facekit.npz")
    rng = np.random.default_rng(0)
    w = rng.random((20, NUM_BLENDSHAPES)).astype(np.float32) * 0.5
    same = vertex.vertex_metrics(Animation(w), Animation(w.copy()))
    assert (same.lve, same.eve, same.mve, same.fdd) == (0, 0, 0, 0)
    jaw = w.copy()
    jaw[:, INDEX["jawOpen"]] = np.clip(jaw[:, INDEX["jawOpen"]] + 0.3, 0, 1)
    moved = vertex.vertex_metrics(Animation(jaw), Animation(w))
    assert moved.lve > 1.0          # a 0.3 jaw drop moves the lower lip by millimetres
    assert moved.lve > moved.eve    # ...and the lips far more than the upper face
    # against explicit meshes from Rig.evaluate, in mm
    rig = vertex.reference_rig()
    p, r = rig.evaluate(jaw) * 10, rig.evaluate(w) * 10
    assert moved.lve == pytest.approx(vertex.lve(p, r, rig.regions["lips"]), rel=1e-4)
    assert moved.fdd == pytest.approx(
        vertex.fdd(p, r, rig.neutral * 10, rig.regions["upper_face"]), rel=1e-3, abs=1e-4)


def test_prediction_is_resampled_to_the_reference_rate():
    rig = _tiny_rig()
    ref = Animation(np.zeros((30, NUM_BLENDSHAPES)), 30)
    pred = Animation(np.zeros((60, NUM_BLENDSHAPES)), 60)
    assert vertex.vertex_metrics(pred, ref, rig).frames == 30


# ---------------------------------------------------------------------- lip sync
def _open_mouth(frames, value=0.4):
    w = np.zeros((frames, NUM_BLENDSHAPES), np.float32)
    w[:, INDEX["jawOpen"]] = value
    return w


def test_closure_counts_bilabials_with_a_closed_frame():
    w = _open_mouth(30)
    w[5, INDEX["jawOpen"]] = 0.0              # lips meet at frame 5 only
    phones = [Phone(0.10, 0.20, "P"), Phone(0.40, 0.50, "M"), Phone(0.20, 0.40, "AA")]
    result = lipsync.bilabial_closure(w, 30.0, phones)
    assert (result.closed, result.total, result.rate) == (1, 2, 0.5)
    assert result.missed == [(0.4, 0.5, "M")]


def test_closure_uses_the_aperture_threshold():
    w = _open_mouth(10, LIPS_MEET * 0.99)
    assert lipsync.bilabial_closure(w, 30, [Phone(0, 0.3, "B")]).rate == 1.0
    w = _open_mouth(10, LIPS_MEET * 1.01)
    assert lipsync.bilabial_closure(w, 30, [Phone(0, 0.3, "B")]).rate == 0.0
    # mouthClose cancels the jaw: the lips meet with the jaw open
    w = _open_mouth(10, 0.3)
    w[:, INDEX["mouthClose"]] = 0.3
    assert lipsync.bilabial_closure(w, 30, [Phone(0, 0.3, "B")]).rate == 1.0


def test_closure_short_phone_uses_the_nearest_frame():
    w = _open_mouth(10)
    w[3, INDEX["jawOpen"]] = 0.0
    # 0.101-0.109 s holds no frame instant; its centre is nearest frame 3 (0.1 s)
    assert lipsync.bilabial_closure(w, 30, [Phone(0.101, 0.109, "P")]).rate == 1.0


def test_closure_without_bilabials_is_nan():
    assert np.isnan(lipsync.bilabial_closure(_open_mouth(5), 30, [Phone(0, 0.1, "AA")]).rate)


def test_curve_against_itself_shifted_three_frames_gives_lag_3_r_1():
    rng = np.random.default_rng(0)
    curve = np.convolve(rng.random(200), np.ones(5) / 5, "same")
    late = np.concatenate([np.zeros(3), curve[:-3]])   # the prediction comes 3 frames late
    result = lipsync.best_lag_correlation(late, curve, max_lag=3)
    assert result.lag == 3
    assert result.r == pytest.approx(1.0)
    assert result.lag_ms == pytest.approx(100.0)
    early = lipsync.best_lag_correlation(curve[3:], curve[:-3], max_lag=3)
    assert early.lag == -3 and early.r == pytest.approx(1.0)


def test_mouth_opening_correlation_on_weights_searches_100ms():
    rng = np.random.default_rng(1)
    jaw = np.clip(np.convolve(rng.random(300), np.ones(4) / 4, "same"), 0, 1)
    ref = _open_mouth(300)
    ref[:, INDEX["jawOpen"]] = jaw
    pred = np.roll(ref, 2, axis=0)
    result = lipsync.mouth_opening_correlation(pred, ref, 30.0)
    assert result.lag == 2 and result.r == pytest.approx(1.0, abs=1e-9)


def test_unrelated_and_flat_curves():
    rng = np.random.default_rng(2)
    r = lipsync.best_lag_correlation(rng.random(3000), rng.random(3000), 3).r
    assert abs(r) < 0.1
    flat = lipsync.best_lag_correlation(np.zeros(100), rng.random(100), 3)
    assert flat.r == 0.0 and flat.lag == 0


def _pose(name):
    w = np.zeros(NUM_BLENDSHAPES, np.float32)
    poses = {
        "closed": {"jawOpen": 0.02},
        "lip_teeth": {"jawOpen": 0.08, "mouthRollLower": 0.5},
        "rounded": {"jawOpen": 0.1, "mouthPucker": 0.6},
        "open": {"jawOpen": 0.5, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3},
        "spread": {"jawOpen": 0.12, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3},
        "rest": {"jawOpen": 0.12},
    }
    for k, v in poses[name].items():
        w[INDEX[k]] = v
    return w


def test_viseme_classes_of_hand_made_poses():
    names = ["closed", "lip_teeth", "rounded", "open", "spread"]
    w = np.stack([_pose(n) for n in names + ["rest"]])
    got = lipsync.viseme_classes(w)
    assert [lipsync.VISEME_CLASSES[k] for k in got[:5]] == names
    assert got[5] == lipsync.OTHER


def test_viseme_accuracy_counts_centre_frames():
    order = ["closed", "open", "rounded", "spread", "lip_teeth", "open"]
    w = np.stack([_pose(n) for n in order for _ in range(3)])   # 3 frames each, 30 fps
    phones = [Phone(0.0, 0.1, "M"), Phone(0.1, 0.2, "AA"), Phone(0.2, 0.3, "UW"),
              Phone(0.3, 0.4, "IY"), Phone(0.4, 0.5, "F"), Phone(0.5, 0.6, "AE"),
              Phone(0.5, 0.6, "T")]                              # T is not judged
    result = lipsync.viseme_accuracy(w, 30.0, phones)
    assert (result.correct, result.total, result.accuracy) == (6, 6, 1.0)
    wrong = [Phone(p.start, p.end, {"M": "AA", "AA": "M"}.get(p.phone, p.phone)) for p in phones]
    assert lipsync.viseme_accuracy(w, 30.0, wrong).correct == 4


def test_viseme_agreement_of_identical_curves_is_one():
    w = np.stack([_pose(n) for n in ["closed", "open", "rounded", "rest"] for _ in range(4)])
    assert lipsync.viseme_agreement(w, w) == 1.0
    assert lipsync.viseme_agreement(np.zeros_like(w), w) < 0.5


# ------------------------------------------------------------------------ motion
def test_jitter_of_smooth_and_alternating_curves():
    ramp = np.linspace(0, 1, 60)[:, None] * np.ones((1, NUM_BLENDSHAPES))
    assert motion.jitter(Animation(ramp, 30)) == pytest.approx(0.0, abs=1e-7)
    w = np.zeros((60, NUM_BLENDSHAPES), np.float32)
    w[::2, INDEX["jawOpen"]] = 1.0                    # 1, 0, 1, 0: |second difference| = 2
    assert motion.jitter(Animation(w, 30)) == pytest.approx(2.0 / NUM_BLENDSHAPES)


def _blinks(times, duration=60.0, fps=30.0):
    t = np.arange(int(duration * fps)) / fps
    lid = np.zeros_like(t)
    for b in times:   # closes in 0.1 s, opens in 0.2 s
        lid = np.maximum(lid, np.interp(t, [b - 0.1, b, b + 0.2], [0, 1, 0], left=0, right=0))
    w = np.zeros((len(t), NUM_BLENDSHAPES), np.float32)
    w[:, INDEX["eyeBlinkLeft"]] = w[:, INDEX["eyeBlinkRight"]] = lid
    return Animation(w, fps)


def test_blink_rate_counts_blinks_per_minute():
    anim = _blinks(np.arange(2.0, 60.0, 4.0))        # 15 blinks in a minute
    assert motion.blink_rate(anim) == pytest.approx(15.0)
    half = _blinks(np.arange(2.0, 30.0, 4.0), duration=30.0)   # 7 in half a minute
    assert motion.blink_rate(half) == pytest.approx(14.0)
    assert motion.pooled_blink_rate([anim, half]) == pytest.approx(22 / 1.5)
    assert motion.blink_rate(_blinks([])) == 0.0


def test_diversity_is_mean_pairwise_distance():
    a = np.zeros((10, NUM_BLENDSHAPES))
    b = a.copy()
    b[:, INDEX["jawOpen"]] = 0.3
    b[:, INDEX["mouthClose"]] = 0.4                  # |(0.3, 0.4)| = 0.5
    c = a.copy()
    assert motion.diversity([a, a.copy(), a.copy()]) == 0.0
    assert motion.diversity([a, b]) == pytest.approx(0.5)
    assert motion.diversity([a, b, c]) == pytest.approx((0.5 + 0.0 + 0.5) / 3)
    assert motion.diversity([a]) == 0.0
    rig = _tiny_rig()
    d = a.copy()
    d[:, INDEX["jawOpen"]] = 1.0                     # vertex 0 of 4 moves 2 mm
    assert motion.diversity([a, d], rig) == pytest.approx(0.5)


# ----------------------------------------------------------------------- emotion
SIX = ["angry", "disgusted", "fearful", "happy", "sad", "neutral"]


def test_always_neutral_gets_uar_one_over_classes():
    y = [e for e in SIX for _ in range(5)] + ["neutral"] * 20     # imbalance does not matter
    assert emotion.uar(y, ["neutral"] * len(y), SIX) == pytest.approx(1 / 6)
    result = emotion.leave_one_speaker_out(np.zeros((len(y), 1)), y, [k % 3 for k in range(len(y))],
                                           lambda: emotion.AlwaysClassifier("neutral"), SIX)
    assert result.uar == pytest.approx(1 / 6)


def test_uar_and_confusion_matrix_known_counts():
    y_true = ["a", "a", "a", "a", "b", "b"]
    y_pred = ["a", "a", "a", "b", "b", "a"]
    assert emotion.uar(y_true, y_pred) == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert emotion.accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    cm = emotion.confusion_matrix(y_true, y_pred, ["a", "b"])
    assert cm.tolist() == [[3, 1], [1, 1]]
    assert emotion.uar(y_true, y_true) == 1.0


def test_softmax_classifier_separates_and_round_trips():
    rng = np.random.default_rng(0)
    centres = {"x": [0, 0], "y": [4, 0], "z": [0, 4]}
    X = np.concatenate([rng.normal(c, 0.5, size=(30, 2)) for c in centres.values()])
    y = [k for k in centres for _ in range(30)]
    clf = emotion.SoftmaxClassifier(list(centres), l2=0.1).fit(X, y)
    assert emotion.accuracy(y, clf.predict(X)) > 0.97
    again = emotion.SoftmaxClassifier.from_dict(clf.to_dict())
    assert np.allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-4)
    soft = np.full((len(X), 3), 1 / 3)                # uninformative targets: flat answers
    flat = emotion.SoftmaxClassifier(list(centres), l2=1.0).fit(X, soft)
    assert np.allclose(flat.predict_proba(X), 1 / 3, atol=1e-3)


def test_leave_one_speaker_out_never_tests_on_training_speakers():
    seen = []

    class Spy(emotion.AlwaysClassifier):
        def fit(self, X, y, sample_weight=None):
            seen.append(set(X[:, 0].astype(int)))
            return self

    X = np.array([[s] for s in (1, 1, 2, 2, 3)], float)
    emotion.leave_one_speaker_out(X, ["a"] * 5, [1, 1, 2, 2, 3], lambda: Spy("a"), ["a"])
    assert seen == [{2, 3}, {1, 3}, {1, 2}]


def test_voice_features_are_finite_and_see_pitch():
    sr = 16000
    t = np.arange(sr) / sr
    low = 0.3 * np.sin(2 * np.pi * 110 * t) * (t > 0.2)
    high = 0.3 * np.sin(2 * np.pi * 220 * t) * (t > 0.2)
    fl, fh = emotion.voice_features(low, sr), emotion.voice_features(high, sr)
    assert fl.shape == (len(emotion.VOICE_FEATURES),) and np.all(np.isfinite(fl))
    k = emotion.VOICE_FEATURES.index("f0_median_st")
    assert fh[k] - fl[k] == pytest.approx(12.0, abs=0.5)   # one octave up


def test_bundled_expression_classifier_names_pure_expressions():
    """The rules engine's FACS poses for each emotion, held still, are named correctly; a
    face at rest is neutral."""
    from emoface.emotion import EMOTIONS, EmotionTrack
    from emoface.engines.rules import expressions

    clf = emotion.expression_classifier()
    assert clf.classes == list(EMOTIONS)
    features = emotion.expression_features(Animation(np.zeros((3, NUM_BLENDSHAPES))))
    assert len(clf.model.feature_names) == len(features)
    t = np.arange(90) / 30.0
    for name in EMOTIONS:
        w = np.clip(expressions.expression(EmotionTrack.constant(name, 0.8).at(t)), 0, 1)
        assert clf.predict(Animation(w)) == name
    assert clf.predict(Animation(np.zeros((30, NUM_BLENDSHAPES)))) == "neutral"
    assert clf.probabilities(Animation(np.zeros((30, NUM_BLENDSHAPES)))).sum() == pytest.approx(1)


def test_an_invisible_asymmetry_does_not_change_the_expression_classifiers_answer():
    """A network's left and right channels differ by float16 rounding: a few thousandths of
    a weight, never seen on a face, must not move the classifier (it once turned a
    surprised face into a disgusted one)."""
    from emoface.arkit import INDEX
    from emoface.emotion import EMOTIONS, EmotionTrack
    from emoface.engines.rules import expressions

    clf = emotion.expression_classifier()
    t = np.arange(90) / 30.0
    for name in EMOTIONS:
        w = np.clip(expressions.expression(EmotionTrack.constant(name, 0.7).at(t)), 0, 1)
        for sided in ("browOuterUp", "eyeSquint", "mouthFrown"):
            for side in ("Left", "Right"):
                bent = w.copy()
                k = INDEX[sided + side]
                bent[:, k] = np.clip(bent[:, k] + 0.003, 0, 1)
                moved = np.abs(clf.probabilities(Animation(bent)) - clf.probabilities(Animation(w)))
                assert moved.max() < 0.05, (name, sided, side)
