"""serbench.nn against hand computations on small tensors (issue 16, deliverable 6).

Each test writes an equation out independently of the module (explicit loops, or
``torch.nn.functional`` calls with the module's own weights), so that replacing the
equation in the module breaks the test:

* the k-dilated temporal convolution (DRN eq. 2) with "same" padding and a stride;
* the residual unit ``x + layer(layer(x) + MHSA(layer(x)))`` with its explicit skip;
* the receptive field of a stack of strided and dilated groups;
* multi-head self-attention with several heads (Vaswani et al. 2017, eqs. 1-2), head by
  head with ``scaled_dot_product_attention``;
* the local attention pooling of Mirsamadi et al. (2017), ``alpha_t = softmax_t(u^T y_t)``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from serbench.nn.attention import MultiHeadSelfAttention
from serbench.nn.masking import lengths_to_mask
from serbench.nn.pooling import AttentionPooling
from serbench.nn.resconv import ConvFrontEnd, MaskedBatchNorm1d, MaskedConv1d, ResidualUnit


def _conv_by_loops(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int,
                   dilation: int) -> torch.Tensor:
    """Eq. 2 written out: ``y_t = b + sum_j W_j x_{t*s + j*k - left}`` over one row.

    x: (T, C_in) one unpadded row; weight: (C_out, C_in, K). Returns (ceil(T / s), C_out).
    Frames outside the row are zero; ``left = span // 2`` with ``span = (K - 1) k``.
    """
    steps, _ = x.shape
    kernel = weight.shape[-1]
    span = (kernel - 1) * dilation
    left = span // 2
    rows = []
    for t in range(-(-steps // stride)):
        acc = bias.clone()
        for j in range(kernel):
            src = t * stride + j * dilation - left
            if 0 <= src < steps:
                acc = acc + weight[:, :, j] @ x[src]
        rows.append(acc)
    return torch.stack(rows)


@pytest.mark.parametrize(("kernel", "stride", "dilation"), [(3, 1, 2), (3, 1, 4), (2, 2, 3),
                                                            (5, 2, 1)])
def test_masked_conv_is_the_dilated_convolution_by_hand(kernel: int, stride: int,
                                                        dilation: int) -> None:
    torch.manual_seed(0)
    conv = MaskedConv1d(2, 3, kernel, stride=stride, dilation=dilation)
    lengths = torch.tensor([11, 6])
    x = torch.randn(2, 11, 2) * lengths_to_mask(lengths).unsqueeze(-1)
    with torch.no_grad():
        y, new_lengths = conv(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        expected = _conv_by_loops(x[b, :n], conv.conv.weight, conv.conv.bias, stride, dilation)
        m = int(new_lengths[b])
        assert m == expected.shape[0]
        torch.testing.assert_close(y[b, :m], expected)
        assert torch.all(y[b, m:] == 0)


def _batch_norm_eval(x: torch.Tensor, bn: MaskedBatchNorm1d) -> torch.Tensor:
    return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


def _layer(x: torch.Tensor, conv: torch.nn.Conv1d, bn: MaskedBatchNorm1d, dilation: int
           ) -> torch.Tensor:
    """conv (explicit dilation, "same" zero padding) -> batch norm (eval) -> ReLU; x: (T, C)."""
    span = (conv.kernel_size[0] - 1) * dilation
    padded = F.pad(x.T.unsqueeze(0), (span // 2, span - span // 2))
    y = F.conv1d(padded, conv.weight, conv.bias, dilation=dilation)[0].T
    return torch.relu(_batch_norm_eval(y, bn))


def _attention_by_heads(x: torch.Tensor, att: MultiHeadSelfAttention) -> torch.Tensor:
    """MultiHead(x) = Concat(head_1..head_r) W^O, each head SDPA; x: (T, D) one row."""
    dim, r = att.dim, att.heads
    w_q, w_k, w_v = att.qkv.weight.split(dim)
    b_q, b_k, b_v = att.qkv.bias.split(dim)
    q, k, v = x @ w_q.T + b_q, x @ w_k.T + b_k, x @ w_v.T + b_v
    d = dim // r
    heads = [
        F.scaled_dot_product_attention(q[None, :, h * d:(h + 1) * d], k[None, :, h * d:(h + 1) * d],
                                       v[None, :, h * d:(h + 1) * d])[0]
        for h in range(r)
    ]
    return torch.cat(heads, dim=-1) @ att.out.weight.T + att.out.bias


def _randomise_norms(module: torch.nn.Module) -> None:
    """Non-trivial running statistics and affine parameters for every batch norm."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, MaskedBatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)


@pytest.mark.parametrize("attention", [False, True])
@pytest.mark.parametrize("residual", [True, False])
def test_residual_unit_by_hand(attention: bool, residual: bool) -> None:
    """``out = x + layer(y + MHSA(y))``, ``y = layer(x)`` (RLC Fig. 2b, DRN Fig. 2c), with
    2-dilated convolutions; without ``residual`` the skip is absent."""
    torch.manual_seed(1)
    dilation = 2
    unit = ResidualUnit(4, 3, dilation=dilation, dropout=0.5, heads=2, attention=attention,
                        residual=residual, attention_dropout=0.5).eval()
    _randomise_norms(unit)
    lengths = torch.tensor([9, 5])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 9, 4) * mask.unsqueeze(-1)
    with torch.no_grad():
        out = unit(x, lengths, mask)
        for b, n in enumerate(lengths.tolist()):
            row = x[b, :n]
            y = _layer(row, unit.first.conv.conv, unit.first.norm, dilation)
            if attention:
                y = y + _attention_by_heads(y, unit.attention)
            y = _layer(y, unit.second.conv.conv, unit.second.norm, dilation)
            expected = row + y if residual else y
            torch.testing.assert_close(out[b, :n], expected, atol=1e-5, rtol=1e-4)
            assert torch.all(out[b, n:] == 0)


def _receptive_field(kernels: list[int], strides: list[int], dilations: list[int],
                     units: list[int]) -> int:
    """``1 + sum_layers (K - 1) * k * jump``, ``jump`` the product of earlier strides.

    A group is its entry convolution (strided) then ``2 * units`` convolutions, all with
    the group's kernel and dilation."""
    field, jump = 1, 1
    for k, s, d, u in zip(kernels, strides, dilations, units, strict=True):
        field += (k - 1) * d * jump  # the entry convolution reads at the incoming spacing
        jump *= s
        field += 2 * u * (k - 1) * d * jump
    return field


def _measured_field(frontend: ConvFrontEnd, steps: int, feature_dim: int) -> list[int]:
    """Input frames that reach the middle output frame (non-zero gradient).

    Every weight, bias and input is made positive, so no ReLU is ever cut off and a zero
    gradient means "not connected"."""
    with torch.no_grad():
        for name, p in frontend.named_parameters():
            if "conv" in name:
                p.abs_().add_(0.01)
    x = torch.rand(1, steps, feature_dim).add_(0.1).requires_grad_(True)
    out, new_lengths = frontend(x, torch.tensor([steps]))
    out[0, int(new_lengths[0]) // 2].sum().backward()
    return torch.nonzero(x.grad[0].abs().sum(-1)).flatten().tolist()


@pytest.mark.parametrize(("strides", "dilations"), [([2, 1, 1], [1, 2, 4]),
                                                    ([2, 2, 2], [1, 1, 1]),
                                                    ([1, 2, 1], [3, 1, 2])])
def test_receptive_field_of_dilated_groups(strides: list[int], dilations: list[int]) -> None:
    torch.manual_seed(2)
    kernels, units = [4, 3, 3], [0, 1, 2]
    frontend = ConvFrontEnd(2, channels=[3, 3, 3], kernels=kernels, strides=strides,
                            dilations=dilations, units=units, attention=[False] * 3).eval()
    expected = _receptive_field(kernels, strides, dilations, units)
    frames = _measured_field(frontend, 4 * expected, 2)
    assert len(frames) == expected
    assert frames == list(range(frames[0], frames[0] + expected))  # one contiguous window


def test_receptive_field_formula_by_hand() -> None:
    """The formula itself on a case worked out on paper: kernels 3, 3 with strides 2, 1 and
    dilations 1, 2, one unit in group 2: 1 + 2 + (2*2*2) * 3 convolutions = 27."""
    assert _receptive_field([3, 3], [2, 1], [1, 2], [0, 1]) == 1 + 2 + 3 * (2 * 2 * 2)


@pytest.mark.parametrize("heads", [2, 4])
def test_multi_head_attention_head_by_head(heads: int) -> None:
    torch.manual_seed(3)
    att = MultiHeadSelfAttention(8, heads).eval()
    lengths = torch.tensor([6, 4])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 6, 8)
    with torch.no_grad():
        out = att(x, mask)
        for b, n in enumerate(lengths.tolist()):
            torch.testing.assert_close(out[b, :n], _attention_by_heads(x[b, :n], att),
                                       atol=1e-5, rtol=1e-4)
            assert torch.all(out[b, n:] == 0)
        # the kept weights are each head's softmax(q k^T / sqrt(d_head)) over valid keys
        d = 8 // heads
        q, k, _ = att.qkv(x[1, :4]).split(8, dim=-1)
        for h in range(heads):
            qh, kh = q[:, h * d:(h + 1) * d], k[:, h * d:(h + 1) * d]
            expected = torch.softmax(qh @ kh.T / math.sqrt(d), dim=-1)
            torch.testing.assert_close(att.last_weights[1, h, :4, :4], expected)


def test_attention_pooling_by_hand() -> None:
    """Mirsamadi et al. (2017), Sec. 3.3, with numbers: u = (1, -1), frames y_1..y_3."""
    pool = AttentionPooling(2)
    with torch.no_grad():
        pool.u.weight.copy_(torch.tensor([[1.0, -1.0]]))
    y = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]],
                      [[0.5, 0.5], [3.0, 0.0], [9.0, -9.0]]])  # row 2: the last frame is padding
    mask = torch.tensor([[True, True, True], [True, True, False]])
    pooled, weights = pool(y, mask)
    # row 1: scores u^T y_t = 1, -1, 1
    e = [math.exp(1.0), math.exp(-1.0), math.exp(1.0)]
    a = [v / sum(e) for v in e]
    torch.testing.assert_close(weights[0], torch.tensor(a))
    torch.testing.assert_close(pooled[0], torch.tensor([a[0] + 2 * a[2], a[1] + a[2]]))
    # row 2: scores 0, 3 over the two valid frames
    a0, a1 = 1 / (1 + math.exp(3.0)), math.exp(3.0) / (1 + math.exp(3.0))
    torch.testing.assert_close(weights[1], torch.tensor([a0, a1, 0.0]))
    torch.testing.assert_close(pooled[1], torch.tensor([0.5 * a0 + 3 * a1, 0.5 * a0]))
