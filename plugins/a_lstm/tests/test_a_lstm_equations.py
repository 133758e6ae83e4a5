"""Fig. 1's network (Tao and Liu, ICASSP 2018) against a reference written here (issue 16).

The reference: FC 256 ReLU per frame -> BLSTM of A-LSTM cells (eqs. 6-12, combining every
max(T) steps; the backward direction reads each row's valid frames in reverse) ->
attention-weighted pooling over time (eqs. 1-2: ``A_t = softmax_t(W . h_t)``,
``z = sum_t A_t h_t``) -> per task FC 256 ReLU -> softmax layer. Dropout follows every
layer except the pooling (Sec. 4.1). Each row is computed alone and unpadded with the
module's weights:

* in eval mode, against the equations without dropout;
* in train mode, with the dropout masks the module drew (read by hooks) applied where
  the paper puts dropout, so that moving, adding or removing a dropout layer fails.
"""

from __future__ import annotations

import pytest
import torch
from serbench.data.batch import Batch, InputSpec
from serbench.nn.masking import lengths_to_mask

from serbench_a_lstm.cell import ALSTMCell
from serbench_a_lstm.network import WeightedPoolingRNN, build

SMALL = {"fc_units": 6, "hidden_size": 4, "branch_units": 5, "time_steps": [3, 2, 1],
         "dropout": 0.5}
SPEC = InputSpec(feature_dim=3, num_classes=4, tasks={"emotion": 4, "speaker": 3})


def _alstm(x: torch.Tensor, cell: ALSTMCell) -> torch.Tensor:
    """Eqs. 6-12 over one row x (L, D) -> h_s (L, H) of eq. 10 (advanced cell)."""
    hid, steps = cell.hidden_size, cell.time_steps
    C: dict[int, torch.Tensor] = {}
    h: dict[int, torch.Tensor] = {}
    h_comb = c_comb = x.new_zeros(hid)
    bias = cell.bias_ih + cell.bias_hh
    for s in range(1, x.shape[0] + 1):
        i, f, g, o = (cell.weight_ih @ x[s - 1] + cell.weight_hh @ h_comb + bias).chunk(4)
        C[s] = torch.sigmoid(f) * c_comb + torch.sigmoid(i) * torch.tanh(g)  # eq. 6
        if s % max(steps) == 0:
            back = [s + 1 - tau for tau in steps]
            e = torch.stack([cell.W @ C[t] for t in back])
            w = torch.exp(e) / torch.exp(e).sum()  # eq. 9
            c_comb = sum(w[k] * C[t] for k, t in enumerate(back))  # eq. 8
            h[s] = torch.sigmoid(o) * torch.tanh(c_comb)  # eq. 10
            e = torch.stack([cell.W @ h[t] for t in back])
            w = torch.exp(e) / torch.exp(e).sum()  # eq. 12
            h_comb = sum(w[k] * h[t] for k, t in enumerate(back))  # eq. 11
        else:
            c_comb = C[s]
            h[s] = h_comb = torch.sigmoid(o) * torch.tanh(C[s])
    return torch.stack([h[s] for s in sorted(h)])


def _network(x: torch.Tensor, model: WeightedPoolingRNN, masks: dict[str, torch.Tensor]
             ) -> dict[str, torch.Tensor]:
    """Logits per task for one row x (T, D); ``masks`` name -> dropout scale (1 = none)."""
    fc = model.trunk_fc[0]
    a = torch.relu(x @ fc.weight.T + fc.bias) * masks["trunk_fc.2"]
    fwd = _alstm(a, model.blstm.forward_cell)
    bwd = _alstm(a.flip(0), model.blstm.backward_cell).flip(0)
    h = torch.cat([fwd, bwd], dim=-1) * masks["blstm_dropout"]
    energy = h @ model.pooling.u.weight[0]  # eq. 1: W . h_t
    weights = torch.exp(energy) / torch.exp(energy).sum()  # eq. 2
    z = (weights.unsqueeze(-1) * h).sum(0)
    out = {}
    for task, branch in model.branches.items():
        hidden = torch.relu(branch[0].weight @ z + branch[0].bias) * masks[f"branches.{task}.2"]
        out[task] = branch[3].weight @ hidden + branch[3].bias
    return out


def _batch(seed: int = 0) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([8, 5])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 8, 3, generator=gen) * mask.unsqueeze(-1)
    return Batch(x=x, lengths=lengths, mask=mask)


def _model(implementation: str) -> WeightedPoolingRNN:
    torch.manual_seed(0)
    model = build(SPEC, {**SMALL, "rnn_implementation": implementation})
    with torch.no_grad():  # clearly unequal combination and pooling weights
        model.blstm.forward_cell.W.mul_(4.0)
        model.blstm.backward_cell.W.mul_(4.0)
        model.pooling.u.weight.mul_(4.0)
    return model


@pytest.mark.parametrize("implementation", ["reference", "auto"])
def test_eval_forward_pass_by_hand(implementation: str) -> None:
    model = _model(implementation).eval()
    batch = _batch()
    ones: dict[str, torch.Tensor] = dict.fromkeys(
        ["trunk_fc.2", "blstm_dropout", *(f"branches.{t}.2" for t in SPEC.tasks)],
        torch.tensor(1.0))
    with torch.no_grad():
        out = model(batch)
        for b, n in enumerate(batch.lengths.tolist()):
            expected = _network(batch.x[b, :n], model, ones)
            for task in SPEC.tasks:
                torch.testing.assert_close(out[task][b], expected[task], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("implementation", ["reference", "auto"])
def test_train_mode_dropout_sits_where_the_paper_puts_it(implementation: str) -> None:
    model = _model(implementation).train()
    batch = _batch(1)
    scales: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
            (inp,) = inputs
            # the scale the layer applied: 0 (dropped) or 1 / (1 - p) (kept)
            scales[name] = torch.where(inp != 0, output / torch.where(inp != 0, inp, 1.0), 0.0)
        return hook

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Dropout):
            module.register_forward_hook(record(name))
    torch.manual_seed(5)
    with torch.no_grad():
        out = model(batch)
    assert set(scales) == {"trunk_fc.2", "blstm_dropout", *(f"branches.{t}.2" for t in SPEC.tasks)}
    assert (scales["blstm_dropout"] == 0).any()  # dropout really acted
    with torch.no_grad():
        for b, n in enumerate(batch.lengths.tolist()):
            row_masks = {
                "trunk_fc.2": scales["trunk_fc.2"][b, :n],
                "blstm_dropout": scales["blstm_dropout"][b, :n],
                **{f"branches.{t}.2": scales[f"branches.{t}.2"][b] for t in SPEC.tasks},
            }
            expected = _network(batch.x[b, :n], model, row_masks)
            for task in SPEC.tasks:
                torch.testing.assert_close(out[task][b], expected[task], atol=1e-5, rtol=1e-4)
