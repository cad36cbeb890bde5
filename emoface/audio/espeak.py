"""Text to speech with exact phone timings, through a ctypes binding to libespeak-ng.

espeak-ng reports every phoneme it speaks as an event carrying the sample where it
starts, so the phones of synthesized speech are known exactly (no recognition needed).
It is also the letter-to-sound rule set for words a dictionary lacks (:func:`phonemize`).

The library keeps one global state per process, so every call holds ``_LOCK``; voice and
parameters are set afresh on each call. A forked child inherits a consistent state (the
synchronous mode starts no threads) and gets a fresh lock.

espeak-ng also carries state from one utterance to the next (the same text spoken twice
in one process differs by a few milliseconds), and restarting the library in-process hangs.
Only the first utterance of a process is reproducible, so :func:`synthesize` speaks each
text in a child process whose library has never spoken: same inputs, same samples. The
children are forked from a forkserver (started once, single-threaded), not from the
caller: a fork copies only the calling thread, and a caller running other threads (torch's,
a server's pool, a tokenizer's) can leave a lock held that the child waits on forever
(seen once, in the test suite).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import pickle
import sys
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from .ipa import ipa_to_arpabet
from .phones import SILENCE, Phone

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002
_INIT_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02

_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7

_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE, _PARAM_WORDGAP = 1, 2, 3, 4, 7
# espeak_ERROR: EE_OK = 0
_EE_OK = 0

INSTALL_HINT = ("espeak-ng is not installed (libespeak-ng.so.1 not found); install it, e.g. "
                "'apt install espeak-ng' (Debian/Ubuntu) or 'brew install espeak-ng' (macOS)")


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p),
                ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


class _Voice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Voice:
    """An installed espeak-ng voice: pass ``name`` (or ``identifier``) to :func:`synthesize`."""

    name: str
    identifier: str
    languages: tuple[str, ...]
    gender: str


class _Recording:
    """What one synthesis produced, filled in by the callback."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, int, int, int, bytes]] = []  # type, sample, pos, len, name

    def add(self, wav, n: int, events) -> None:
        if n > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type in (_EVENT_WORD, _EVENT_PHONEME):
                name = bytes(e.id.string).split(b"\0", 1)[0] if e.type == _EVENT_PHONEME else b""
                self.events.append((e.type, e.sample, e.text_position, e.length, name))
            i += 1


class _Engine:
    def __init__(self) -> None:
        path = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            try:
                lib = ctypes.CDLL("libespeak-ng.so.1")
            except OSError:
                raise UserError(INSTALL_HINT) from None
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_GetParameter.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                              ctypes.c_int]
        sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
            _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT)
        if sample_rate <= 0:
            raise UserError("espeak-ng is installed but failed to start (its data folder "
                            "espeak-ng-data may be missing); reinstall espeak-ng")
        self.lib = lib
        self.sample_rate = int(sample_rate)
        self.recording: _Recording | None = None
        self._callback = _SynthCallback(self._on_audio)  # kept alive: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.defaults = {p: lib.espeak_GetParameter(p, 0)
                         for p in (_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE,
                                   _PARAM_WORDGAP)}

    def _on_audio(self, wav, n, events) -> int:
        if self.recording is not None:
            self.recording.add(wav, n, events)
        return 0

    def set_voice(self, voice: str) -> None:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise UserError(f"unknown espeak-ng voice {voice!r}; "
                            f"see emoface.audio.list_voices() for installed voices")

    def set_parameters(self, values: dict[int, int | None]) -> None:
        for param, default in self.defaults.items():
            value = values.get(param)
            self.lib.espeak_SetParameter(param, int(default if value is None else value), 0)


_LOCK = threading.Lock()
_engine: _Engine | None = None


def _reset_after_fork() -> None:
    global _LOCK, _server_inherited
    _LOCK = threading.Lock()
    _server_inherited = _server_inherited or _server_started


os.register_at_fork(after_in_child=_reset_after_fork)


def _get_engine() -> _Engine:
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def is_available() -> bool:
    """True when libespeak-ng can be loaded and started."""
    try:
        with _LOCK:
            _get_engine()
        return True
    except UserError:
        return False


def _check_range(name: str, value: int | None, low: int, high: int) -> int | None:
    if value is None:
        return None
    if not low <= value <= high:
        raise UserError(f"espeak-ng {name} must be between {low} and {high}, got {value}")
    return int(value)


def synthesize(text: str, voice: str = "en-us", rate: int | None = None,
               pitch: int | None = None, pitch_range: int | None = None,
               volume: int | None = None, word_gap: int | None = None,
               ) -> tuple[np.ndarray, int, list[Phone]]:
    """Speak ``text``; returns ``(samples float32 in [-1, 1], sample_rate, phones)``.

    ``rate`` words per minute (80..450), ``pitch`` and ``pitch_range`` 0..100, ``volume``
    0..200, ``word_gap`` extra pause between words in units of 10 ms; None keeps espeak's
    default. Phone times are espeak's own phoneme events (exact); pauses become SIL and
    the phones cover the whole audio. Deterministic: each call speaks in a fresh child
    process (see the module notes), which costs a few milliseconds."""
    args = (text, voice, rate, pitch, pitch_range, volume, word_gap)
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return _synthesize_here(*args)
    return _in_fresh_child(_synthesize_here, *args)


def _outcome_bytes(fn, args) -> bytes:
    try:
        outcome = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent to re-raise
        outcome = ("error", exc)
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001
        return pickle.dumps(("error", RuntimeError(f"espeak child: {exc!r}")))


def _result(payload: bytes):
    if not payload:
        raise RuntimeError("espeak-ng synthesis process died without a result")
    status, value = pickle.loads(payload)
    if status == "error":
        raise value
    return value


def _forkserver_child(conn, fn, args) -> None:
    conn.send_bytes(_outcome_bytes(fn, args))
    conn.close()


_server_started = False     # this process started the forkserver
_server_inherited = False   # this process is a fork of one that had


def _in_fresh_child(fn, *args):
    """Run ``fn(*args)`` in a fresh child process and return its result (or raise its
    error). Children come from the forkserver; a process forked from one that started the
    server cannot use it (multiprocessing ties it to its starter), and a daemonic process
    (a ``multiprocessing.Pool`` worker, as the corpus build's) may start no
    multiprocessing children at all: both fork their own."""
    global _server_started
    if _server_inherited or multiprocessing.current_process().daemon:
        return _in_forked_child(fn, *args)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])   # only read when the server starts
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_forkserver_child, args=(send, fn, args), daemon=True)
    _server_started = True
    with _main_script_hidden():
        child.start()
    send.close()
    try:
        payload = receive.recv_bytes()
    except EOFError:
        payload = b""
    child.join()
    return _result(payload)


@contextlib.contextmanager
def _main_script_hidden():
    """While a child starts, the caller's script is not named to multiprocessing, which
    would otherwise run it again in the child (as ``__mp_main__``) before ``fn``: a script
    without an ``if __name__ == "__main__"`` guard then failed, and one importing torch
    paid a second of imports per sentence. ``fn`` lives in this module, so the child
    needs nothing from the script."""
    main = sys.modules.get("__main__")
    path = None
    if main is not None and getattr(main, "__spec__", None) is None:
        path = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


def _in_forked_child(fn, *args):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        os.close(read_end)
        payload = _outcome_bytes(fn, args)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    return _result(payload)


def _synthesize_here(text: str, voice: str, rate: int | None, pitch: int | None,
                     pitch_range: int | None, volume: int | None, word_gap: int | None,
                     ) -> tuple[np.ndarray, int, list[Phone]]:
    if not text or not text.strip():
        raise UserError("nothing to synthesize: the text is empty")
    params = {_PARAM_RATE: _check_range("rate", rate, 80, 450),
              _PARAM_PITCH: _check_range("pitch", pitch, 0, 100),
              _PARAM_RANGE: _check_range("pitch range", pitch_range, 0, 100),
              _PARAM_VOLUME: _check_range("volume", volume, 0, 200),
              _PARAM_WORDGAP: _check_range("word gap", word_gap, 0, 1000)}
    encoded = text.encode("utf-8")
    with _LOCK:
        engine = _get_engine()
        engine.set_voice(voice)
        engine.set_parameters(params)
        recording = _Recording()
        engine.recording = recording
        try:
            buf = ctypes.create_string_buffer(encoded)
            engine.lib.espeak_Synth(buf, len(encoded) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            engine.lib.espeak_Synchronize()
        finally:
            engine.recording = None
        sample_rate = engine.sample_rate
    pcm = np.concatenate(recording.chunks) if recording.chunks else np.zeros(0, np.int16)
    samples = pcm.astype(np.float32) / 32768.0
    phones = _phones_from_events(recording.events, text, len(samples), sample_rate)
    return samples, sample_rate, phones


def _phones_from_events(events, text: str, n_samples: int, sample_rate: int) -> list[Phone]:
    duration = n_samples / sample_rate
    words: dict[int, str] = {}
    for kind, _sample, pos, length, _name in events:
        if kind == _EVENT_WORD and pos > 0:
            words[pos] = text[pos - 1:pos - 1 + length]   # text_position counts from 1
    starts: list[tuple[float, str, str]] = []            # (time, label, word)
    for kind, sample, pos, _length, name in events:
        if kind == _EVENT_PHONEME:
            label = name.decode("utf-8", errors="replace")
            starts.append((min(sample / sample_rate, duration), label, words.get(pos, "")))
    phones: list[Phone] = []
    if not starts or starts[0][0] > 0:
        phones.append(Phone(0.0, starts[0][0] if starts else duration, SILENCE, "", ""))
    for k, (start, label, word) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else duration
        if end <= start:
            continue
        arpabet = ipa_to_arpabet(label)
        if arpabet == [SILENCE]:
            word = ""
        step = (end - start) / len(arpabet)
        for j, p in enumerate(arpabet):
            phones.append(Phone(start + j * step, end if j == len(arpabet) - 1 else
                                start + (j + 1) * step, p, label, word))
    return _merge_silences(phones)


def _merge_silences(phones: list[Phone]) -> list[Phone]:
    out: list[Phone] = []
    for p in phones:
        if out and p.is_silence and out[-1].is_silence:
            out[-1] = Phone(out[-1].start, p.end, SILENCE, out[-1].label, "")
        else:
            out.append(p)
    return out


def phonemize(text: str, voice: str = "en-us") -> list[str]:
    """ARPABET phones for ``text`` (typically one word a dictionary lacks), from espeak's
    letter-to-sound rules. Word boundaries and stress are dropped."""
    if not text or not text.strip():
        return []
    separator = ord("_")
    mode = _PHONEMES_IPA | (separator << 8)
    pieces: list[str] = []
    with _LOCK:
        engine = _get_engine()
        engine.set_voice(voice)
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        pointer = ctypes.c_char_p(ctypes.addressof(buf))
        # one call per clause; espeak advances the pointer and sets it to NULL at the end
        while pointer.value:
            out = engine.lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, mode)
            if out:
                pieces.append(out.decode("utf-8", errors="replace"))
    phones: list[str] = []
    for piece in pieces:
        for name in piece.replace(" ", "_").split("_"):
            if not name:
                continue
            phones.extend(p for p in ipa_to_arpabet(name) if p != SILENCE)
    return phones


def list_voices(language_prefix: str = "en") -> list[Voice]:
    """Installed voices whose language starts with ``language_prefix`` ("" for all)."""
    with _LOCK:
        engine = _get_engine()
        array = engine.lib.espeak_ListVoices(None)
        voices: list[Voice] = []
        i = 0
        while array and array[i]:
            v = array[i].contents
            languages = _parse_languages(v.languages)
            if not language_prefix or any(lang.startswith(language_prefix) for lang in languages):
                voices.append(Voice(name=(v.name or b"").decode(errors="replace"),
                                    identifier=(v.identifier or b"").decode(errors="replace"),
                                    languages=languages,
                                    gender={1: "male", 2: "female"}.get(v.gender, "")))
            i += 1
    return voices


def _parse_languages(address: int | None) -> tuple[str, ...]:
    """espeak packs languages as (priority byte, NUL-terminated name) pairs ending in 0."""
    if not address:
        return ()
    out: list[str] = []
    offset = 0
    while True:
        priority = ctypes.c_ubyte.from_address(address + offset).value
        if priority == 0:
            break
        name = ctypes.string_at(address + offset + 1)
        out.append(name.decode(errors="replace"))
        offset += 1 + len(name) + 1
    return tuple(out)


def library_version() -> str:
    """The libespeak-ng version string (``espeak_Info``); loads the library, speaks nothing."""
    with _LOCK:
        lib = _get_engine().lib
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        return lib.espeak_Info(None).decode()
