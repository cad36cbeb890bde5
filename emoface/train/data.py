"""Training batches from a built corpus.

Every training clip is held in memory (log-mel and teacher variants as float16, audio as
int16 for augmentation), so a step never waits on disk. A sample is a random crop of one
clip, paired with one *condition* (an emotion mix) and the teacher's target for exactly
that condition on exactly this content:

- one of the clip's exchange variants (every emotion at 0.35/0.7/1.0, neutral once): the
  content-emotion exchange / cross-reconstruction targets, or
- a blend of two variants with the blended amounts: the teacher is nearly linear in the
  amounts, so this teaches the decoder to interpolate (``auto`` produces soft mixes), or
- a change from one variant to another part way through the crop, blending targets and
  amounts with the same per-frame weights (keyframed emotions at run time).

Clips with captured targets (``target_kind`` captured: curves measured on a real face,
e.g. the ``video`` source) carry the teacher's exchange set too, and train on it with the
captured channels (:data:`CAPTURED_CHANNELS`: jaw, lip contact, smiles, frowns, pucker)
moved by how far the real face departs from the teacher's animation of the clip's own
condition (neutral for every video so far). The own variant's lips are then the capture's,
and every other emotion keeps its own change of the mouth on top of the real lips: the
same real lip timing under every emotion. Half of a captured clip's draws are its own
condition (:data:`OWN_CONDITION_SHARE`), the condition the real face was recorded in.
Captured channels are weighed by how well the capture recovers them
(:data:`CAPTURE_CHANNEL_WEIGHTS`), the rest are the teacher's.

Crops start on a 100 ms grid so 100 Hz features and 30 fps targets stay aligned.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arkit import INDEX
from ..audio import phonetic
from ..audio.align import METHOD_PHONE_LOOP
from ..audio.features import HOP, LOG_FLOOR, N_MELS, band_centres_hz, log_mel, warp_band_axis
from ..audio.phones import PHONE_CLASSES
from ..audio.phonetic import columns_filtered, phone_scores
from ..data import augment
from ..data.corpus import Corpus
from ..emotion import EMOTION_INDEX, NUM_EMOTIONS
from ..engines.neural.config import ENCODER_RATE, PREDICTED_CHANNELS
from ..engines.neural.engine import NO_PHONE, SILENT_LOG_MEL, pad_features
from ..files import atomic_path

ALIGN = 10          # feature frames per alignment step (100 ms = 3 target frames)
TARGET_STEP = 3
PREDICTED_INDEX = np.array([INDEX[n] for n in PREDICTED_CHANNELS])
PHONE_INDEX = {p: i for i, p in enumerate(PHONE_CLASSES)}

# How much a captured curve is trusted per predicted channel: Pearson r of render and
# recover on the default head (docs/capture.md, mean of the two seeds and of L/R pairs),
# squared. Channels under r 0.4 (brows, eyeWide/Squint, cheekSquint, mouthFunnel, stretch,
# lowerDown, upperUp are tracker noise) are not taken from the capture: their target is the
# teacher's, trusted fully. mouthClose gets
# CAPTURE_CLOSE_TRUST although its own r is near 0: the contact rule closes the take's
# lips exactly where they touch on video (105/105 GRID closures), but a captured closure is
# jawOpen and mouthClose raised together, where the teacher's lowers the jaw; trusted
# fully, mouthClose was smeared over the open frames around each closure and shut the lips
# on 9-10 % of the frames the video shows open (docs/experiments.md, 2026-12-07). The lip
# aperture loss (losses.lips, CAPTURE_CLOSING_WEIGHT) is what teaches closures from
# captures: the captured aperture follows the raw inner-lip landmarks at r 0.955 on
# held-out GRID clips.
CAPTURE_R = {"jawOpen": 0.97, "mouthSmileLeft": 0.895, "mouthSmileRight": 0.895,
             "mouthFrownLeft": 0.68, "mouthFrownRight": 0.68, "mouthPucker": 0.49}
CAPTURE_CLOSE_TRUST = 0.25
# Share of a captured clip's draws made under its own condition (the one actually
# recorded), the rest spread over the exchange set like a teacher clip's.
OWN_CONDITION_SHARE = 0.5
CAPTURED_CHANNELS = np.array([n == "mouthClose" or CAPTURE_R.get(n, 0.0) >= 0.4
                              for n in PREDICTED_CHANNELS])
CAPTURE_CHANNEL_WEIGHTS = np.array(
    [CAPTURE_CLOSE_TRUST if n == "mouthClose"
     else (CAPTURE_R[n] ** 2 if CAPTURE_R.get(n, 0.0) >= 0.4 else 1.0)
     for n in PREDICTED_CHANNELS], np.float32)
TEACHER_CHANNEL_WEIGHTS = np.ones(len(PREDICTED_CHANNELS), np.float32)
# Crops drawn with a lead of digital silence (Sampler's lead_silence_prob) are the clip's
# start behind 100 ms to 1 s of zeros (in ALIGN steps).
LEAD_SILENCE_STEPS = (1, 10)


@dataclass
class Clip:
    id: str
    source: str
    speaker: str
    mel: np.ndarray          # (T, 80) float16
    prosody: np.ndarray      # (T, 3) float32: f0 semitones/12, voiced, loudness
    weights: np.ndarray      # (V, T30, 42) float16 teacher variants (predicted channels)
    head: np.ndarray         # (V, T30, 3) float16
    amounts: np.ndarray      # (V, 8) float32: the condition of each variant
    label: int               # emotion class for the voice classifier, -1 when unknown
    intensity: float         # label intensity, NaN when unknown
    audio: np.ndarray | None  # int16 at 16 kHz, for augmentation
    phones: np.ndarray | None = None  # (T50,) int8 phone class per encoder frame, -1 unknown
    phonetic: np.ndarray | None = None  # (T, 42 or 84) float16 phone scores (audio.phonetic)
    captured: bool = False   # targets moved to a real face's capture: channel weights
    own: int = -1            # captured clips: the variant of the clip's own condition


def amounts_vector(emotion: str, intensity: float) -> np.ndarray:
    v = np.zeros(NUM_EMOTIONS, np.float32)
    if emotion != "neutral":
        v[EMOTION_INDEX[emotion]] = intensity
    v[0] = 1.0 - v[1:].sum()
    return v


def prosody_features(feats: dict) -> np.ndarray:
    return np.stack([feats["f0_st"] / 12.0, feats["voiced"].astype(np.float32),
                     feats["loudness"]], 1).astype(np.float32)


def phone_frames(phones, n_frames: int, rate: float = ENCODER_RATE) -> np.ndarray:
    """Phone class (index in PHONE_CLASSES) at each frame time k / ``rate``; -1 where no
    phone covers the frame."""
    labels = np.full(n_frames, -1, np.int8)
    times = np.arange(n_frames) / rate
    for ph in phones:
        if ph.phone in PHONE_INDEX:
            labels[(times >= ph.start) & (times < ph.end)] = PHONE_INDEX[ph.phone]
    return labels


PHONETIC_CACHE_VERSION = "ps-en-us-ci42-v1"


def phonetic_scores(corpus: Corpus, row: dict, filtered: bool = False) -> np.ndarray:
    """The clip's phone scores (:mod:`emoface.audio.phonetic`; with ``filtered`` the phone
    loop's posteriors too), cached beside the corpus's features under a name made of the
    features' key and the scores' version."""

    key = corpus.path(row, "features").stem
    version = PHONETIC_CACHE_VERSION + ("-loop" if filtered else "")
    path = corpus.root / "phonetic" / key[:2] / f"{key}-{version}.npy"
    if path.is_file():
        return np.load(path)
    scores = phone_scores(corpus.audio(row), filtered).astype(np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, scores)
    return scores


def load_clip(corpus: Corpus, row: dict, keep_audio: bool, phonetic: int = 0) -> Clip:
    """One clip as training reads it; ``phonetic``: the network's score columns (0: none)."""
    feats = corpus.features(row)
    arrays = corpus.target_arrays(row)
    emotion = row.get("emotion")
    captured = "captured_weights" in arrays
    variants = np.stack([amounts_vector(str(e), float(i))
                         for e, i in zip(arrays["emotions"], arrays["intensities"])])
    own = -1
    if captured:
        # Every variant of the teacher's exchange set, with the captured channels moved by
        # how far the real face departs from the teacher's animation of the clip's own
        # condition (neutral): the own variant's lips are the capture's, and each emotion
        # keeps its own change of the mouth on top of the real lips. The capture alone
        # under neutral taught the network real lips for neutral and the teacher's for
        # every other emotion (the mouth under emotion fell from r 0.99 to 0.92 against
        # neutral's).
        capture = arrays["captured_weights"][..., PREDICTED_INDEX].astype(np.float32)
        teacher = arrays["weights"][..., PREDICTED_INDEX].astype(np.float32)
        n = min(len(capture), teacher.shape[1])
        amounts = variants
        # The variant of the clip's own condition (captured clips carry no label index).
        own_amounts = amounts_vector(emotion or "neutral", float(row.get("intensity") or 0.0))
        own = int(np.abs(amounts - own_amounts).sum(1).argmin())
        departure = (capture[:n] - teacher[own, :n]) * CAPTURED_CHANNELS
        weights = np.clip(teacher[:, :n] + departure, 0.0, 1.0).astype(np.float16)
        head = arrays["head"][:, :n]
    else:
        exchange = [v for v in range(len(arrays["emotions"])) if v != int(arrays["label"])]
        amounts = variants[exchange]
        weights = arrays["weights"][exchange][..., PREDICTED_INDEX]
        head = arrays["head"][exchange]
    voice_label = -1
    if emotion and "boredom" not in row["flags"]:
        voice_label = EMOTION_INDEX[emotion]
    intensity = float(row["intensity"]) if row.get("intensity") is not None else float("nan")
    audio = None
    if keep_audio:
        audio = np.clip(corpus.audio(row) * 32767, -32768, 32767).astype(np.int16)
    mel = feats["logmel"]
    # The phone loop's guesses are no labels to teach the phone head from.
    phones = (phone_frames(corpus.phones(row), (len(mel) + 1) // 2)
              if row.get("phones") and row.get("phone_method") != METHOD_PHONE_LOOP else None)
    scores = None
    if phonetic:   # same samples, same frame count as the log-mel

        scores = phonetic_scores(corpus, row, columns_filtered(phonetic))
    return Clip(row["id"], row["source"], row["speaker"], mel.astype(np.float16),
                prosody_features(feats), weights, head, amounts, voice_label, intensity, audio,
                phones, scores, captured, own)


class Sampler:
    """Draws batches: clips chosen by source weight, then uniformly within the source."""

    def __init__(self, clips: list[Clip], source_weights: dict[str, float], crop_s: float,
                 mix_prob: float = 0.3, augment_prob: float = 0.5,
                 transition_prob: float = 0.2, balance_emotions: bool = False,
                 eq_prob: float = 0.0, mel_drop_prob: float = 0.0,
                 lead_silence_prob: float = 0.0):
        self.clips = clips
        self.by_source: dict[str, list[int]] = {}
        for i, c in enumerate(clips):
            self.by_source.setdefault(c.source, []).append(i)
        sources = [s for s in self.by_source if source_weights.get(s, 0) > 0]
        w = np.array([source_weights[s] for s in sources], np.float64)
        self.sources, self.source_p = sources, w / w.sum()
        self.crop = round(crop_s * 100 / ALIGN) * ALIGN
        self.mix_prob, self.augment_prob = mix_prob, augment_prob
        self.transition_prob = transition_prob
        self.eq_prob = eq_prob
        self.mel_drop_prob = mel_drop_prob
        # A crop's first frames have no past, like a take's. Leads of digital silence (zeros)
        # before a clip's start, its first pose held, teach what a take that opens on
        # silence looks like: without them the network met zeros with no past only at run
        # time and parted the lips there (docs/experiments.md, 2026-12-08).
        self.lead_silence_prob = lead_silence_prob
        # Per source, labelled clips grouped by emotion: drawing the emotion first gives every
        # emotion the same share (what unweighted average recall rewards).
        self.by_label: dict[str, dict[int, list[int]]] = {}
        if balance_emotions:
            for source, idx in self.by_source.items():
                groups: dict[int, list[int]] = {}
                for i in idx:
                    if clips[i].label >= 0:
                        groups.setdefault(clips[i].label, []).append(i)
                if groups:
                    self.by_label[source] = groups

    def batch(self, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        items = [self.sample(rng) for _ in range(size)]
        t_mel = max(len(it["mel"]) for it in items)
        t_out = max(len(it["target"]) for it in items)
        width = items[0]["mel"].shape[1]     # log-mel, then phone scores if the clips have them
        out = {
            "mel": np.zeros((size, t_mel, width), np.float32),
            "prosody": np.zeros((size, t_mel, 3), np.float32),
            "mel_mask": np.zeros((size, t_mel), bool),
            "target": np.zeros((size, t_out, len(PREDICTED_CHANNELS)), np.float32),
            "head": np.zeros((size, t_out, 3), np.float32),
            "out_mask": np.zeros((size, t_out), bool),
            "amounts": np.zeros((size, t_out, NUM_EMOTIONS), np.float32),
            "label": np.array([it["label"] for it in items], np.int64),
            "intensity": np.array([it["intensity"] for it in items], np.float32),
            # Phone class per content-encoder frame (2 feature frames), -1 where unknown.
            "phones": np.full((size, (t_mel + 1) // 2), -1, np.int64),
            # Per sample: trust in each predicted channel's target, and in the head's.
            "channel_weight": np.stack([it["channel_weight"] for it in items]),
            "head_weight": np.array([it["head_weight"] for it in items], np.float32),
            "captured": np.array([it["captured"] for it in items], bool),
        }
        for b, it in enumerate(items):
            n, m = len(it["mel"]), len(it["target"])
            out["mel"][b, :n], out["prosody"][b, :n], out["mel_mask"][b, :n] = it["mel"], it["prosody"], True
            # Padding repeats the digital-silence floor rather than 0 (0 is a loud log-mel),
            # and scores no phone.
            out["mel"][b, n:, :N_MELS], out["mel"][b, n:, N_MELS:] = SILENT_LOG_MEL, NO_PHONE
            out["target"][b, :m], out["head"][b, :m], out["out_mask"][b, :m] = it["target"], it["head"], True
            out["amounts"][b, :m], out["amounts"][b, m:] = it["amounts"], it["amounts"][-1]
            out["phones"][b, :len(it["phones"])] = it["phones"]
        return out

    def sample(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        source = self.sources[rng.choice(len(self.sources), p=self.source_p)]
        if source in self.by_label:
            groups = self.by_label[source]
            members = groups[sorted(groups)[rng.integers(len(groups))]]
            clip = self.clips[members[rng.integers(len(members))]]
        else:
            clip = self.clips[self.by_source[source][rng.integers(len(self.by_source[source]))]]
        n_mel = len(clip.mel)
        n_out = clip.weights.shape[1]
        steps = max(1, min(n_mel, n_out * ALIGN // TARGET_STEP) // ALIGN)
        crop_steps = max(1, self.crop // ALIGN)
        lead = 0
        if (self.lead_silence_prob and clip.audio is not None
                and rng.random() < self.lead_silence_prob):
            lead = int(rng.integers(LEAD_SILENCE_STEPS[0], LEAD_SILENCE_STEPS[1] + 1))
            start = 0
        else:
            start = int(rng.integers(0, max(1, steps - crop_steps + 1)))
        a, b = start * ALIGN, min(n_mel, (start + crop_steps) * ALIGN)
        ta, tb = start * TARGET_STEP, min(n_out, (start + crop_steps) * TARGET_STEP)

        mel, prosody = clip.mel[a:b].astype(np.float32), clip.prosody[a:b].copy()
        if lead:
            mel = self._lead_silence_mel(clip, b, lead * ALIGN, rng)
        elif clip.audio is not None and rng.random() < self.augment_prob:
            mel, shift = self._augmented_mel(clip, a, b, rng, self.eq_prob)
            prosody[:, 0] = np.where(prosody[:, 1] > 0, prosody[:, 0] + shift / 12.0, 0.0)
        elif clip.phonetic is not None:
            mel = np.concatenate([mel, clip.phonetic[a:b].astype(np.float32)], 1)

        # The condition, per output frame: one variant, a fixed blend of two, or a change
        # from one to the other part way through (keyframed emotions at run time).
        m = tb - ta
        v, u = int(rng.integers(len(clip.amounts))), int(rng.integers(len(clip.amounts)))
        if clip.captured and rng.random() < OWN_CONDITION_SHARE:
            v = u = clip.own
        r = rng.random()
        if r < self.mix_prob:
            w = np.full(m, rng.uniform(0.2, 0.8), np.float32)
        elif r < self.mix_prob + self.transition_prob:
            centre, width = rng.uniform(0, m), rng.uniform(0.3, 1.0) * 30
            x = np.clip((np.arange(m) - centre) / width + 0.5, 0, 1)
            w = (x * x * (3 - 2 * x)).astype(np.float32)
        else:
            w = np.zeros(m, np.float32)
        wc = w[:, None]
        target = (1 - wc) * clip.weights[v, ta:tb] + wc * clip.weights[u, ta:tb]
        head = (1 - wc) * clip.head[v, ta:tb] + wc * clip.head[u, ta:tb]
        amounts = (1 - wc) * clip.amounts[v] + wc * clip.amounts[u]
        phones = (clip.phones[a // 2:(b + 1) // 2] if clip.phones is not None
                  else np.full((b - a + 1) // 2, -1, np.int8))
        if self.mel_drop_prob and mel.shape[1] > N_MELS and rng.random() < self.mel_drop_prob:
            mel = drop_mel(mel)
        if lead:   # the silence before the clip: no voice, no phone, the clip's first pose
            t = lead * TARGET_STEP
            prosody = np.concatenate([np.zeros((lead * ALIGN, 3), np.float32), prosody])
            target = np.concatenate([np.repeat(target[:1], t, 0), target])
            head = np.concatenate([np.repeat(head[:1], t, 0), head])
            amounts = np.concatenate([np.repeat(amounts[:1], t, 0), amounts])
            phones = np.concatenate([np.full(lead * ALIGN // 2, -1, phones.dtype), phones])
        return {"mel": mel, "prosody": prosody, "target": target.astype(np.float32),
                "phones": phones, "head": head.astype(np.float32),
                "amounts": amounts.astype(np.float32),
                "label": clip.label, "intensity": clip.intensity,
                "channel_weight": (CAPTURE_CHANNEL_WEIGHTS if clip.captured
                                   else TEACHER_CHANNEL_WEIGHTS),
                "head_weight": 1.0, "captured": clip.captured}

    def _lead_silence_mel(self, clip: Clip, b: int, lead: int,
                          rng: np.random.Generator) -> np.ndarray:
        """Features of ``lead`` frames of zeros followed by the clip's first ``b`` frames
        (augmented like any crop, without the warp and equaliser, which would lift the
        silence off the floor the run-time front end gives digital zeros)."""

        audio = clip.audio[:b * HOP].astype(np.float32) / 32767
        if rng.random() < self.augment_prob:
            audio = augment.apply(audio, 16000, _time_preserving_recipe(rng))
        audio = np.concatenate([np.zeros(lead * HOP, np.float32), audio])
        mel = log_mel(audio)
        if clip.phonetic is not None:
            filtered = phonetic.columns_filtered(clip.phonetic.shape[1])
            mel = np.concatenate([mel, phone_scores(audio, filtered)[:len(mel)]], 1)
        return pad_features(mel, lead + b, N_MELS)[:lead + b]

    @staticmethod
    def _augmented_mel(clip: Clip, a: int, b: int, rng: np.random.Generator,
                       eq_prob: float = 0.0):
        """Log-mel of an augmented copy of the crop's audio (same frame grid), and the
        pitch change in semitones it made (the prosody input follows it). Clips with phone
        scores get them from the same augmented audio, bent by the same warp and equaliser,
        as columns after the log-mel.

        Praat's pitch and formant shift costs ~0.15 s per second of audio, too slow for
        every batch; a warp of the log-mel's frequency axis (all frequencies scaled by
        one factor: formants and harmonics alike) stands in for it. With ``eq_prob`` a
        random smooth equaliser follows (another microphone, room or mastering chain)."""

        audio = clip.audio[a * HOP:b * HOP].astype(np.float32) / 32767
        audio = augment.apply(audio, 16000, _time_preserving_recipe(rng))
        mel = log_mel(audio)
        bands = phonetic.band_energies(audio) if clip.phonetic is not None else None
        shift = 0.0
        if rng.random() < 0.5:
            factor = float(np.exp(rng.uniform(np.log(0.85), np.log(1.18))))
            mel = warp_frequencies(mel, factor)
            if bands is not None:
                bands = phonetic.warp_bands(bands, factor)
            shift = 12.0 * np.log2(factor)
        if eq_prob and rng.random() < eq_prob:
            gains = random_eq_db(rng)
            mel = equalise(mel, gains)
            if bands is not None:
                bands = phonetic.equalise_bands(bands, band_centres_hz(), gains)
        if bands is not None:
            filtered = phonetic.columns_filtered(clip.phonetic.shape[1])
            mel = np.concatenate([mel, phonetic.scores_from_bands(bands, filtered)], 1)
        # Audio shorter than the crop's features is continued with silence.
        return pad_features(mel, b - a, N_MELS)[:b - a], shift


def _time_preserving_recipe(rng: np.random.Generator) -> list[tuple[str, dict]]:
    """An augmentation recipe without its speed, tempo and pitch steps: a crop's targets
    are fixed to its frames."""
    return [step for step in augment.draw_recipe(rng)
            if step[0] not in ("speed", "tempo", "pitch_formant")]


def drop_mel(feats: np.ndarray) -> np.ndarray:
    """The crop with its log-mel flattened to each band's mean over the crop and its phone
    scores kept: what is said must then come from the scores alone. The network otherwise
    leans on the log-mel, which it knows well for the training voices, and learns little
    from scores that only repeat it there; on voices it never heard the scores (from a
    model trained on many speakers) are the more reliable of the two."""
    feats = feats.copy()
    feats[:, :N_MELS] = feats[:, :N_MELS].mean(axis=0)
    return feats


def warp_frequencies(mel: np.ndarray, factor: float) -> np.ndarray:
    """Log-mel of the same sound with every frequency multiplied by ``factor``: band k
    takes the level the original had at (its centre frequency / factor)."""

    return warp_band_axis(mel, band_centres_hz(), factor)


EQ_TILT_DB = 12.0          # largest gain difference the tilt makes from lowest to highest band
EQ_RIPPLE_DB = 3.0         # largest amplitude of each of the two slow ripples
EQ_LOW_SHELF_DB = (-10.0, 20.0)    # below 80-250 Hz: rumble, hum, proximity boost, or a cut
EQ_HIGH_SHELF_DB = (-15.0, 6.0)    # above 2.5-6 kHz: lossy codecs and small microphones cut


def random_eq_db(rng: np.random.Generator) -> np.ndarray:
    """A smooth random gain curve over the mel bands, in dB: what separates microphones,
    rooms and mastering chains. A tilt, a low shelf (rumble and hum boost the lowest
    bands by up to 20 dB on home recordings), a high shelf (codecs cut the top) and two
    slow ripples; each shelf's corner is random and its edge spans about an octave."""

    octaves = np.log2(np.maximum(band_centres_hz(), 20.0))
    x = np.linspace(0.0, 1.0, len(octaves))

    def shelf(low_hz, high_hz):      # 0 well below a random corner, 1 well above it
        corner = rng.uniform(np.log2(low_hz), np.log2(high_hz))
        return 1.0 / (1.0 + np.exp(-(octaves - corner) * 4.0))

    gains = rng.uniform(-EQ_TILT_DB, EQ_TILT_DB) * (x - 0.5)
    gains += rng.uniform(*EQ_LOW_SHELF_DB) * (1.0 - shelf(80.0, 250.0))
    gains += rng.uniform(*EQ_HIGH_SHELF_DB) * shelf(2500.0, 6000.0)
    for j in (1, 2):
        gains += rng.uniform(-EQ_RIPPLE_DB, EQ_RIPPLE_DB) * np.cos(
            np.pi * (j + rng.uniform(0, 1)) * x + rng.uniform(0, 2 * np.pi))
    return gains.astype(np.float32)


def equalise(mel: np.ndarray, gains_db: np.ndarray) -> np.ndarray:
    """Log-mel of the same sound with band k's power scaled by ``gains_db[k]`` (the
    log floor of :func:`~emoface.audio.features.log_mel` stays where it is)."""

    power = np.maximum(np.exp(mel.astype(np.float64)) - LOG_FLOOR, 0.0)
    return np.log(power * 10.0 ** (gains_db / 10.0) + LOG_FLOOR).astype(np.float32)
