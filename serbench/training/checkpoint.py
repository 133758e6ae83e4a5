"""Model checkpoints that are safe to open: tensors in ``.pt``, everything else in JSON.

A run folder is shared between people, so opening one must never run code. A fold's
checkpoint is two files:

- ``model_<fold>.pt``: the state dict alone (``{name: tensor}``), written by
  ``torch.save`` and read only with ``torch.load(..., weights_only=True)``, torch's
  restricted unpickler that rebuilds tensors and plain containers and refuses any other
  object (so a pickled payload is never executed);
- ``model_<fold>.json``: the metadata (``model``, ``version``, ``input_spec``,
  ``hparams``), plain JSON.

Checkpoints written before this split hold one pickled dict ``{"state_dict",
"input_spec", "hparams", "model", "version"}`` of plain values; ``weights_only=True``
reads those too, so old run folders stay readable without lowering the guard.

scikit-learn estimators are never saved: their only serialisation is pickle, so a run
folder holds no file that would need unpickling (their predictions and scores are in
the fold results).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from serbench.atomic import write_atomic
from serbench.errors import ConfigError

#: metadata keys every checkpoint carries
META_KEYS = ("model", "version", "input_spec", "hparams")


def metadata_path(weights: Path) -> Path:
    """``model_<fold>.json`` beside ``model_<fold>.pt``."""
    return Path(weights).with_suffix(".json")


def save_checkpoint(path: Path, state_dict: dict[str, Any], meta: dict[str, Any]) -> None:
    """Write the weights to ``path`` and ``meta`` (JSON values only) beside it.

    The metadata goes first and each file is replaced atomically, so a ``.pt`` file
    always has its metadata.

    Raises:
        ConfigError: ``meta`` lacks a key of :data:`META_KEYS` or is not JSON-serialisable.
    """
    import torch

    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise ConfigError(f"checkpoint metadata for {path} lacks {missing}")
    try:
        text = json.dumps(meta, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"checkpoint metadata for {path} is not plain JSON ({exc}); "
                          "hyperparameters must be numbers, text, lists or mappings") from None
    path = Path(path)
    write_atomic(metadata_path(path), lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    weights = {str(k): v.detach().cpu() for k, v in state_dict.items()}
    write_atomic(path, lambda tmp: torch.save(weights, tmp))


def _refused(path: Path, exc: Exception) -> ConfigError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ConfigError(
        f"{path} was refused: it is not a plain weights file (torch's safe loader says: "
        f"{first[:300]}). A checkpoint holding other objects can run code when unpickled, "
        "so serbench does not open it. Re-run the fold with this serbench to write a "
        "clean checkpoint, and do not open this file unless you trust where it came from."
    )


def load_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(state_dict, metadata)`` of a checkpoint, loaded without running any code.

    Raises:
        ConfigError: a file that holds anything but tensors and plain containers (refused,
            never executed), a truncated or unreadable file, or missing metadata.
    """
    import pickle

    import torch

    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _refused(path, exc) from None
    except (EOFError, RuntimeError, OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read as a checkpoint ({type(exc).__name__}: "
                          f"{str(exc)[:200]}); it may be truncated. Re-run the fold to "
                          "write it again.") from None
    meta_file = metadata_path(path)
    if isinstance(obj, dict) and "state_dict" in obj and not meta_file.is_file():
        # the single-file format of earlier serbench versions (plain values only)
        meta = {k: obj.get(k) for k in META_KEYS}
        state = obj["state_dict"]
    else:
        if not meta_file.is_file():
            raise ConfigError(f"{path} has no metadata file {meta_file.name}; re-run the fold "
                              "to write both")
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{meta_file} is not readable JSON ({exc}); re-run the fold "
                              "to write it again") from None
        state = obj
    missing = [k for k in META_KEYS if not isinstance(meta, dict) or k not in meta]
    if missing or not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"{path}: not a serbench checkpoint (metadata lacks {missing} or the "
                          "weights are not a mapping of tensors); re-run the fold")
    return state, meta
