"""Weights on disk: safetensors with the model config (and training recipe) in the
metadata, so a file is self-describing and loads without pickle."""
from __future__ import annotations

import os
from pathlib import Path

from ...errors import UserError
from ...files import atomic_path, file_digest
from ...paths import ASSETS_DIR
from .config import ModelConfig

BUNDLED_MODEL = ASSETS_DIR / "model.safetensors"


def default_weights() -> Path:
    """The weights the neural engine uses: $EMOFACE_MODEL when set (your own training),
    else the bundled model."""
    env = os.environ.get("EMOFACE_MODEL")
    return Path(env) if env else BUNDLED_MODEL


def weights_available() -> bool:
    """True when the model's weights are present (bundled, or $EMOFACE_MODEL) and torch
    is importable."""
    from importlib.util import find_spec

    return default_weights().exists() and find_spec("torch") is not None


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a weights file: what caches and training records key on."""
    return file_digest(path, "sha256")

def save_checkpoint(net, path: str | os.PathLike, meta: dict | None = None,
                    half: bool = False) -> None:
    """Write ``net``'s weights (float16 when ``half``: the bundled copy) atomically."""
    from safetensors.torch import save_file


    tensors = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
               for k, v in net.state_dict().items()}
    metadata = {"config": net.cfg.to_json(), "format": "emoface-model-1"}
    metadata.update({k: str(v) for k, v in (meta or {}).items()})
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_metadata(path: str | os.PathLike) -> dict:
    """The file's metadata (config, training recipe) without importing torch."""
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        return dict(f.metadata() or {})


def read_config(path: str | os.PathLike) -> ModelConfig:
    path = Path(path)
    if not path.exists():
        raise UserError(f"model weights not found at {str(path)!r}"
                        + (" (run `make model` to train them)" if path == BUNDLED_MODEL else ""))
    try:
        return ModelConfig.from_json(read_metadata(path)["config"])
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure means "not our weights"
        raise UserError(f"{str(path)!r} is not an emoface model ({exc.__class__.__name__})") from None


def load_network(path: str | os.PathLike | None = None):
    """An :class:`EmoFaceNet` in eval mode with the weights of ``path`` (default: the
    bundled model), float32 whatever the file stores."""
    from safetensors.torch import load_file

    from .network import EmoFaceNet

    path = Path(path) if path else default_weights()
    if not path.exists():
        raise UserError(f"model weights not found at {str(path)!r}"
                        + (" (run `make model` to train them)" if path == BUNDLED_MODEL else ""))
    try:
        meta = read_metadata(path)
        cfg = ModelConfig.from_json(meta["config"])
        state = load_file(str(path))
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure means "not our weights"
        raise UserError(f"{str(path)!r} is not an emoface model ({exc.__class__.__name__})") from None
    net = EmoFaceNet(cfg)
    if LEGACY_STYLE_TABLE in state:   # earlier files: a style table whose row 0 was the one used
        state[NEUTRAL_TOKEN] = state.pop(LEGACY_STYLE_TABLE)[0]
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return net.eval()


LEGACY_STYLE_TABLE = "decoder.style_token.weight"
NEUTRAL_TOKEN = "decoder.neutral_token"
