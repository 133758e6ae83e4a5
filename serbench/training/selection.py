"""Which weights a training run keeps: the best epoch, or the best window of epochs.

With one validation speaker (~200 utterances on nEMO) validation UA moves 2-4 points
from epoch to epoch by chance (docs/training.md), so picking its single maximum picks
noise. :class:`CheckpointSelector` with ``window`` K > 1 scores each epoch by the mean
validation UA of the last K epochs (only full windows compete) and keeps the element-wise
average of those K epochs' weights (checkpoint averaging). K = 1 is the plain best epoch.
Without validation, the last K epochs' average is kept.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch


def average_states(states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts (floating tensors); other entries (integer
    buffers such as BatchNorm's batch counter) come from the last state."""
    last = states[-1]
    if len(states) == 1:
        return copy.deepcopy(dict(last))
    out = {}
    for key, value in last.items():
        if value.is_floating_point():
            out[key] = torch.stack([s[key].float() for s in states]).mean(0).to(value.dtype)
        else:
            out[key] = value.clone()
    return out


class CheckpointSelector:
    """Tracks the best (window of) epochs.

    Args:
        window: K, epochs averaged (scores and weights).
        max_epochs: the run's epoch budget (a window never needs more epochs than that).
    """

    def __init__(self, window: int, max_epochs: int):
        self.window = int(window)
        self.full = min(self.window, int(max_epochs))
        self.best_score = -math.inf
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self._scores: list[float] = []
        self._states: list[dict[str, torch.Tensor]] = []

    def update(self, epoch: int, state: Mapping[str, torch.Tensor],
               valid_ua: float | None) -> float | None:
        """Record an epoch's weights and validation UA (None: no validation split).

        Returns the epoch's selection score (the window mean), or None before the first
        full window or without validation.
        """
        if valid_ua is None:
            self.best_epoch = epoch
            self._states = [*self._states, copy.deepcopy(dict(state))][-self.window:]
            self.best_state = average_states(self._states)
            return None
        if self.window == 1:
            if valid_ua > self.best_score:
                self.best_score, self.best_epoch = valid_ua, epoch
                self.best_state = copy.deepcopy(dict(state))
            return valid_ua
        self._scores = [*self._scores, float(valid_ua)][-self.window:]
        self._states = [*self._states, copy.deepcopy(dict(state))][-self.window:]
        if len(self._scores) < self.full:
            return None  # a lone noisy first epoch must not win
        score = float(np.mean(self._scores))
        if score > self.best_score:
            self.best_score, self.best_epoch = score, epoch
            self.best_state = average_states(self._states)
        return score

    def may_stop(self, epoch: int, min_epochs: int, patience: int) -> bool:
        """Early stopping: ``patience`` epochs past the best, never before a full window."""
        return epoch >= max(min_epochs, self.full) and epoch - self.best_epoch >= patience
