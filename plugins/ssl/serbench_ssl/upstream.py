"""Which self-supervised model the ``ssl`` feature reads, and loading it.

``model`` is a local folder (``config.json``, the weights, optionally
``preprocessor_config.json``: what ``save_pretrained`` writes) or a Hugging Face Hub id.
A hub id is resolved through ``huggingface_hub``'s cache: only ``config.json`` and
``preprocessor_config.json`` are fetched to build the cache key, the weights when the
first utterance is extracted. Nothing is fetched for a local folder, nor when
``HF_HUB_OFFLINE`` is set (then only what the hub cache already holds is used).

The fingerprint (part of the feature cache key) is the SHA-256 of the config files and,
for a local folder, of the weight files; for a hub id it is the commit the revision
resolved to. Two checkpoints therefore never share cache entries.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError

#: transformers' ``model_type`` of every supported upstream
SUPPORTED = ("wavlm", "hubert", "wav2vec2", "data2vec-audio", "whisper")
CONFIG_FILES = ("config.json", "preprocessor_config.json")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
_HOW_LOCAL = ("to use a local copy, download it on a machine with network "
              "(`hf download {id} --local-dir DIR`, or `save_pretrained(DIR)` in Python), "
              "copy DIR here and pass --feature-param model=DIR")
_HASHES: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class Upstream:
    """A located model: where its files are and what they hold.

    Attributes:
        source: what the user gave (``model=...``).
        folder: a local folder holding ``config.json`` (a hub snapshot for a hub id).
        config: the ``transformers`` config object.
        hub_id: the hub id, or ``None`` for a local folder.
        commit: the hub commit the revision resolved to (``None`` for a local folder).
        fingerprint: ``{"config_sha256": ..., "weights_sha256" | "commit": ...}``.
    """

    source: str
    folder: Path
    config: Any
    hub_id: str | None = None
    commit: str | None = None
    fingerprint: dict[str, str] = field(default_factory=dict)

    @property
    def model_type(self) -> str:
        return str(self.config.model_type)

    @property
    def num_layers(self) -> int:
        """N transformer layers; the model gives N + 1 hidden states (0 = its input)."""
        if self.model_type == "whisper":
            return int(self.config.encoder_layers)
        return int(self.config.num_hidden_layers)

    @property
    def hidden_size(self) -> int:
        """H, the size of each hidden state."""
        return int(self.config.d_model if self.model_type == "whisper" else self.config.hidden_size)


def _sha256(paths: list[Path]) -> str:
    """SHA-256 over the files' bytes, memoised per process by (path, size, mtime)."""
    digest = hashlib.sha256()
    for path in paths:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _HASHES:
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            _HASHES[key] = h.hexdigest()
        digest.update(f"{path.name}:{_HASHES[key]};".encode())
    return digest.hexdigest()


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _looks_like_path(source: str) -> bool:
    return (source.startswith(("/", ".", "~")) or source.count("/") > 1
            or os.sep != "/" and os.sep in source)


def _hub_snapshot(hub_id: str, revision: str | None) -> Path:
    """The hub cache folder with ``hub_id``'s config files at ``revision``."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"--feature-param model={hub_id}" + (f" revision={revision}" if revision else "")
    how = _HOW_LOCAL.format(id=hub_id)
    try:
        return Path(snapshot_download(hub_id, revision=revision, allow_patterns=list(CONFIG_FILES),
                                      local_files_only=_offline()))
    except (HFValidationError, RepositoryNotFoundError, GatedRepoError) as exc:
        raise ConfigError(f"{where}: {hub_id!r} is neither a local folder nor a model the "
                          f"Hugging Face Hub lets this machine fetch ({type(exc).__name__}); "
                          f"check the name (e.g. microsoft/wavlm-base-plus); {how}") from None
    except RevisionNotFoundError:
        raise ConfigError(f"{where}: the hub model {hub_id!r} has no revision {revision!r}; "
                          "give a branch, tag or commit it has") from None
    except LocalEntryNotFoundError:
        raise ConfigError(f"{where}: {hub_id!r} is not a local folder and cannot be fetched "
                          "from the Hugging Face Hub (no network, or HF_HUB_OFFLINE is set, and "
                          f"it is not in the hub cache); {how}") from None
    except OSError as exc:  # connection errors and the like
        raise ConfigError(f"{where}: fetching {hub_id!r} from the Hugging Face Hub failed "
                          f"({exc}); {how}") from None


def _read_config(folder: Path, what: str) -> Any:
    from transformers import AutoConfig

    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ConfigError(f"{what}: {folder} has no config.json (the model's architecture); a "
                          "model folder is what save_pretrained(DIR) or `hf download ID "
                          "--local-dir DIR` writes: config.json and model.safetensors")
    try:
        config = AutoConfig.from_pretrained(str(folder))
    except (ValueError, KeyError, OSError) as exc:
        raise ConfigError(f"{what}: {config_path} is not a usable transformers config ({exc}); "
                          f"it needs a 'model_type', one of {', '.join(SUPPORTED)}") from None
    if config.model_type not in SUPPORTED:
        raise ConfigError(f"{what}: {config_path} has model_type {config.model_type!r}; the ssl "
                          f"feature reads {', '.join(SUPPORTED)}")
    return config


def locate(source: str | None, revision: str | None = None) -> Upstream:
    """Find ``source`` (a local folder or a hub id) and check its config, before any work.

    Raises:
        ConfigError: no ``model`` given, a missing folder, a folder without ``config.json``
            or weights, an unsupported ``model_type``, or a hub id that cannot be fetched
            (each message says what to do).
    """
    if not isinstance(source, str) or not source.strip():
        raise ConfigError("feature 'ssl' needs --feature-param model=<local folder or hub id>, "
                          "e.g. model=microsoft/wavlm-base-plus or model=/models/wavlm-base-plus")
    what = f"--feature-param model={source}"
    folder = Path(source).expanduser()
    if folder.is_dir():
        config = _read_config(folder, what)
        weights = [folder / n for n in WEIGHT_FILES if (folder / n).is_file()]
        if not weights:
            raise ConfigError(f"{what}: {folder} has no weights (none of {', '.join(WEIGHT_FILES)})"
                              "; save the model there with save_pretrained(DIR)")
        if any(w.name.endswith(".index.json") for w in weights):  # sharded: hash every shard
            weights += sorted(folder.glob("model-*.safetensors")) + sorted(folder.glob("pytorch_model-*.bin"))
        configs = [folder / n for n in CONFIG_FILES if (folder / n).is_file()]
        return Upstream(source=source, folder=folder, config=config,
                        fingerprint={"config_sha256": _sha256(configs),
                                     "weights_sha256": _sha256(weights)})
    if folder.exists() or _looks_like_path(source):
        raise ConfigError(f"{what}: no such folder ({folder}); give a folder holding config.json "
                          "and the weights, or a Hugging Face Hub id such as "
                          "microsoft/wavlm-base-plus")
    snapshot = _hub_snapshot(source, revision)
    config = _read_config(snapshot, what)
    configs = [snapshot / n for n in CONFIG_FILES if (snapshot / n).is_file()]
    return Upstream(source=source, folder=snapshot, config=config, hub_id=source,
                    commit=snapshot.name,
                    fingerprint={"config_sha256": _sha256(configs), "commit": snapshot.name})


def load_model(upstream: Upstream, device: str) -> Any:
    """The upstream's torch module in eval mode on ``device`` (Whisper: its encoder only).

    Returns a module whose ``forward(inputs, output_hidden_states=True)`` returns
    ``hidden_states``: N + 1 tensors of shape (B, T, H).
    """
    from transformers import AutoModel
    from transformers.utils import logging

    logging.disable_progress_bar()  # one bar per worker process would garble the cache's bar
    where = upstream.source if upstream.hub_id is None else upstream.hub_id
    kwargs: dict[str, Any] = {}
    if upstream.hub_id is not None:
        kwargs = {"revision": upstream.commit, "local_files_only": _offline()}
    try:
        model = AutoModel.from_pretrained(where, **kwargs)
    except OSError as exc:
        raise ConfigError(f"--feature-param model={upstream.source}: loading the weights failed "
                          f"({exc}); {_HOW_LOCAL.format(id=where)}") from None
    if upstream.model_type == "whisper":
        model = model.get_encoder()
    return model.eval().to(device)
