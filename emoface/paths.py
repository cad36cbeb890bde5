"""Where things live: the package's bundled assets and the shared data beside the checkout."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
PROJECT_DIR = PACKAGE_DIR.parent


def shared_data_dir() -> Path:
    """``../shared/data`` beside the project checkout (override: $EMOFACE_SHARED_DATA).

    Tests and recipes read datasets from here and skip when it is absent; the data is never
    copied into the project."""
    env = os.environ.get("EMOFACE_SHARED_DATA")
    return Path(env) if env else PROJECT_DIR.parent / "shared" / "data"
