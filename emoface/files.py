"""Writing outputs so that a failure never leaves a partial file behind."""
from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import UserError


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early (before any heavy work) when ``path`` cannot be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise UserError(f"output {str(p)!r} is a directory; give a file name")
    if not parent.exists():
        raise UserError(f"cannot write {str(p)!r}: folder {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise UserError(f"cannot write {str(p)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write {str(p)!r}: folder {str(parent)!r} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise UserError(f"cannot write {str(p)!r}: file is read-only")
    # os.access says yes to root everywhere, and nothing to /proc or a full or read-only
    # file system: creating the temporary file the write will use is the real test.
    with signals_held():
        os.unlink(_temporary_beside(p))
    return p


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for a few statements (a temporary file made and its
    name kept), so Ctrl-C or SIGTERM cannot strand a file between the two."""
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "pthread_sigmask")):  # Windows
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _temporary_beside(target: Path) -> str:
    """A new empty file in ``target``'s folder, or one clear UserError."""
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp",
                                   dir=folder)
    except OSError as exc:
        raise UserError(f"cannot write {str(target)!r}: {exc.strerror or exc} "
                        f"in {str(folder)!r}") from None
    os.close(fd)
    return tmp


def leftover_temporaries(path: str | os.PathLike) -> list[Path]:
    """Temporary files beside ``path`` that writes to it made and never renamed: what a
    process killed outright (SIGKILL, power loss) leaves behind (see :func:`atomic_path`)."""
    target = Path(path)
    if not target.parent.is_dir():
        return []
    pattern = f".{glob.escape(target.name)}.*{glob.escape(target.suffix or '.tmp')}"
    return sorted(p for p in target.parent.glob(pattern) if p.is_file())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically,
    on any exception it is removed and ``path`` is left as it was."""
    target = check_writable(path)
    tmp = None
    try:
        with signals_held():
            tmp = _temporary_beside(target)
        yield Path(tmp)
        # mkstemp makes private files (and some writers recreate the file): give the
        # output the usual permissions (umask) just before it takes its name.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:  # an error, Ctrl-C, SIGTERM (emoface.errors.Terminated)
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in 1 MiB blocks: what caches and records key on."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
