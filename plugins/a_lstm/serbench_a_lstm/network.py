"""The attention-based weighted pooling RNN with multi-task learning (section 4.1, Fig. 1).

Trunk (shared by all tasks): FC 256 ReLU -> BLSTM (128 per direction; A-LSTM, mean
LSTM or conventional cells) -> attention-weighted pooling over time (eqs. 1-2).
Branches, one per task (emotion; speaker and gender when the run provides them): FC 256
ReLU -> softmax layer. The loss weights (1, 0.3, 0.6) are the ModelSpec's task weights.

Dropout (0.5 in the paper) follows every layer except the weighted pooling layer; the
A-LSTM's W and the pooling vector are never dropped (dropout acts on activations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.pooling import AttentionPooling
from serbench.run.options import int_list
from torch import nn

from serbench_a_lstm.cell import MODES, BiALSTM


class WeightedPoolingRNN(nn.Module):
    """Fig. 1's network.

    Args:
        feature_dim: D.
        tasks: task -> number of classes; ``emotion`` first and always present.
        fc_units: the trunk's FC layer (256).
        hidden_size: A-LSTM units per direction (128).
        branch_units: each branch's FC layer (256).
        dropout: dropout rate after every layer but the pooling (0.5).
        cell: ``advanced``, ``mean`` or ``lstm`` (Table 1's three rows).
        time_steps: T of eqs. 8-12 ({5, 3, 1}).
        combine_every: see :class:`serbench_a_lstm.cell.ALSTMCell`.
        implementation: the recurrence, ``auto`` | ``fast`` | ``reference``
            (:class:`serbench_a_lstm.cell.BiALSTM`).
    """

    def __init__(self, feature_dim: int, tasks: Mapping[str, int], *, fc_units: int = 256,
                 hidden_size: int = 128, branch_units: int = 256, dropout: float = 0.5,
                 cell: str = "advanced", time_steps: Sequence[int] = (5, 3, 1),
                 combine_every: int | None = None, implementation: str = "auto"):
        super().__init__()
        if "emotion" not in tasks:
            raise ConfigError(f"the weighted pooling RNN needs an 'emotion' task; got {sorted(tasks)}")
        self.trunk_fc = nn.Sequential(nn.Linear(feature_dim, fc_units), nn.ReLU(), nn.Dropout(dropout))
        self.blstm = BiALSTM(fc_units, hidden_size, time_steps=time_steps, mode=cell,
                             combine_every=combine_every, implementation=implementation)
        self.blstm_dropout = nn.Dropout(dropout)
        self.pooling = AttentionPooling(2 * hidden_size)  # eqs. 1-2: softmax_T(W . h_T)
        self.branches = nn.ModuleDict({
            task: nn.Sequential(nn.Linear(2 * hidden_size, branch_units), nn.ReLU(),
                                nn.Dropout(dropout), nn.Linear(branch_units, int(n)))
            for task, n in tasks.items()
        })

    def pooled(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 2H) utterance representations and (B, T) pooling weights A_T."""
        mask = batch.mask[:, : batch.x.shape[1]]
        h = self.blstm(self.trunk_fc(batch.x), batch.lengths)  # (B, T, 2H)
        return self.pooling(self.blstm_dropout(h), mask)

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        """batch.x: (B, T, D), lengths: (B,), mask: (B, T) -> task -> logits (B, C_task)."""
        z, _ = self.pooled(batch)
        return {task: branch(z) for task, branch in self.branches.items()}

    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """``frames`` -> (B, T) weights A_T of eq. 2 (zero on padding)."""
        return {"frames": self.pooled(batch)[1]}


CELLS = {"a_lstm": "advanced", "mean_lstm": "mean", "lstm": "lstm", **{m: m for m in MODES}}


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> WeightedPoolingRNN:
    """serbench builder: ``cell``, ``time_steps``, ``combine_every``, ``fc_units``,
    ``hidden_size``, ``branch_units``, ``dropout``, ``rnn_implementation`` from ``hparams``; tasks from
    ``spec.tasks`` (emotion, plus speaker/gender when the run provides them)."""
    if spec.level != "frames":
        raise ConfigError("a_lstm reads frame-level features (B, T, D); choose e.g. st36")
    cell = str(hparams.get("cell", "advanced"))
    if cell not in CELLS:
        raise ConfigError(f"a_lstm cell {cell!r}: choose one of {', '.join(MODES)}")
    tasks = {"emotion": spec.num_classes, **{t: n for t, n in spec.tasks.items() if t != "emotion"}}
    every = hparams.get("combine_every")
    return WeightedPoolingRNN(
        spec.feature_dim, tasks,
        fc_units=int(hparams.get("fc_units", 256)),
        hidden_size=int(hparams.get("hidden_size", 128)),
        branch_units=int(hparams.get("branch_units", 256)),
        dropout=float(hparams.get("dropout", 0.5)),
        cell=CELLS[cell],
        time_steps=parse_steps(hparams.get("time_steps", (5, 3, 1))),
        combine_every=None if every is None else int(every),
        implementation=str(hparams.get("rnn_implementation", "auto")),
    )


def parse_steps(value: Any) -> list[int]:
    """T (look-back steps) from a list, an int or a ``"5,3,1"`` string (Optuna's choices)."""
    return int_list(value, name="a_lstm time_steps", example="5,3,1")
