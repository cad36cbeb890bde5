"""espeak-ng binding: audio with exact phone events, IPA to ARPABET, voices, letter-to-sound."""
from __future__ import annotations

import concurrent.futures
import itertools
import multiprocessing
import threading

import numpy as np
import pytest

from emoface.audio import espeak
from emoface.audio.ipa import ipa_to_arpabet
from emoface.audio.phones import PHONE_SET
from emoface.errors import UserError

needs_espeak = pytest.mark.skipif(not espeak.is_available(), reason="espeak-ng not installed")


def _check_tiling(phones, duration):
    assert phones[0].start == 0
    assert abs(phones[-1].end - duration) < 1e-6
    for a, b in itertools.pairwise(phones):
        assert a.end == pytest.approx(b.start, abs=1e-9)
    assert all(p.end > p.start for p in phones)
    assert all(p.phone in PHONE_SET for p in phones)


@needs_espeak
def test_synthesize_events_are_monotonic_and_cover_the_audio():
    samples, sr, phones = espeak.synthesize("Hello world. This is a test of judgement.")
    assert sr == 22050 and samples.dtype == np.float32 and 0.05 < np.abs(samples).max() <= 1
    _check_tiling(phones, len(samples) / sr)
    words = [p.word for p in phones if p.word]
    assert list(dict.fromkeys(words)) == ["Hello", "world", "This", "is", "a", "test", "of",
                                          "judgement"]
    spoken = [p.phone for p in phones if not p.is_silence]
    assert spoken[:4] == ["HH", "AH", "L", "OW"]
    assert any(p.is_silence and p.duration > 0.1 for p in phones[1:-1])  # the full stop


@needs_espeak
def test_phones_follow_the_audio():
    """Silences in the phone list are quiet in the audio; speech phones are not all quiet."""
    samples, sr, phones = espeak.synthesize("One. Two. Three.")
    level = lambda p: np.sqrt(np.mean(samples[int(p.start * sr):int(p.end * sr)] ** 2))
    pauses = [level(p) for p in phones if p.is_silence and p.duration > 0.05]
    vowels = [level(p) for p in phones if p.phone in ("AH", "UW", "IY")]
    assert max(pauses) < 0.01 < min(vowels)


@needs_espeak
def test_parameters_change_the_speech():
    slow = espeak.synthesize("The quick brown fox", rate=100)[0]
    fast = espeak.synthesize("The quick brown fox", rate=300)[0]
    assert len(slow) > 1.8 * len(fast)
    default = espeak.synthesize("The quick brown fox")[0]
    # parameters do not leak into the next call (espeak varies a few samples run to run)
    assert len(espeak.synthesize("The quick brown fox")[0]) == pytest.approx(len(default), rel=0.02)
    quiet = espeak.synthesize("The quick brown fox", volume=20)[0]
    assert np.abs(quiet).max() < np.abs(default).max()


@needs_espeak
def test_other_voice_and_bad_input():
    samples, sr, phones = espeak.synthesize("Guten Tag, schöne Grüße", voice="de")
    _check_tiling(phones, len(samples) / sr)
    with pytest.raises(UserError, match="voice"):
        espeak.synthesize("hello", voice="xx-nonexistent")
    with pytest.raises(UserError, match="empty"):
        espeak.synthesize("   ")
    with pytest.raises(UserError, match="rate"):
        espeak.synthesize("hello", rate=5)


@needs_espeak
def test_list_voices():
    english = espeak.list_voices("en")
    assert any("en-us" in v.languages for v in english)
    assert all(any(lang.startswith("en") for lang in v.languages) for v in english)
    assert len(espeak.list_voices("")) > len(english)


@needs_espeak
def test_phonemize_invented_words():
    phones = espeak.phonemize("zorblax")
    assert phones[0] == "Z" and phones[-2:] == ["K", "S"]
    assert all(p in PHONE_SET for p in phones)
    assert espeak.phonemize("") == []


def _synth_in_child(text: str):
    samples, sr, phones = espeak.synthesize(text)
    # espeak's timing varies by a few ms from run to run; the phones must not
    return len(samples) / sr, [(p.phone, p.word) for p in phones]


@needs_espeak
def test_threads_and_processes_agree():
    text = "Several processes speak at once."
    expected = _synth_in_child(text)
    results = []
    threads = [threading.Thread(target=lambda: results.append(_synth_in_child(text)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        results += list(pool.map(_synth_in_child, [text] * 2))
    assert len(results) == 5
    for duration, phones in results:
        assert phones == expected[1]
        assert duration == pytest.approx(expected[0], abs=0.05)


def test_missing_library_tells_how_to_install(monkeypatch):
    import ctypes
    import ctypes.util

    def no_library(*args, **kwargs):
        raise OSError("cannot open shared object file")

    monkeypatch.setattr(espeak, "_engine", None)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(ctypes, "CDLL", no_library)
    with pytest.raises(UserError, match="install") as info:
        espeak._synthesize_here("hello", "en-us", None, None, None, None, None)
    assert "\n" not in str(info.value)
    assert not espeak.is_available()


@pytest.mark.parametrize("ipa, arpabet", [
    ("oʊ", ["OW"]), ("aɪ", ["AY"]), ("ɑːɹ", ["AA", "R"]), ("ɜː", ["ER"]), ("ɚ", ["ER"]),
    ("tʃ", ["CH"]), ("dʒ", ["JH"]), ("ð", ["DH"]), ("θ", ["TH"]), ("ŋ", ["NG"]),
    ("ɾ", ["D"]), ("ʔ", ["HH"]), ("n̩", ["AH", "N"]), ("ᵻ", ["IH"]), ("ɐ", ["AH"]),
    ("y", ["UW"]), ("ø", ["OW"]), ("œ", ["AO"]), ("ç", ["HH"]), ("x", ["HH"]),
    ("ˈaɪɚ", ["AY", "ER"]), ("ɔø", ["OY"]), ("", ["SIL"]), ("_", ["SIL"]),
])
def test_ipa_table(ipa, arpabet):
    assert ipa_to_arpabet(ipa) == arpabet


def test_unknown_ipa_is_never_dropped(caplog):
    assert ipa_to_arpabet("ʬ") == ["AH"]   # bilabial percussive: not in the table
    assert "no ARPABET mapping" in caplog.text


@needs_espeak
def test_a_process_with_other_threads_speaks_the_same_samples():
    """Forking a multithreaded caller can leave the child waiting on a lock another thread
    held (it hung the suite once): children come from a forkserver, whatever runs here."""
    text = "Threads were running when this was spoken."
    alone = espeak.synthesize(text)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        busy = espeak.synthesize(text)
    finally:
        stop.set()
        other.join()
    assert np.array_equal(alone[0], busy[0]) and alone[1] == busy[1]
    assert [(p.phone, p.start, p.end) for p in alone[2]] == \
        [(p.phone, p.start, p.end) for p in busy[2]]


@needs_espeak
def test_a_script_without_a_main_guard_can_speak(tmp_path):
    """The forkserver's child must not run the caller's script again: a script with no
    ``if __name__ == "__main__"`` guard failed (the child re-ran it and tried to start a
    process while bootstrapping), and a heavy one paid its imports on every sentence."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "speak.py"
    marker = tmp_path / "runs.txt"
    script.write_text(
        "from emoface.audio import espeak\n"
        f"open({str(marker)!r}, 'a').write('run\\n')\n"
        "for text in ('one sentence.', 'and another one.'):\n"
        "    samples, rate, phones = espeak.synthesize(text)\n"
        "    print(len(samples) > 0, rate, len(phones) > 2)\n")
    root = Path(espeak.__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "22050", "True"] * 2
    assert marker.read_text() == "run\n"   # the script ran once: never in a child


@needs_espeak
def test_a_pool_worker_can_speak(tmp_path):
    """A ``multiprocessing.Pool`` worker is daemonic and may start no multiprocessing
    child: the corpus build's workers failed every espeak clip with an AssertionError when
    their parent had not spoken before the pool started (a fresh interpreter here, so no
    earlier test's forkserver hides it)."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "pool_speaks.py"
    script.write_text(
        "import multiprocessing\n"
        "from emoface.audio import espeak\n"
        "def speak(text):\n"
        "    samples, rate, phones = espeak.synthesize(text)\n"
        "    return len(samples), [p.phone for p in phones]\n"
        "if __name__ == '__main__':\n"
        "    with multiprocessing.get_context('fork').Pool(2) as pool:\n"
        "        got = pool.map(speak, ['one sentence.'] * 3)\n"
        "    assert len(set(map(str, got))) == 1, got\n"
        "    assert got[0] == speak('one sentence.'), 'a worker spoke other samples'\n"
        "    print('ok', got[0][0] > 0)\n")
    root = Path(espeak.__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ok", "True"]
