"""serbench.nn: masked multi-head self-attention, the residual conv front end, sizing."""

from __future__ import annotations

import pytest
import torch

from serbench.errors import ConfigError
from serbench.nn.attention import MultiHeadSelfAttention
from serbench.nn.masking import lengths_to_mask
from serbench.nn.resconv import ConvFrontEnd, MaskedBatchNorm1d, MaskedConv1d
from serbench.nn.sizing import count_parameters, fit_width, parse_param_count


def test_attention_weights_are_masked_softmax_over_keys() -> None:
    torch.manual_seed(0)
    att = MultiHeadSelfAttention(8, heads=4).eval()
    x = torch.randn(2, 6, 8)
    lengths = torch.tensor([6, 3])
    mask = lengths_to_mask(lengths)
    out = att(x, mask)
    w = att.last_weights
    assert w.shape == (2, 4, 6, 6)
    torch.testing.assert_close(w.sum(-1)[0], torch.ones(4, 6))
    assert torch.all(w[1, :, :, 3:] == 0)  # padded keys: zero weight
    assert torch.all(out[1, 3:] == 0)  # padded queries: zero output


def test_attention_matches_scaled_dot_product_formula() -> None:
    """Eq. 2-3 written out for one head against the module."""
    torch.manual_seed(1)
    att = MultiHeadSelfAttention(4, heads=1).eval()
    x = torch.randn(1, 5, 4)
    out = att(x, torch.ones(1, 5, dtype=torch.bool))
    q, k, v = att.qkv(x).chunk(3, -1)
    expected = att.out(torch.softmax(q @ k.transpose(1, 2) / 2.0, -1) @ v)
    torch.testing.assert_close(out, expected)


def test_attention_padding_invariance() -> None:
    torch.manual_seed(2)
    att = MultiHeadSelfAttention(8, heads=2).eval()
    x = torch.randn(1, 4, 8)
    padded = torch.cat([x, torch.randn(1, 3, 8)], 1)  # garbage after the end
    mask = lengths_to_mask(torch.tensor([4]), 7)
    torch.testing.assert_close(att(padded, mask)[:, :4], att(x, mask[:, :4]))


@pytest.mark.parametrize("stride,dilation,kernel", [(1, 1, 3), (2, 1, 5), (2, 1, 10), (1, 4, 3)])
def test_masked_conv_lengths_and_padding(stride: int, dilation: int, kernel: int) -> None:
    torch.manual_seed(3)
    conv = MaskedConv1d(3, 4, kernel, stride=stride, dilation=dilation)
    for t in (1, 2, 7, 8):
        x = torch.randn(1, t, 3)
        y, new = conv(x, torch.tensor([t]))
        assert y.shape[1] == int(new[0]) == -(-t // stride)
        padded = torch.cat([x, torch.zeros(1, 5, 3)], 1)
        y2, new2 = conv(padded, torch.tensor([t]))
        torch.testing.assert_close(y2[:, : y.shape[1]], y)
        assert torch.all(y2[:, int(new2[0]):] == 0)


def test_masked_batch_norm_statistics_ignore_padding() -> None:
    bn = MaskedBatchNorm1d(2)
    x = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [99.0, 99.0]]])
    y = bn(x, lengths_to_mask(torch.tensor([2]), 3))
    torch.testing.assert_close(y[0, :2], torch.tensor([[-1.0, -1.0], [1.0, 1.0]]), atol=1e-4, rtol=0)
    assert torch.all(y[0, 2] == 0)
    torch.testing.assert_close(bn.running_mean, torch.tensor([0.2, 0.3]))


def _frontend(**kw: object) -> ConvFrontEnd:
    base = dict(channels=[4, 8, 8], kernels=[5, 3, 3], strides=[2, 2, 1], dilations=[1, 1, 2],
                units=[0, 2, 2], attention=[False, True, True], heads=2)
    return ConvFrontEnd(3, **{**base, **kw})  # type: ignore[arg-type]


def test_frontend_padding_invariance_and_attention_modules() -> None:
    torch.manual_seed(4)
    fe = _frontend().eval()
    x = torch.randn(2, 20, 3)
    lengths = torch.tensor([20, 11])
    x[1, 11:] = 0
    out, new = fe(x, lengths)
    assert new.tolist() == [5, 3]
    alone, _ = fe(x[1:2, :11], lengths[1:])
    torch.testing.assert_close(alone[0], out[1, :3], atol=1e-5, rtol=1e-4)
    assert sorted(fe.attention_modules()) == ["g2u1", "g2u2", "g3u1", "g3u2"]


def test_frontend_rejects_mismatched_groups() -> None:
    with pytest.raises(ValueError, match="kernels"):
        _frontend(kernels=[3, 3])


def test_parse_param_count() -> None:
    assert parse_param_count("9M") == 9_000_000
    assert parse_param_count("9.1m") == 9_100_000
    assert parse_param_count("250k") == 250_000
    assert parse_param_count(9.5e6) == 9_500_000
    with pytest.raises(ConfigError, match="params"):
        parse_param_count("lots")


def test_fit_width_finds_the_closest_width() -> None:
    def make(w: int) -> torch.nn.Module:
        return torch.nn.Linear(10, w)  # 11 * w parameters

    assert fit_width(make, 1100) == 100
    assert fit_width(make, 1104) == 100
    assert fit_width(make, 1107) == 101
    assert count_parameters(make(fit_width(make, "5k"))) == 11 * 455
    with pytest.raises(ConfigError, match="fewer"):
        fit_width(make, "1G", high=64)
