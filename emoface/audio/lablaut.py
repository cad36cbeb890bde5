"""EmoDB's hand-labelled phone files (``lablaut/*.lablaut``) as canonical phones.

The files are xlabel: a header ending in a ``#`` line, then one line per boundary,
``END_TIME  COLOUR  LABEL [annotations] [stress]``. A time is the END of the segment
named on its line (the first segment starts at 0). Labels are German SAMPA as the
EmoDB labellers used it (Kiel conventions):

- a plosive comes as closure then release: ``_t`` or ``t`` (closure), ``!t`` (release),
  ``tasp`` (aspiration); the parts become one phone spanning all of them;
- ``+x``/``-x`` tokens are annotations (``+asp`` aspirated, ``-sth`` devoiced, ``+nas``
  nasalised, ``+lar``/``-lar`` creaky voice, ...); a bare digit is the stress level;
- a line with annotations but no label marks a stretch that only modifies its
  neighbour (a devoiced tail, a creaky offset): it is merged into the preceding phone;
- ``.`` closes the utterance (the pause before it is SIL); ``(`` and ``(gef`` mark
  breathing/noise (SIL);
- capitals after a consonant letter are lenited variants (``B D G`` spirantised stops,
  ``V`` approximant v, ``H`` voiced h, ``4`` and ``R`` r variants, ``J`` a fricated j,
  ``L`` devoiced l): they map to the plain phone, not to the English SAMPA meaning of
  the letter (``V`` is not the vowel of "cup" here).

German sounds English lacks go to the nearest articulation the face shows (the table
below): front rounded vowels to the rounded vowel of the same height (``y: Y 2: 9`` to
``UW UH OW AO``), dorsal fricatives (``C x X``) to ``HH`` (CMUdict's [ç] in "huge"),
the glottal stop to ``HH``, vocalised r ``6`` to ``AH``, ``pf ts`` to two phones.
Diphthong-like labels (``E6 i6 I@ ia``) split their time between two phones.

The EmoDB wav copies were cut or padded to exactly 2.0 s; pass ``duration`` to clip
the phones to the audio (and pad with SIL when the labels stop early).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import UserError
from .phones import SILENCE, Phone

log = logging.getLogger(__name__)

SAMPA_TO_ARPABET: dict[str, tuple[str, ...]] = {
    # plain vowels (length is not written apart: "a" is both a and a:)
    "a": ("AA",), "a:": ("AA",), "A": ("AA",), "e": ("EY",), "e:": ("EY",),
    "E": ("EH",), "E:": ("EH",), "I": ("IH",), "i": ("IY",), "i:": ("IY",),
    "O": ("AO",), "o": ("OW",), "o:": ("OW",), "U": ("UH",), "u": ("UW",), "u:": ("UW",),
    "@": ("AH",), "6": ("AH",),
    # front rounded vowels -> rounded vowels of the same height
    "y": ("UW",), "y:": ("UW",), "Y": ("UH",), "2": ("OW",), "2:": ("OW",), "9": ("AO",),
    # diphthongs (AO aO ao OU AU: labellers' variants of au and ou)
    "aI": ("AY",), "aU": ("AW",), "OY": ("OY",), "AO": ("AW",), "aO": ("AW",), "ao": ("AW",),
    "AU": ("AW",), "OU": ("OW",),
    # vowel + vocalised r or schwa offglide
    "E6": ("EH", "AH"), "i6": ("IY", "AH"), "I6": ("IH", "AH"), "a6": ("AA", "AH"),
    "@6": ("AH",), "Y6": ("UH", "AH"), "ia": ("IY", "AA"), "I@": ("IH", "AH"),
    "i@": ("IY", "AH"), "e@": ("EY", "AH"), "@E": ("AH", "EH"), "@a": ("AH", "AA"),
    "@O": ("AH", "AO"),
    # plosives (closure, release and aspiration parts are normalised before lookup)
    "p": ("P",), "b": ("B",), "t": ("T",), "d": ("D",), "k": ("K",), "g": ("G",),
    "?": ("HH",),
    # fricatives
    "f": ("F",), "v": ("V",), "s": ("S",), "z": ("Z",), "S": ("SH",), "Z": ("ZH",),
    "C": ("HH",), "x": ("HH",), "X": ("HH",), "h": ("HH",), "j": ("Y",),
    # lenited / variant consonants (see the module note)
    "B": ("B",), "D": ("D",), "G": ("G",), "V": ("V",), "H": ("HH",), "J": ("Y",),
    "L": ("L",), "R": ("R",), "4": ("R",),
    # sonorants; doubled letters are long (geminate) consonants
    "m": ("M",), "n": ("N",), "N": ("NG",), "l": ("L",), "r": ("R",),
    "mm": ("M",), "ss": ("S",), "NN": ("NG",),
    # affricates
    "pf": ("P", "F"), "ts": ("T", "S"), "tS": ("CH",), "dZ": ("JH",),
    # pauses, utterance end, breathing and noise
    ".": (SILENCE,), "(": (SILENCE,), "(gef": (SILENCE,), "<p>": (SILENCE,), "#": (SILENCE,),
}

_STOPS = set("pbtdkg")
_ANNOTATION_NAMES = {"hoe", "tie", "beh", "lar", "sth", "nas", "asp", "zen", "vor", "rue",
                     "lat", "vel", "flu", "har", "eng", "ger", "lab", "spr", "den", "pha",
                     "sil", "na"}
# labelling slips seen in the corpus: the intended label
_TYPOS = {"dsap": "dasp", "gas": "gasp"}


def _core_label(token: str) -> str:
    """The label with glued-on annotations (``d+nas``, ``[+eng``) removed."""
    token = token.lstrip("[").rstrip("]")
    if "+" in token[1:]:
        token = token[:token.index("+", 1)]
    return _TYPOS.get(token, token)


def _is_annotation(token: str) -> bool:
    t = token.lstrip("[")
    return (t[:1] in "+-" and len(t) > 1) or t in _ANNOTATION_NAMES


def _stop_part(label: str) -> tuple[str, str] | None:
    """(stop letter, part) for closure/release/aspiration labels: ``_t`` ``!t`` ``tasp``."""
    if len(label) == 2 and label[0] in "_!" and label[1] in _STOPS:
        return label[1], label[0]
    if label.endswith("asp") and len(label) == 4 and label[0] in _STOPS:
        return label[0], "asp"
    if label == "!":
        return "", "!"
    return None


def sampa_to_arpabet(label: str) -> tuple[str, ...]:
    """Canonical phones for one EmoDB SAMPA label (raises KeyError when unknown)."""
    part = _stop_part(label)
    if part is not None:
        return (SAMPA_TO_ARPABET[part[0]][0],) if part[0] else ()
    return SAMPA_TO_ARPABET[label]


def _parse_lines(path: Path) -> list[tuple[float, str]]:
    """(end time, label) per boundary line; label "" for annotation-only lines."""
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise UserError(f"cannot read label file {str(path)!r}: {exc.strerror}") from None
    lines = text.splitlines()
    try:
        body = next(i for i, line in enumerate(lines) if line.strip() == "#") + 1
    except StopIteration:
        raise UserError(f"label file {str(path)!r} is not an xlabel file (no '#' line "
                        f"ending the header)") from None
    rows: list[tuple[float, str]] = []
    for number, line in enumerate(lines[body:], start=body + 1):
        fields = line.split(None, 2)
        if not fields:
            continue
        try:
            end = float(fields[0])
        except ValueError:
            raise UserError(f"label file {str(path)!r} line {number}: expected a time, "
                            f"got {fields[0]!r}") from None
        # the label is the first tab-separated field; stress digits and annotations follow
        label_field = fields[2].split("\t", 1)[0].split() if len(fields) > 2 else []
        label = ""
        if label_field and not _is_annotation(label_field[0]):
            label = _core_label(label_field[0])
        rows.append((end, label))
    return rows


def read_lablaut(path: str | os.PathLike, duration: float | None = None) -> list[Phone]:
    """Phones of an EmoDB ``.lablaut`` file; with ``duration``, clipped (and SIL-padded)
    to exactly [0, duration]. A few EmoDB files hold a header only: they give []."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"label file {str(p)!r} does not exist")
    phones: list[Phone] = []
    start = 0.0
    for end, label in _parse_lines(p):
        if end <= start:
            continue
        if not label:
            if phones:  # an annotation-only stretch belongs to the sound before it
                last = phones[-1]
                phones[-1] = Phone(last.start, end, last.phone, last.label, last.word)
            else:
                phones.append(Phone(start, end, SILENCE, "", ""))
            start = end
            continue
        stop = _stop_part(label)
        if stop is not None and phones and stop[1] in ("!", "asp"):
            last = phones[-1]
            # a release or aspiration continues the closure before it
            if not stop[0] or SAMPA_TO_ARPABET.get(stop[0], ("",))[0] == last.phone:
                phones[-1] = Phone(last.start, end, last.phone, last.label, last.word)
                start = end
                continue
        try:
            mapped = sampa_to_arpabet(label)
        except KeyError:
            log.warning("%s: unknown SAMPA label %r read as SIL", p.name, label)
            mapped = (SILENCE,)
        if not mapped:
            mapped = (SILENCE,)
        step = (end - start) / len(mapped)
        for k, phone in enumerate(mapped):
            a = start + k * step
            b = end if k == len(mapped) - 1 else start + (k + 1) * step
            phones.append(Phone(a, b, phone, label, ""))
        start = end
    phones = _merge_silences(phones)
    if duration is not None and phones:  # no labels stays no labels, not silence
        phones = _clip(phones, float(duration))
    return phones


def _merge_silences(phones: list[Phone]) -> list[Phone]:
    out: list[Phone] = []
    for p in phones:
        if out and p.is_silence and out[-1].is_silence:
            out[-1] = Phone(out[-1].start, p.end, SILENCE, out[-1].label, "")
        else:
            out.append(p)
    return out


def _clip(phones: list[Phone], duration: float) -> list[Phone]:
    out = [Phone(p.start, min(p.end, duration), p.phone, p.label, p.word)
           for p in phones if p.start < duration]
    end = out[-1].end if out else 0.0
    if end < duration:
        out.append(Phone(end, duration, SILENCE, "", ""))
    return _merge_silences(out)


def lablaut_path_for(wav_path: str | os.PathLike) -> Path | None:
    """The lablaut file beside an EmoDB wav (``wav/03a01Fa.wav`` ->
    ``lablaut/03a01Faxx.lablaut``), or None when there is none."""
    wav = Path(wav_path)
    folder = wav.parent.parent / "lablaut"
    for name in (f"{wav.stem}xx.lablaut", f"{wav.stem}.lablaut"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
