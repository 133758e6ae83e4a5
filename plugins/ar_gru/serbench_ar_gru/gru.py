"""A batch-first, length-aware GRU whose candidate activation is pluggable (AR-GRU, Fig. 1).

Parameters are named as in ``torch.nn.GRU`` (``weight_ih_l0``, ``weight_hh_l0_reverse``,
...), so that with ``activation="tanh"`` a :class:`GRU` loads an ``nn.GRU``'s weights
and computes the same function (tested). Each direction of each layer owns its own
activation module: a learnable activation such as AReLU has its ``alpha`` and ``beta``
per layer and direction, the paper's "two extra learnable parameters per layer".

The recurrence itself is delegated to :mod:`serbench_ar_gru.recurrence` (the reference
Python loop, or a registered fast path), after all input projections of a layer, both
directions together, are computed in one batched matmul.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from serbench.nn.recurrent import reverse_within_lengths
from torch import nn

from serbench_ar_gru.activations import make_activation
from serbench_ar_gru.recurrence import select_recurrence


class GRU(nn.Module):
    """A GRU (``torch.nn.GRU`` semantics, batch-first) with a chosen candidate activation.

    Args:
        input_size: D, the size of one input frame.
        hidden_size: H, units per direction.
        activation: a name registered in :mod:`serbench_ar_gru.activations`
            (``tanh``, ``relu``, ``arelu``, ``leaky_relu``, ``selu``, ``mish``, ...).
        activation_hparams: hyperparameters the activation reads by name (AReLU's
            ``alpha``, ``beta``, ``alpha_floor``); others are ignored.
        activation_params: extra keyword arguments for the activation's factory.
        bidirectional: add a backward direction (outputs concatenated, forward first).
        num_layers: stacked layers.
        dropout: dropout on the outputs of every layer but the last (as ``nn.GRU``).
        implementation: ``"auto"`` (a registered fast path if one supports the activation
            and device, else the reference), ``"reference"``, or a registered name.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        activation: str = "tanh",
        activation_hparams: Mapping[str, Any] | None = None,
        activation_params: Mapping[str, Any] | None = None,
        bidirectional: bool = False,
        num_layers: int = 1,
        dropout: float = 0.0,
        implementation: str = "auto",
    ):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.activation_name = activation
        self.bidirectional = bidirectional
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.implementation = implementation
        self.inter_layer_dropout = nn.Dropout(dropout) if dropout > 0 and num_layers > 1 else None
        self.activations = nn.ModuleDict()
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes():
                name = f"l{layer}{suffix}"
                self.register_parameter(
                    f"weight_ih_{name}", nn.Parameter(torch.empty(3 * hidden_size, layer_in))
                )
                self.register_parameter(
                    f"weight_hh_{name}", nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
                )
                self.register_parameter(f"bias_ih_{name}", nn.Parameter(torch.empty(3 * hidden_size)))
                self.register_parameter(f"bias_hh_{name}", nn.Parameter(torch.empty(3 * hidden_size)))
                self.activations[name] = make_activation(
                    activation, activation_hparams, activation_params
                )
        self.reset_parameters()

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """``nn.GRU``'s initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name, param in self.named_parameters(recurse=False):
            if name.startswith(("weight_", "bias_")):
                nn.init.uniform_(param, -bound, bound)

    @torch.no_grad()
    def copy_weights_from(self, gru: nn.GRU) -> None:
        """Copy the weights of a ``torch.nn.GRU`` of the same shape (tests, warm starts)."""
        own = dict(self.named_parameters(recurse=False))
        for name, param in gru.named_parameters():
            if name not in own or own[name].shape != param.shape:
                raise ValueError(f"nn.GRU parameter {name} {tuple(param.shape)} has no match here")
            own[name].copy_(param)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the GRU over padded sequences.

        Args:
            x: (B, T, D) frames, anything after ``lengths`` is ignored.
            lengths: (B,) long, valid frames per row, 1 <= lengths <= T.
            h0: (num_layers * num_directions, B, H) initial states, zeros if None.
        Returns:
            outputs: (B, T, num_directions * H), zero at padded steps.
            h_n: (num_layers * num_directions, B, H), each row's final state per layer and
                direction (the backward direction's final state is the one at step 0).
        """
        batch, steps = x.shape[0], x.shape[1]
        lengths = lengths.to(device=x.device, dtype=torch.long)
        if lengths.numel() != batch or int(lengths.min()) < 1 or int(lengths.max()) > steps:
            raise ValueError(
                f"GRU lengths must be {batch} values in [1, {steps}] (x is {tuple(x.shape)}); "
                f"got {lengths.tolist()}"
            )
        if h0 is None:
            h0 = x.new_zeros(self.num_layers * self.num_directions, batch, self.hidden_size)
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            suffixes = self._suffixes()
            names = [f"l{layer}{s}" for s in suffixes]
            # One matmul for the input projections of every step and both directions.
            w_ih = torch.cat([getattr(self, f"weight_ih_{n}") for n in names], dim=0)
            b_ih = torch.cat([getattr(self, f"bias_ih_{n}") for n in names], dim=0)
            gi_all = torch.nn.functional.linear(layer_input, w_ih, b_ih)
            gi_dirs = gi_all.split(3 * self.hidden_size, dim=-1)
            outs = []
            for d, (name, gi) in enumerate(zip(names, gi_dirs, strict=True)):
                activation = self.activations[name]
                reverse = name.endswith("_reverse")
                if reverse:
                    gi = reverse_within_lengths(gi, lengths)
                recur = select_recurrence(self.implementation, activation, x.device)
                out, h_last = recur(
                    gi,
                    lengths,
                    h0[layer * self.num_directions + d],
                    getattr(self, f"weight_hh_{name}"),
                    getattr(self, f"bias_hh_{name}"),
                    activation,
                )
                if reverse:
                    out = reverse_within_lengths(out, lengths)
                outs.append(out)
                finals.append(h_last)
            layer_input = outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)
            if self.inter_layer_dropout is not None and layer < self.num_layers - 1:
                layer_input = self.inter_layer_dropout(layer_input)
        return layer_input, torch.stack(finals, dim=0)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, activation={self.activation_name!r}, "
            f"bidirectional={self.bidirectional}, num_layers={self.num_layers}, "
            f"implementation={self.implementation!r}"
        )
