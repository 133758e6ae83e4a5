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


class DeviceOutOfMemory(ConfigError):
    """The GPU ran out of memory; the message names the model, the batch size and what to lower."""


def out_of_memory(model: str, batch_size: int, precision: str, stage: str,
                  device: torch.device) -> DeviceOutOfMemory:
    """The error a CUDA out-of-memory becomes (raise it ``from`` the original).

    Args:
        model: the model's registered name (and variant).
        batch_size: the batch size that did not fit.
        precision: the run's precision (bf16 halves activation memory).
        stage: ``"training"`` or ``"inference"``.
        device: the device that ran out.
    """
    where = str(device)
    if device.type == "cuda" and torch.cuda.is_available():
        where += f" ({torch.cuda.get_device_name(device)})"
    smaller = max(1, batch_size // 2)
    advice = [f"lower the batch size (--set batch_size={smaller})"]
    if precision == "fp32":
        advice.append("use --precision bf16 (about half the activation memory)")
    advice.append("shorten the inputs (--feature-param trim_silence=10 cuts leading and trailing silence) or pick a "
                  "smaller variant")
    return DeviceOutOfMemory(
        f"{where} ran out of memory during {stage} of model {model!r} at batch size "
        f"{batch_size} ({precision}): " + "; or ".join(advice) + "."
    )
