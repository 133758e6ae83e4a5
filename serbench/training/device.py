"""``--device auto|cpu|cuda``: which torch device a run uses."""

from __future__ import annotations

import torch

from serbench.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """Turn the user's ``--device`` into a torch device.

    Args:
        name: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or
            ``cuda:<index>``.
    Raises:
        ConfigError: unknown name, or CUDA requested on a machine without it.
    """
    choice = (name or "auto").strip().lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda" or choice.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"--device {name} was requested but torch {torch.__version__} sees no CUDA "
                "device (CPU-only build or no GPU/driver). Use --device cpu or --device auto."
            )
        device = torch.device(choice)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) exist"
            )
        return device
    raise ConfigError(f"unknown --device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")
