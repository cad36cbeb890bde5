"""Shared fixtures. Data from ../shared/data is read in place and never copied here;
tests that need it skip cleanly when it is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

from emoface.paths import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root}")
    return root


def need(path: Path) -> Path:
    """Skip the calling test unless ``path`` exists (a file or folder of shared data)."""
    if not path.exists():
        pytest.skip(f"missing shared data: {path}")
    return path
