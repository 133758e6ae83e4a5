"""The candidate activations a :class:`~serbench_ar_gru.gru.GRU` can use, by name.

The AR-GRU paper replaces the tanh of the GRU's candidate state with another function:
``tanh`` (a standard GRU, IAAN), ``relu`` (R-GRU), ``arelu`` (AR-GRU, eq. 1), and lists
``leaky_relu``, ``selu`` and ``mish`` as future work. Each is registered here as a
factory returning a fresh ``torch.nn.Module`` (one instance per GRU direction and layer,
so learnable activations such as AReLU get their own parameters in each).

A third party adds an activation in either of two ways, without touching this package:

* call :func:`register_activation` (e.g. from their own plugin module)::

      register_activation("swish", "my_pkg.acts:Swish", params=("swish_beta",))

* or declare an entry point in the ``serbench_ar_gru.activations`` group, whose name is
  the activation name and whose value is the factory::

      [project.entry-points."serbench_ar_gru.activations"]
      swish = "my_pkg.acts:Swish"

``params`` names the model hyperparameters the factory takes as keyword arguments
(AReLU takes ``alpha``, ``beta``, ``alpha_floor``); ``activation_params`` in the model's
hyperparameters passes any others.

This module does not import torch at import time: factories are lazy references.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from serbench.errors import ConfigError, SerbenchError
from serbench.lazy import resolve

ENTRY_POINT_GROUP = "serbench_ar_gru.activations"


@dataclass(frozen=True)
class ActivationEntry:
    """A registered activation: its factory and the hyperparameters it reads."""

    name: str
    factory: str | Callable[..., Any]
    params: tuple[str, ...] = ()
    description: str = ""


_BUILTIN: tuple[ActivationEntry, ...] = (
    ActivationEntry("tanh", "torch.nn:Tanh", (), "the standard GRU candidate activation"),
    ActivationEntry("relu", "torch.nn:ReLU", (), "R-GRU: ReLU candidate activation"),
    ActivationEntry(
        "arelu",
        "serbench_ar_gru.arelu:AReLU",
        ("alpha", "beta", "alpha_floor"),
        "AR-GRU: attention-based ReLU, eq. 1 (learnable alpha, beta)",
    ),
    ActivationEntry(
        "leaky_relu", "torch.nn:LeakyReLU", ("negative_slope",), "leaky ReLU (future work)"
    ),
    ActivationEntry("selu", "torch.nn:SELU", (), "SELU (future work)"),
    ActivationEntry("mish", "torch.nn:Mish", (), "Mish (future work)"),
)

_registry: dict[str, ActivationEntry] = {entry.name: entry for entry in _BUILTIN}
_entry_points_loaded = False


def register_activation(
    name: str,
    factory: str | Callable[..., Any],
    *,
    params: Iterable[str] = (),
    description: str = "",
    overwrite: bool = False,
) -> None:
    """Make ``name`` usable as the GRU's candidate activation.

    Args:
        name: the value of the model hyperparameter ``activation``.
        factory: ``"package.module:attr"`` or a callable returning a ``torch.nn.Module``.
        params: model hyperparameters passed to ``factory`` as keyword arguments.
        description: one line for listings.
        overwrite: replace an existing registration instead of raising.
    """
    if name in _registry and not overwrite:
        raise SerbenchError(
            f"activation {name!r} is already registered (factory {_registry[name].factory!r}); "
            "pick another name, or pass overwrite=True to replace it on purpose"
        )
    _registry[name] = ActivationEntry(name, factory, tuple(params), description)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _registry:
            dist = ep.dist.name if ep.dist is not None else "?"
            raise SerbenchError(
                f"activation {ep.name!r} from entry point {ep.value!r} (distribution {dist}) "
                f"clashes with an existing registration ({_registry[ep.name].factory!r}); "
                "rename one of them"
            )
        _registry[ep.name] = ActivationEntry(ep.name, ep.value, (), f"from {ep.value}")


def activation_names() -> list[str]:
    """Every registered activation name, sorted."""
    _load_entry_points()
    return sorted(_registry)


def activation_entry(name: str) -> ActivationEntry:
    """The registration of ``name``; unknown names raise a ConfigError listing the known."""
    _load_entry_points()
    try:
        return _registry[name]
    except KeyError:
        raise ConfigError(
            f"unknown GRU candidate activation {name!r} (hyperparameter 'activation'); "
            f"known: {', '.join(sorted(_registry))}. Register new ones with "
            "serbench_ar_gru.activations.register_activation."
        ) from None


def make_activation(
    name: str,
    hparams: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """A fresh activation module.

    Args:
        name: a registered activation name.
        hparams: model hyperparameters; the entry's ``params`` present here are passed.
        extra: further keyword arguments (the model's ``activation_params``).
    Returns:
        a ``torch.nn.Module`` mapping (...) -> (...).
    """
    entry = activation_entry(name)
    kwargs = {k: hparams[k] for k in entry.params if hparams is not None and k in hparams}
    kwargs.update(extra or {})
    factory = resolve(entry.factory)
    try:
        module = factory(**kwargs)
    except TypeError as exc:
        raise ConfigError(
            f"activation {name!r} ({entry.factory!r}) rejected arguments {kwargs}: {exc}. "
            "Check the model's 'activation_params'."
        ) from exc
    module.activation_name = name  # lets fast recurrence paths dispatch on the function
    return module
