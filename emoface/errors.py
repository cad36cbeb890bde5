"""The user-error contract: one clear line on stderr, exit code 2, no partial output.

Raise :class:`UserError` for anything the user can fix (a missing file, audio that is not
audio, an unknown emotion, a bad option). The CLI prints ``emoface: error: <message>`` and
exits with code 2. Anything else is a bug and may show a traceback.
"""
from __future__ import annotations

import sys


class UserError(Exception):
    """A mistake in the user's input; its message is shown as-is, on one line."""

    exit_code = 2

    def __str__(self) -> str:  # keep the contract: one line, whatever the caller built
        return " ".join(super().__str__().split())


class Terminated(BaseException):
    """SIGTERM arrived: unwind like KeyboardInterrupt (finally blocks end child processes
    and remove temporary files), then exit with code 143."""

    exit_code = 143


def note(message: str) -> None:
    """A one-line note on stderr: what emoface decided for the user, and why."""
    sys.stderr.write(f"emoface: note: {message}\n")


def warn(message: str) -> None:
    """A one-line warning on stderr: the input was used, but not all of it as given."""
    sys.stderr.write(f"emoface: warning: {message}\n")
