"""serbench.nn.ensemble.MemberEnsemble and the trainer's loss over its (K, B, C) logits,
checked against hand computations on fixed numbers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from serbench.data.batch import Batch, InputSpec
from serbench.models.mlp import FunctionalsMLP, build
from serbench.nn.ensemble import MemberEnsemble
from serbench.training.trainer import MultiTaskLoss


class Fixed(nn.Module):
    """A member whose logits are ``x @ W`` for a given W (D, C)."""

    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(weight, dtype=torch.float32))

    def forward(self, batch: Batch) -> torch.Tensor:
        return batch.x @ self.weight


def batch_of(x, y) -> Batch:
    x = torch.tensor(x, dtype=torch.float32)
    return Batch(x=x, lengths=torch.ones(len(x), dtype=torch.long),
                 mask=torch.ones(len(x), 1, dtype=torch.bool),
                 targets={"emotion": torch.tensor(y)})


W1 = [[1.0, 0.0], [0.0, 0.0]]
W2 = [[0.0, 0.0], [0.0, 2.0]]
BATCH = batch_of([[1.0, 1.0], [2.0, 0.0]], [0, 1])


def test_eval_output_is_the_log_of_the_members_mean_probability():
    model = MemberEnsemble([Fixed(W1), Fixed(W2)]).eval()
    out = model(BATCH)
    # row 1: member 1 logits (1, 0), member 2 logits (0, 2)
    p1 = [math.e / (math.e + 1), 1 / (math.e + 1)]
    p2 = [1 / (1 + math.e ** 2), math.e ** 2 / (1 + math.e ** 2)]
    mean = [(p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2]
    assert out.shape == (2, 2)
    assert torch.allclose(out[0].exp(), torch.tensor(mean), atol=1e-6)
    # row 2: logits (2, 0) and (0, 0)
    q1 = [math.e ** 2 / (math.e ** 2 + 1), 1 / (math.e ** 2 + 1)]
    assert torch.allclose(out[1].exp(), torch.tensor([(q1[0] + 0.5) / 2, (q1[1] + 0.5) / 2]),
                          atol=1e-6)
    # the softmax of the output is the same mean (it already sums to one)
    assert torch.allclose(torch.softmax(out, -1), out.exp(), atol=1e-6)


def test_training_loss_is_the_mean_of_the_members_losses_and_gradients_stay_apart():
    model = MemberEnsemble([Fixed(W1), Fixed(W2)]).train()
    logits = model(BATCH)
    assert logits.shape == (2, 2, 2)
    loss = MultiTaskLoss({})({"emotion": logits}, BATCH)
    # member 1: rows (1, 0) -> class 0, (2, 0) -> class 1
    ce1 = (-math.log(math.e / (math.e + 1)) - math.log(1 / (math.e ** 2 + 1))) / 2
    # member 2: rows (0, 2) -> class 0, (0, 0) -> class 1
    ce2 = (-math.log(1 / (1 + math.e ** 2)) - math.log(0.5)) / 2
    assert float(loss.detach()) == pytest.approx((ce1 + ce2) / 2, abs=1e-6)
    loss.backward()
    alone = Fixed(W1)
    nn.functional.cross_entropy(alone(BATCH), BATCH.targets["emotion"]).backward()
    assert torch.allclose(model.members[0].weight.grad, alone.weight.grad / 2, atol=1e-6)


def test_ignored_rows_and_class_weights_apply_to_every_member():
    batch = batch_of([[1.0, 1.0], [2.0, 0.0]], [0, -100])
    model = MemberEnsemble([Fixed(W1), Fixed(W2)]).train()
    loss = MultiTaskLoss({}, emotion_weight=torch.tensor([2.0, 1.0]))(
        {"emotion": model(batch)}, batch)
    # one known row (class 0, weight 2 in numerator and denominator) per member
    ce = (-math.log(math.e / (math.e + 1)) - math.log(1 / (1 + math.e ** 2))) / 2
    assert float(loss.detach()) == pytest.approx(ce, abs=1e-6)


def test_mlp_members_builds_an_ensemble_of_differently_initialised_mlps():
    spec = InputSpec(level="functionals", feature_dim=6, num_classes=3)
    torch.manual_seed(0)
    single = build(spec, {"hidden": "4"})
    assert isinstance(single, FunctionalsMLP)
    torch.manual_seed(0)
    ensemble = build(spec, {"hidden": "4", "members": 3})
    assert isinstance(ensemble, MemberEnsemble) and len(ensemble.members) == 3
    size = (6 * 4 + 4) + (4 * 3 + 3)
    assert sum(p.numel() for p in ensemble.parameters()) == 3 * size
    first, second = (m.net[0].weight for m in ensemble.members[:2])
    assert not torch.equal(first, second)
    # member 0 is the network a single-model build draws from the same seed
    assert torch.equal(first, single.net[0].weight)


def test_an_ensemble_of_one_is_refused():
    with pytest.raises(ValueError, match="at least 2 members"):
        MemberEnsemble([Fixed(W1)])
