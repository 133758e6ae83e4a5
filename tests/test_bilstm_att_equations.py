"""``bilstm_att`` (Mirsamadi et al., ICASSP 2017) against a reference written here (issue 16).

Per row, unpadded, with the module's weights (eval mode): optional frame-level
Linear + ReLU layers -> stacked BiLSTM written gate by gate (the backward direction reads
the row's valid frames in reverse) -> local attention ``alpha_t = softmax_t(u^T y_t)``,
``z = sum_t alpha_t y_t`` (Sec. 3.3) -> Linear.
"""

from __future__ import annotations

import torch

from serbench.data.batch import Batch, InputSpec
from serbench.models.bilstm_att import build
from serbench.nn.masking import lengths_to_mask


def _direction(x: torch.Tensor, lstm: torch.nn.LSTM, layer: int, suffix: str) -> torch.Tensor:
    """One LSTM direction, zero initial state, gate order (i, f, g, o); x (T, D) -> (T, H)."""
    w_ih = getattr(lstm, f"weight_ih_l{layer}{suffix}")
    w_hh = getattr(lstm, f"weight_hh_l{layer}{suffix}")
    bias = getattr(lstm, f"bias_ih_l{layer}{suffix}") + getattr(lstm, f"bias_hh_l{layer}{suffix}")
    h = c = x.new_zeros(lstm.hidden_size)
    out = []
    for x_t in x:
        i, f, g, o = (w_ih @ x_t + w_hh @ h + bias).chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out)


def test_forward_pass_by_hand() -> None:
    torch.manual_seed(0)
    model = build(InputSpec(feature_dim=3, num_classes=4),
                  {"hidden": 4, "layers": 2, "fc_layers": 1, "dropout": 0.3}).eval()
    with torch.no_grad():
        model.pool.u.weight.mul_(4.0)  # clearly non-uniform attention
    lengths = torch.tensor([7, 4])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 7, 3) * mask.unsqueeze(-1)
    with torch.no_grad():
        logits = model(Batch(x=x, lengths=lengths, mask=mask))
        for b, n in enumerate(lengths.tolist()):
            fc = model.front[0]
            y = torch.relu(x[b, :n] @ fc.weight.T + fc.bias)
            for layer in range(model.lstm.num_layers):
                fwd = _direction(y, model.lstm, layer, "")
                bwd = _direction(y.flip(0), model.lstm, layer, "_reverse").flip(0)
                y = torch.cat([fwd, bwd], dim=-1)
            scores = y @ model.pool.u.weight[0]
            alpha = torch.exp(scores) / torch.exp(scores).sum()
            z = (alpha.unsqueeze(-1) * y).sum(0)
            torch.testing.assert_close(logits[b], model.out.weight @ z + model.out.bias,
                                       atol=1e-5, rtol=1e-4)


def test_attentive_statistics_pooling_by_hand() -> None:
    """``statistics``: the classifier reads ``[z, s]``, ``s = sqrt(sum_t alpha_t (y_t - z)^2)``
    (Okabe et al. 2018), written here as the weighted variance around ``z``."""
    torch.manual_seed(1)
    model = build(InputSpec(feature_dim=3, num_classes=4),
                  {"hidden": 4, "statistics": True}).eval()
    with torch.no_grad():
        model.pool.u.weight.mul_(4.0)
    lengths = torch.tensor([6, 3])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 6, 3) * mask.unsqueeze(-1)
    with torch.no_grad():
        logits = model(Batch(x=x, lengths=lengths, mask=mask))
        for b, n in enumerate(lengths.tolist()):
            fwd = _direction(x[b, :n], model.lstm, 0, "")
            bwd = _direction(x[b, :n].flip(0), model.lstm, 0, "_reverse").flip(0)
            y = torch.cat([fwd, bwd], dim=-1)
            scores = y @ model.pool.u.weight[0]
            alpha = torch.exp(scores) / torch.exp(scores).sum()
            z = (alpha.unsqueeze(-1) * y).sum(0)
            s = (alpha.unsqueeze(-1) * (y - z) ** 2).sum(0).sqrt()
            pooled = torch.cat([z, s])
            torch.testing.assert_close(logits[b], model.out.weight @ pooled + model.out.bias,
                                       atol=1e-5, rtol=1e-4)
