"""Fig. 1's network: heads per task, pooling weights (eqs. 1-2), dropout in train mode only."""

from __future__ import annotations

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.nn.masking import lengths_to_mask

from serbench_a_lstm.network import build

SMALL = {"fc_units": 6, "hidden_size": 4, "branch_units": 5, "time_steps": [3, 2, 1]}


def _batch() -> Batch:
    lengths = torch.tensor([7, 4])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 7, 3) * mask.unsqueeze(-1)
    return Batch(x=x, lengths=lengths, mask=mask)


def test_one_branch_per_task() -> None:
    spec = InputSpec(feature_dim=3, num_classes=4, tasks={"emotion": 4, "speaker": 6, "gender": 2})
    model = build(spec, SMALL).eval()
    out = model(_batch())
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "emotion": (2, 4), "speaker": (2, 6), "gender": (2, 2)}
    emotion_only = build(InputSpec(feature_dim=3, num_classes=4), SMALL)
    assert list(emotion_only(_batch())) == ["emotion"]


def test_pooling_weights_are_eq2() -> None:
    torch.manual_seed(0)
    model = build(InputSpec(feature_dim=3, num_classes=4), SMALL).eval()
    batch = _batch()
    with torch.no_grad():
        weights = model.attention_maps(batch)["frames"]
        h = model.blstm(model.trunk_fc(batch.x), batch.lengths)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))
    assert torch.all(weights[1, 4:] == 0)
    energy = h[1, :4] @ model.pooling.u.weight[0]  # W . h_T
    torch.testing.assert_close(weights[1, :4], torch.softmax(energy, 0))


def test_dropout_acts_in_train_mode_only() -> None:
    """Eval is deterministic and equals the same weights built without dropout; train mode
    with dropout 0.5 draws a new mask on each call. Where each dropout sits is checked
    against the equations in test_a_lstm_equations.py."""
    torch.manual_seed(0)
    model = build(InputSpec(feature_dim=3, num_classes=4), {**SMALL, "dropout": 0.5})
    plain = build(InputSpec(feature_dim=3, num_classes=4), {**SMALL, "dropout": 0.0}).eval()
    plain.load_state_dict(model.state_dict())
    batch = _batch()
    with torch.no_grad():
        model.eval()
        first, second = model(batch)["emotion"], model(batch)["emotion"]
        assert torch.equal(first, second)
        torch.testing.assert_close(first, plain(batch)["emotion"])
        model.train()
        train_a, train_b = model(batch)["emotion"], model(batch)["emotion"]
    assert not torch.allclose(train_a, first)
    assert not torch.allclose(train_a, train_b)
    dropouts = {n: m.p for n, m in model.named_modules() if isinstance(m, torch.nn.Dropout)}
    assert dropouts == {"trunk_fc.2": 0.5, "blstm_dropout": 0.5, "branches.emotion.2": 0.5}
