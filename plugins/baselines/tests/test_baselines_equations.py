"""The comparison systems against references written here on small tensors (issue 16).

Each row is computed alone and unpadded with the module's weights, in eval mode:

* ``xia_dnn``: functionals (mean, population standard deviation, minimum, maximum of each
  LLD over the valid frames) -> batch norm -> ``layers`` x (Linear, ReLU) -> Linear;
* ``poria_cnn``: ``conv_layers`` x (convolution with "same" zero padding -> ReLU ->
  max-pooling by 2, an odd last frame pooled alone) -> max over time -> Linear, ReLU ->
  Linear;
* ``poria_lstm``: stacked LSTMs written gate by gate, last output -> Linear, ReLU -> Linear.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from serbench.data.batch import Batch, InputSpec
from serbench.nn.masking import lengths_to_mask

from serbench_baselines.models import build_poria_cnn, build_poria_lstm, build_xia_dnn

SPEC = InputSpec(feature_dim=3, num_classes=4)


def _batch() -> Batch:
    torch.manual_seed(7)
    lengths = torch.tensor([9, 6, 3])
    mask = lengths_to_mask(lengths)
    return Batch(x=torch.randn(3, 9, 3) * mask.unsqueeze(-1), lengths=lengths, mask=mask)


def _dense(z: torch.Tensor, stack: torch.nn.Module) -> torch.Tensor:
    linears = [m for m in stack.modules() if isinstance(m, torch.nn.Linear)]
    for lin in linears[:-1]:
        z = torch.relu(lin.weight @ z + lin.bias)
    return linears[-1].weight @ z + linears[-1].bias


def test_xia_dnn_by_hand() -> None:
    torch.manual_seed(0)
    model = build_xia_dnn(SPEC, {"width": 6, "layers": 2}).eval()
    with torch.no_grad():
        model.norm.running_mean.uniform_(-0.5, 0.5)
        model.norm.running_var.uniform_(0.5, 2.0)
    batch = _batch()
    with torch.no_grad():
        logits = model(batch)
        for b, n in enumerate(batch.lengths.tolist()):
            x = batch.x[b, :n]
            mean = x.sum(0) / n
            std = torch.sqrt(((x - mean) ** 2).sum(0) / n + 1e-8)
            f = torch.cat([mean, std, x.min(0).values, x.max(0).values])
            bn = model.norm
            f = (f - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
            torch.testing.assert_close(logits[b], _dense(f, model.dnn), atol=1e-5, rtol=1e-4)


def test_poria_cnn_by_hand() -> None:
    torch.manual_seed(1)
    model = build_poria_cnn(SPEC, {"width": 5, "conv_layers": 2, "kernel_size": 3}).eval()
    batch = _batch()
    with torch.no_grad():
        logits = model(batch)
        for b, n in enumerate(batch.lengths.tolist()):
            x = batch.x[b, :n]  # (L, C)
            for masked in model.convs:
                conv = masked.conv
                span = conv.weight.shape[-1] - 1
                y = F.conv1d(F.pad(x.T[None], (span // 2, span - span // 2)), conv.weight,
                             conv.bias)[0].T
                y = torch.relu(y)
                # max-pooling by 2; an odd last frame is a window of its own
                x = torch.stack([y[i:i + 2].max(0).values for i in range(0, y.shape[0], 2)])
            z = x.max(0).values
            torch.testing.assert_close(logits[b], _dense(z, model.dense), atol=1e-5, rtol=1e-4)


def test_poria_lstm_by_hand() -> None:
    torch.manual_seed(2)
    model = build_poria_lstm(SPEC, {"width": 4, "layers": 2}).eval()
    lstm = model.lstm.lstm
    batch = _batch()
    with torch.no_grad():
        logits = model(batch)
        for b, n in enumerate(batch.lengths.tolist()):
            x = batch.x[b, :n]
            for layer in range(lstm.num_layers):
                w_ih = getattr(lstm, f"weight_ih_l{layer}")
                w_hh = getattr(lstm, f"weight_hh_l{layer}")
                bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
                h = c = x.new_zeros(lstm.hidden_size)
                outputs = []
                for x_t in x:
                    i, f, g, o = (w_ih @ x_t + w_hh @ h + bias).chunk(4)
                    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                    h = torch.sigmoid(o) * torch.tanh(c)
                    outputs.append(h)
                x = torch.stack(outputs)
            torch.testing.assert_close(logits[b], _dense(x[-1], model.dense), atol=1e-5, rtol=1e-4)
