"""LibriSpeech read speech without transcripts (../shared/data/speech/librispeech):
Whisper hears the words, the forced aligner times them, the teacher labels the clip.

Layout: ``train-clean-100/SPEAKER-CHAPTER-UTT.flac`` (one clip from each of 251 speakers)
and ``test-other/SPEAKER/SPEAKER-CHAPTER-UTT.flac`` (10 clips from each of 10 speakers). Splits are by speaker: the 10
test-other speakers are *test*; a train-clean-100 speaker goes to train, val or test by a
hash of the speaker id (80/10/10). Each row records where its transcript came from
(``extra.transcript_source``, e.g. ``whisper:base``) and what Whisper heard; a transcript
the aligner cannot fit to the audio is a skip, like a bad human one. The Whisper model is
part of each clip's recipe, so choosing another one rebuilds the clips.
"""
from __future__ import annotations

from pathlib import Path

from ...errors import UserError
from ...paths import shared_data_dir
from ...speech import alignable_text, load_speech_model, model_spec, transcript_source
from ...speech.weights import resolve
from .common import Clip, Item, SkipClip, align_or_skip, load_audio_or_skip, split_by_hash

NAME = "librispeech"
LICENCE = "CC-BY-4.0 (LibriSpeech, Panayotov et al. 2015)"
TEST_SUBSET = "test-other"


def default_root() -> Path:
    return shared_data_dir() / "speech" / "librispeech"


def speaker_of(path: Path) -> str:
    return "librispeech-" + path.stem.split("-")[0]


def split_of(subset: str, speaker: str) -> str:
    return "test" if subset == TEST_SUBSET else split_by_hash(speaker)


def plan(root: Path, options) -> list[Item]:
    files = sorted(root.rglob("*.flac"), key=lambda p: p.relative_to(root).parts)
    if not files:
        raise UserError(f"librispeech: no .flac files under {str(root)!r}")
    model = model_spec(getattr(options, "speech_model", None))
    resolve(model)  # a missing weights package: one line now, not one failure per clip
    items = []
    for f in files:
        subset, speaker = f.relative_to(root).parts[0], speaker_of(f)
        items.append(Item(f"librispeech-{subset}.{f.stem}", NAME,
                          {"audio": str(f.resolve()), "speaker": speaker,
                           "split": split_of(subset, speaker), "speech_model": model}))
    return items


def load(item: Item) -> Clip:
    p = item.params
    samples, rate = load_audio_or_skip(p["audio"])
    model = load_speech_model(p["speech_model"])   # once per worker process
    heard = model.transcribe(samples, language="en")
    text, why = alignable_text(heard)
    if text is None:
        raise SkipClip(why)
    phones, method, note = align_or_skip(samples, text)
    return Clip(samples=samples, sample_rate=rate, language="en", speaker=p["speaker"],
                split=p["split"], licence=LICENCE, phones=phones, phone_method=method,
                phone_note=note, audio=p["audio"], transcript=text,
                extra={"transcript_source": transcript_source(model),
                       "transcript_words": [[w.text, round(w.start, 2), round(w.end, 2),
                                             round(w.probability, 3)] for w in heard.words]})
