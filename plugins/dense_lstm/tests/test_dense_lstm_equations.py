"""The attention-based dense LSTM (Xie et al., IEICE 2019) end to end against a reference
written here (issue 16).

Per unpadded row, with the module's weights (eval mode): stacked LSTMs gate by gate
``h_1 .. h_N``; the skip summaries of eq. 7 (``lstm``: ``h_{N,last}`` only; ``general``:
every ``h_{i,last}``; ``time``, eq. 5: ``softmax_t(h_{N,last} W_i h_i^T) h_i``; ``feature``,
eq. 6: ``sum_t softmax(V_i tanh(W_i h_i)) o h_i`` over the chosen axis); their
concatenation ``D = [d_1, ..., d_N]`` in layer order -> FC ReLU -> softmax layer.
"""

from __future__ import annotations

import pytest
import torch
from serbench.data.batch import Batch
from serbench.nn.masking import lengths_to_mask

from serbench_dense_lstm.model import DenseLSTM


def _lstm(x: torch.Tensor, lstm: torch.nn.LSTM) -> torch.Tensor:
    """Gate order (i, f, g, o), zero initial state; x (T, D) -> (T, H)."""
    h = c = x.new_zeros(lstm.hidden_size)
    bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
    out = []
    for x_t in x:
        i, f, g, o = (lstm.weight_ih_l0 @ x_t + lstm.weight_hh_l0 @ h + bias).chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out)


def _by_hand(x: torch.Tensor, model: DenseLSTM, mode: str, axis: str) -> torch.Tensor:
    hs = []
    for lstm in model.lstms:
        x = _lstm(x, lstm)
        hs.append(x)
    query = hs[-1][-1]  # h_{N,last}
    if mode == "lstm":
        pieces = [query]
    elif mode == "general":
        pieces = [h[-1] for h in hs]
    elif mode == "time":  # eq. 5
        pieces = []
        for h, att in zip(hs, model.attention, strict=True):
            scores = torch.stack([query @ att.W_i.weight @ h_t for h_t in h])
            w = torch.exp(scores) / torch.exp(scores).sum()
            pieces.append((w.unsqueeze(-1) * h).sum(0))
    else:  # eq. 6
        pieces = []
        for h, att in zip(hs, model.attention, strict=True):
            scores = torch.tanh(h @ att.W_i.weight.T) @ att.V_i.weight.T  # (T, d_i)
            e = torch.exp(scores)
            w = e / e.sum(dim=1 if axis == "feature" else 0, keepdim=True)
            pieces.append((w * h).sum(0))
    dense = model.dense[0]
    hidden = torch.relu(dense.weight @ torch.cat(pieces) + dense.bias)
    return model.classifier.weight @ hidden + model.classifier.bias


@pytest.mark.parametrize(("mode", "axis"), [("lstm", "time"), ("general", "time"),
                                            ("time", "time"), ("feature", "time"),
                                            ("feature", "feature")])
def test_forward_pass_by_hand(mode: str, axis: str) -> None:
    torch.manual_seed(0)
    model = DenseLSTM(3, 4, cells=[5, 4, 3], mode=mode, dense_units=6, dropout=0.3,
                      feature_softmax=axis).eval()
    lengths = torch.tensor([7, 4])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 7, 3) * mask.unsqueeze(-1)
    with torch.no_grad():
        logits = model(Batch(x=x, lengths=lengths, mask=mask))
        for b, n in enumerate(lengths.tolist()):
            torch.testing.assert_close(logits[b], _by_hand(x[b, :n], model, mode, axis),
                                       atol=1e-5, rtol=1e-4)
