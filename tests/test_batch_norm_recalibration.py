"""Batch-norm statistics recomputed with dropout off (serbench.training.batch_norm).

Hand computation used below, for the two batches [1, 3] and [5, 9] of one channel:
batch means 2 and 7, unbiased batch variances ((1-2)^2 + (3-2)^2) / 1 = 2 and
((5-7)^2 + (9-7)^2) / 1 = 8; their plain averages (momentum None): mean 4.5, variance 5.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from serbench.data.dataset import UtteranceDataset, collate
from serbench.nn.masking import lengths_to_mask
from serbench.nn.resconv import MaskedBatchNorm1d
from serbench.training.batch_norm import recalibrate_batch_norm
from serbench.training.config import TrainingConfig
from serbench.training.trainer import train


class _DropoutThenNorm(nn.Module):
    """(B, 1) -> dropout(0.5) -> batch norm: the layer order that needs recalibration."""

    def __init__(self) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.norm = nn.BatchNorm1d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.dropout(x))


class _MaskedNorm(nn.Module):
    """(x (B, T, 1), lengths (B,)) -> dropout -> the front end's masked batch norm."""

    def __init__(self) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.norm = MaskedBatchNorm1d(1)

    def forward(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, lengths = batch
        return self.norm(self.dropout(x), lengths_to_mask(lengths, x.shape[1]))


def test_statistics_are_the_plain_average_over_batches_with_dropout_off() -> None:
    torch.manual_seed(0)
    model = _DropoutThenNorm()
    model.train()
    model(torch.randn(8, 1) * 10)  # stale statistics, to be replaced
    batches = [torch.tensor([[1.0], [3.0]]), torch.tensor([[5.0], [9.0]])]

    assert recalibrate_batch_norm(model, batches) == 2

    assert model.norm.running_mean.item() == pytest.approx(4.5)
    assert model.norm.running_var.item() == pytest.approx(5.0)
    # modes and momentum are as before: training goes on exactly as it would have
    assert model.training and model.dropout.training and model.norm.training
    assert model.norm.momentum == 0.1


def test_masked_batch_norm_ignores_padding_and_averages_cumulatively() -> None:
    model = _MaskedNorm()
    model.eval()
    # batch 1: frames 1, 3 and a padded 100; batch 2: frames 5, 9
    first = (torch.tensor([[[1.0], [3.0], [100.0]]]), torch.tensor([2]))
    second = (torch.tensor([[[5.0], [9.0]]]), torch.tensor([2]))

    recalibrate_batch_norm(model, [first, second])

    assert model.norm.running_mean.item() == pytest.approx(4.5)
    assert model.norm.running_var.item() == pytest.approx(5.0)
    assert not model.training and not model.norm.training
    assert model.norm.momentum == 0.1


def test_a_model_without_batch_norm_is_left_alone() -> None:
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(1, 1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert recalibrate_batch_norm(model, [torch.ones(2, 1)]) == 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_trained_model_keeps_statistics_of_dropout_free_training_data() -> None:
    """A deep dropout-before-batch-norm stack: with recalibration the statistics the
    trained model evaluates with are those of dropout-free inputs (hand rule: equal to a
    fresh recalibration on the same data), without it they are not."""
    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.Sequential(*[nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4),
                                                        nn.ReLU(), nn.Dropout(0.5))
                                          for _ in range(3)])
            self.head = nn.Linear(4, 2)

        def forward(self, batch) -> torch.Tensor:
            return self.head(self.layers(batch.x))

    rng = np.random.default_rng(0)
    ids = [f"u{i}" for i in range(32)]
    features = {u: rng.normal(size=4).astype(np.float32) for u in ids}
    dataset = UtteranceDataset(ids, features, "functionals", {"emotion": np.arange(32) % 2})

    def trained(recalibrate: bool) -> nn.Module:
        torch.manual_seed(0)
        model = Stack()
        train(model, dataset, None, TrainingConfig(max_epochs=2, batch_size=8,
                                                   bn_recalibration=recalibrate),
              num_classes=2, seed=0)
        return model

    model = trained(True)
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    batches = [collate([dataset[i] for i in rows], dataset.level)
               for rows in dataset.batch_indices(8, shuffle=False, bucket=True, seed=0, epoch=0)]
    recalibrate_batch_norm(model, batches)
    for key, value in model.state_dict().items():
        if key.endswith(("running_mean", "running_var")):
            assert torch.allclose(value, reference[key], atol=1e-6), key

    stale = trained(False)
    assert not torch.allclose(stale.layers[1][1].running_var, reference["layers.1.1.running_var"])

