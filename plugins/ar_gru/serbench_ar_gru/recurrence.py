"""The GRU recurrence over time, with a pluggable candidate activation: the reference loop
and the registry through which faster implementations are swapped in.

The GRU of Cho et al. (2014), in PyTorch's gate order (r, z, n), with the tanh of the
candidate state replaced by ``act`` (AR-GRU paper, section 2.3 and Fig. 1)::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = act(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

A *recurrence* runs this over time for one direction, given the input projections
``gi = x W_ih^T + b_ih`` already computed for every step (one batched matmul done by the
caller). Every implementation has the signature of :func:`reference_recurrence` and
the same semantics:

* it runs forward in time; :class:`~serbench_ar_gru.gru.GRU` handles the backward
  direction by reversing each row within its length, so a backward pass starts at each
  row's last valid step;
* at steps ``t >= lengths[b]`` the state of row ``b`` is frozen and the output is zero, so
  padding never changes a result;
* it returns ``(outputs (B, T, H), h_last (B, H))`` where ``h_last`` is each row's state
  after its last valid step.

Faster implementations (issue 11: a hand-written backward, a C++ extension, a kernel)
register with :func:`register_recurrence` and are tested against
:func:`reference_recurrence`. ``implementation="auto"`` takes the first registered fast
path, by priority, whose ``supports(activation, device)`` says yes, else the reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from serbench.errors import ConfigError
from serbench.lazy import resolve
from torch import nn

#: ``fn(gi, lengths, h0, weight_hh, bias_hh, activation) -> (outputs, h_last)``
Recurrence = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, nn.Module],
    tuple[torch.Tensor, torch.Tensor],
]


def reference_recurrence(
    gi: torch.Tensor,
    lengths: torch.Tensor,
    h0: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_hh: torch.Tensor,
    activation: nn.Module,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The GRU recurrence as a plain Python loop over time (the reference for fast paths).

    Args:
        gi: (B, T, 3H) input projections ``x_t W_ih^T + b_ih`` in gate order (r, z, n).
        lengths: (B,) long, valid steps per row (>= 1), on any device.
        h0: (B, H) initial state.
        weight_hh: (3H, H) recurrent weights ``[W_hr; W_hz; W_hn]``.
        bias_hh: (3H,) recurrent biases ``[b_hr; b_hz; b_hn]``.
        activation: the candidate activation ``act`` (tanh in a standard GRU).
    Returns:
        outputs: (B, T, H), zero at padded steps.
        h_last: (B, H), each row's state after its last valid step.
    """
    steps = gi.shape[1]
    hidden = h0.shape[-1]
    lengths = lengths.to(gi.device)
    valid = (torch.arange(steps, device=gi.device).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1)
    # Steps where every row is still valid need no masking (most steps, with bucketing).
    full_until = int(lengths.min())
    gi_rz, gi_n = gi.split([2 * hidden, hidden], dim=-1)
    w_hh_t = weight_hh.t()
    h = h0
    outputs = []
    for t in range(steps):
        gh = torch.addmm(bias_hh, h, w_hh_t)  # (B, 3H): one matmul for all three gates
        r, z = torch.sigmoid(gi_rz[:, t] + gh[:, : 2 * hidden]).chunk(2, dim=-1)
        n = activation(gi_n[:, t] + r * gh[:, 2 * hidden :])
        h_new = n + z * (h - n)  # == (1 - z) * n + z * h
        if t < full_until:
            h = h_new
            outputs.append(h_new)
        else:
            keep = valid[:, t]
            h = torch.where(keep, h_new, h)
            outputs.append(h_new * keep)
    return torch.stack(outputs, dim=1), h


@dataclass(frozen=True)
class RecurrenceEntry:
    """A registered recurrence implementation.

    ``fn`` has :func:`reference_recurrence`'s signature; ``supports`` (optional) is
    ``supports(activation: nn.Module, device: torch.device) -> bool`` and says whether
    ``fn`` handles that activation on that device (used by ``"auto"``).
    """

    name: str
    fn: str | Recurrence
    supports: str | Callable[[nn.Module, torch.device], bool] | None = None
    priority: int = 0


_registry: dict[str, RecurrenceEntry] = {
    "reference": RecurrenceEntry("reference", reference_recurrence, None, -1000),
    # issue 11: serbench's hand-written backward through time (element-wise activations)
    "fast": RecurrenceEntry(
        "fast",
        "serbench.nn.fast_rnn.gru:gru_recurrence",
        "serbench.nn.fast_rnn.gru:supports",
        100,
    ),
}
_warned: set[str] = set()


def register_recurrence(
    name: str,
    fn: str | Recurrence,
    *,
    supports: str | Callable[[nn.Module, torch.device], bool] | None = None,
    priority: int = 0,
) -> None:
    """Register a recurrence implementation under ``name`` (replacing one of that name).

    Args:
        name: the value of the GRU's ``implementation`` argument.
        fn: ``"package.module:attr"`` or a callable with the reference's signature.
        supports: optional predicate ``(activation, device) -> bool`` for ``"auto"``.
        priority: ``"auto"`` tries higher priorities first.
    """
    if name == "reference":
        raise ConfigError("the name 'reference' is reserved for reference_recurrence")
    _registry[name] = RecurrenceEntry(name, fn, supports, priority)


def recurrence_names() -> list[str]:
    """Registered implementation names (always includes ``reference``), plus ``auto``."""
    return ["auto", *sorted(_registry)]


def select_recurrence(name: str, activation: nn.Module, device: torch.device) -> Recurrence:
    """The recurrence function to use.

    Args:
        name: ``"auto"``, ``"reference"`` or a registered name.
        activation: the candidate activation the GRU direction uses.
        device: where the computation runs.
    """
    if name == "auto":
        for entry in sorted(_registry.values(), key=lambda e: -e.priority):
            if entry.name == "reference":
                continue
            try:
                fn = resolve(entry.fn)
                ok = entry.supports is None or bool(resolve(entry.supports)(activation, device))
            except Exception as exc:  # a missing compiled path falls back, never crashes
                if entry.name not in _warned:
                    _warned.add(entry.name)
                    warnings.warn(
                        f"GRU recurrence {entry.name!r} unavailable ({exc}); using the "
                        "reference implementation",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                continue
            if ok:
                return fn
        return reference_recurrence
    if name not in _registry:
        raise ConfigError(
            f"unknown GRU implementation {name!r}; known: {', '.join(recurrence_names())}"
        )
    return resolve(_registry[name].fn)
