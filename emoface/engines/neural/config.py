"""Dimensions of the neural model, saved inside every checkpoint so weights always load
with the architecture that made them (the way whisper keeps its dims with its weights)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from ...arkit import ARKIT_NAMES
from ...errors import UserError

FEATURE_RATE = 100.0   # log-mel and prosody frames per second
ENCODER_RATE = FEATURE_RATE / 2  # content encoder frames per second (the front-end halves it)
OUTPUT_FPS = 30.0      # the decoder's frame rate; 60 fps output is resampled from it
MAX_LOOKAHEAD_S = 0.2  # streaming budget: no output frame may wait for more future audio

# Channels the network predicts. Blinks and gaze are not predictable from a voice (when
# someone blinks is not in the sound), so they come from the seeded nonverbal layer, as do
# head drift and saccades; the network owns speech and expression.
PROCEDURAL_CHANNELS = tuple(n for n in ARKIT_NAMES if n.startswith(("eyeBlink", "eyeLook")))
PREDICTED_CHANNELS = tuple(n for n in ARKIT_NAMES if n not in PROCEDURAL_CHANNELS)


@dataclass(frozen=True)
class ModelConfig:
    n_mels: int = 80
    n_prosody: int = 3            # f0 (semitones re 100 Hz, 0 unvoiced), voiced, loudness
    d_model: int = 192            # content encoder and decoder width
    n_heads: int = 4
    content_layers: int = 4
    decoder_layers: int = 3
    ff_mult: int = 3
    content_window: int = 32      # frames (50 fps) a content attention reaches back
    decoder_window: int = 24      # frames (30 fps) a decoder attention reaches back
    content_lookahead: int = 1    # frames (at 50 fps) each content layer may look ahead
    decoder_lookahead: int = 0    # frames (at 30 fps) each decoder layer may look ahead
    d_emotion: int = 128          # emotion branch width
    emotion_layers: int = 3
    n_emotions: int = 8
    d_latent: int = 16            # per-utterance latent for stochastic variation
    n_outputs: int = len(PREDICTED_CHANNELS)
    # Phone classes of the content encoder's auxiliary head (a training signal that makes
    # the content features phonetic; unused at run time). 0: no head.
    n_phones: int = 0
    # Phone scores of pocketsphinx's English acoustic model (emoface.audio.phonetic) read by
    # the content encoder beside the log-mel: 42 (each frame's own), 84 (and the phone loop's
    # causal posteriors, emoface.audio.phonetic.forward_posteriors), or 0 for log-mel alone.
    n_phonetic: int = 0
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.lookahead_seconds > MAX_LOOKAHEAD_S + 1e-9:
            raise ValueError(f"look-ahead {self.lookahead_seconds * 1000:.0f} ms exceeds "
                             f"{MAX_LOOKAHEAD_S * 1000:.0f} ms; the model could not stream")

    @property
    def n_features(self) -> int:
        """Columns of the decoder's input: log-mel, then the phone scores if any."""
        return self.n_mels + self.n_phonetic

    @property
    def lookahead_seconds(self) -> float:
        """Worst-case future audio one output frame depends on (bounded for streaming):
        the front-end convolutions, each content layer, the interpolation to the output
        grid, and each decoder layer; the phone scores' delta features add three frames."""
        front = 2 / FEATURE_RATE + 2 / FEATURE_RATE             # two centred k=5 convs
        if self.n_phonetic:
            front += 3 / FEATURE_RATE
        content = self.content_layers * self.content_lookahead / (FEATURE_RATE / 2)
        resample = 1 / (FEATURE_RATE / 2)                        # next encoder frame
        decoder = self.decoder_layers * self.decoder_lookahead / OUTPUT_FPS
        return front + content + resample + decoder

    @property
    def context_seconds(self) -> float:
        """Past audio one output frame can depend on: windows that carry this much
        context on each side give exactly the one-shot output in their core."""
        front = 4 / FEATURE_RATE
        content = self.content_layers * self.content_window / (FEATURE_RATE / 2)
        decoder = self.decoder_layers * (self.decoder_window + 2) / OUTPUT_FPS  # + causal conv
        return front + content + decoder + self.lookahead_seconds

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """The config stored with a weights file. Options that were tried and removed
        (docs/experiments.md) are ignored while they hold their disabled value; weights
        trained with one enabled are refused."""
        data = json.loads(text)
        for key, off in REMOVED_OPTIONS.items():
            if key in data and data[key] != off:
                raise UserError(f"these weights were trained with {key} = {data[key]!r}, an "
                                "option this version no longer has (see docs/experiments.md)")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Options of earlier versions, with the value that disabled them (old weights store it).
# n_styles, the size of a style table of which only the neutral row 0 was ever used, is
# ignored whatever it says (that row is the decoder's neutral token now).
REMOVED_OPTIONS = {"channel_norm": False}
