"""Checkpoint selection and averaging (serbench/training/selection.py), by hand."""

from __future__ import annotations

import math

import pytest
import torch

from serbench.training.selection import CheckpointSelector, average_states


def _state(value: float) -> dict[str, torch.Tensor]:
    return {"w": torch.tensor([value, 2 * value]), "steps": torch.tensor(int(value))}


def test_average_states_is_the_elementwise_mean_and_keeps_the_last_integer_buffers():
    out = average_states([_state(1.0), _state(2.0), _state(6.0)])
    assert torch.allclose(out["w"], torch.tensor([3.0, 6.0]))  # (1+2+6)/3, (2+4+12)/3
    assert int(out["steps"]) == 6


SCRIPT = [0.9, 0.1, 0.5, 0.6, 0.7, 0.2]


def test_window_one_keeps_the_single_best_epoch():
    sel = CheckpointSelector(1, 10)
    for epoch, ua in enumerate(SCRIPT, start=1):
        sel.update(epoch, _state(float(epoch)), ua)
    assert sel.best_epoch == 1 and sel.best_score == 0.9
    assert torch.equal(sel.best_state["w"], torch.tensor([1.0, 2.0]))


def test_window_three_scores_full_windows_only_and_averages_their_weights():
    sel = CheckpointSelector(3, 10)
    scores = [sel.update(e, _state(float(e)), ua) for e, ua in enumerate(SCRIPT, start=1)]
    # full windows from epoch 3: (0.9+0.1+0.5)/3=0.5, (0.1+0.5+0.6)/3=0.4,
    # (0.5+0.6+0.7)/3=0.6, (0.6+0.7+0.2)/3=0.5; the lone 0.9 of epoch 1 never competes
    assert scores[:2] == [None, None]
    assert scores[2:] == pytest.approx([0.5, 0.4, 0.6, 0.5])
    assert sel.best_epoch == 5 and sel.best_score == pytest.approx(0.6)
    assert torch.allclose(sel.best_state["w"], torch.tensor([4.0, 8.0]))  # epochs 3, 4, 5


def test_no_early_stop_before_a_full_window():
    sel = CheckpointSelector(5, 30)
    for epoch in range(1, 5):
        sel.update(epoch, _state(1.0), 0.5)
        assert not sel.may_stop(epoch, min_epochs=1, patience=2)
    assert sel.best_score == -math.inf
    sel.update(5, _state(1.0), 0.5)
    assert sel.best_epoch == 5 and not sel.may_stop(6, 1, 2) and sel.may_stop(7, 1, 2)


def test_without_validation_the_last_window_is_averaged():
    sel = CheckpointSelector(2, 10)
    for epoch in (1, 2, 3):
        assert sel.update(epoch, _state(float(epoch)), None) is None
    assert sel.best_epoch == 3
    assert torch.allclose(sel.best_state["w"], torch.tensor([2.5, 5.0]))  # epochs 2, 3
