"""Berlin Emotional Speech (EmoDB, ../shared/data/emodb): 10 German sentences acted by
8 speakers in 7 emotions, with hand-labelled SAMPA phones (``lablaut/``).

File names are ``SSTTTEV``: speaker ``SS``, text ``TTT``, emotion letter ``E``, version
``V``. Letters map to our emotions: W angry, E disgusted, A fearful, F happy, T sad,
N neutral. Boredom (L) is not one of our 8 emotions: it is labelled ``neutral`` at
intensity 0.2 with the flag ``boredom``, so the voice emotion classifier can leave it out
while the animator still learns a low-energy neutral face from it. Acted emotions carry
intensity 0.8: the actors portrayed clear, full emotions (the database kept only
utterances that 80% of listeners recognised), but acted speech is not the extreme.

Splits by speaker (the manifest keeps the speaker, so training can rotate
leave-one-speaker-out folds over all eight): 13 val, 14 test, the rest train. This copy
of the audio was cut or padded to exactly 2.0 s, so labels running past the audio's end
are expected and are clipped, not a mismatch.
"""
from __future__ import annotations

from pathlib import Path

from ...audio.lablaut import lablaut_path_for, read_lablaut
from ...errors import UserError
from ...paths import shared_data_dir
from .common import Clip, Item, SkipClip, check_phone_span, load_audio_or_skip

NAME = "emodb"
LICENCE = "CC0-1.0 (Berlin Database of Emotional Speech, as packaged by audEERING)"
ACTED_INTENSITY = 0.8
BOREDOM_INTENSITY = 0.2
EMOTION_LETTERS = {"W": "angry", "L": "neutral", "E": "disgusted", "A": "fearful",
                   "F": "happy", "T": "sad", "N": "neutral"}
SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14")
VAL_SPEAKERS = ("13",)
TEST_SPEAKERS = ("14",)
# The ten sentences (Burkhardt et al. 2005), by text code.
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}


def default_root() -> Path:
    return shared_data_dir() / "emodb"


def split_of(speaker: str) -> str:
    return "val" if speaker in VAL_SPEAKERS else "test" if speaker in TEST_SPEAKERS else "train"


def parse_name(stem: str) -> tuple[str, str, str] | None:
    """(speaker, text code, emotion letter) of an EmoDB file name, or None."""
    if len(stem) < 6 or not stem[:2].isdigit() or stem[5] not in EMOTION_LETTERS:
        return None
    return stem[:2], stem[2:5], stem[5]


def plan(root: Path, options) -> list[Item]:
    wav_dir, lab_dir = root / "wav", root / "lablaut"
    if not wav_dir.is_dir():
        raise UserError(f"emodb: no 'wav' folder in {str(root)!r}")
    stems = {p.stem for p in wav_dir.glob("*.wav")}
    labelled = {p.name.split(".")[0].removesuffix("xx") for p in lab_dir.glob("*.lablaut")} \
        if lab_dir.is_dir() else set()
    items = []
    for stem in sorted(stems | labelled):
        items.append(Item(f"emodb-{stem}", NAME, {"root": str(root.resolve()), "stem": stem}))
    return items


def load(item: Item) -> Clip:

    root, stem = Path(item.params["root"]), item.params["stem"]
    parsed = parse_name(stem)
    if parsed is None:
        raise SkipClip(f"file name {stem!r} is not an EmoDB name (SSTTTEV)")
    speaker, text, letter = parsed
    wav = root / "wav" / f"{stem}.wav"
    if not wav.is_file():
        raise SkipClip("label file without audio (no wav for this lablaut)")
    label_path = lablaut_path_for(wav)
    if label_path is None:
        raise SkipClip("no lablaut phone labels for this audio file")
    samples, rate = load_audio_or_skip(wav)
    duration = len(samples) / 16000
    try:
        phones = read_lablaut(label_path, duration)
    except UserError as exc:
        raise SkipClip(str(exc)) from None
    if not phones:
        raise SkipClip(f"label file {label_path.name!r} holds no phones (header only)")
    check_phone_span(phones, samples, allow_overhang=True)
    boredom = letter == "L"
    flags = ["acted"] + (["boredom"] if boredom else [])
    return Clip(samples=samples, sample_rate=rate, language="de", speaker=f"emodb-{speaker}",
                split=split_of(speaker), licence=LICENCE, phones=phones,
                phone_method="lablaut", audio=str(wav.resolve()), transcript=TEXTS.get(text),
                emotion=EMOTION_LETTERS[letter],
                intensity=BOREDOM_INTENSITY if boredom else ACTED_INTENSITY, flags=flags,
                group=f"emodb-{speaker}-{text}",
                extra={"emodb_emotion": {"L": "boredom"}.get(letter, EMOTION_LETTERS[letter]),
                       "text_code": text, "version": stem[6:]})
