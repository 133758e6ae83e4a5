"""AReLU (eq. 1 of the AR-GRU paper): values and gradients against the equation."""

from __future__ import annotations

import math

import pytest
import torch

from serbench_ar_gru.arelu import AReLU


def _eq1(x: torch.Tensor, alpha: float, beta: float, floor: float) -> torch.Tensor:
    c_alpha = min(max(alpha, floor), 0.99)
    scale = 1.0 + 1.0 / (1.0 + math.exp(-beta))
    return torch.where(x < 0, c_alpha * x, scale * x)


X = torch.tensor([-3.0, -0.5, -1e-3, 0.0, 1e-3, 0.7, 4.0], dtype=torch.float64)


@pytest.mark.parametrize(
    ("alpha", "beta", "floor"),
    [(0.9, 2.0, 0.01), (0.01, 1.0, 0.01), (0.01, -4.0, 0.01), (0.0, 2.0, 0.0), (1.7, 0.0, 0.01),
     (0.001, 0.5, 0.01), (-0.3, 0.5, 0.0)],
)
def test_values_follow_equation_1(alpha: float, beta: float, floor: float) -> None:
    act = AReLU(alpha, beta, alpha_floor=floor).double()
    torch.testing.assert_close(act(X), _eq1(X, alpha, beta, floor))


def test_variant_ii_floor_zero_removes_negative_part() -> None:
    act = AReLU(0.0, 2.0, alpha_floor=0.0)
    out = act(torch.tensor([-5.0, -0.1, 2.0])).tolist()
    assert out[0] == 0 and out[1] == 0
    assert out[2] == pytest.approx(2.0 * (1 + 1 / (1 + math.exp(-2.0))))
    # with the paper's floor the same alpha is lifted to 0.01
    assert AReLU(0.0, 2.0)(torch.tensor([-5.0])).item() == pytest.approx(-0.05)


@pytest.mark.parametrize(("alpha", "beta"), [(0.3, 1.0), (0.05, -4.0), (0.9, 2.0)])
def test_gradients_follow_equation_1(alpha: float, beta: float) -> None:
    act = AReLU(alpha, beta).double()
    x = X.clone().requires_grad_(True)
    upstream = torch.linspace(0.5, 2.0, X.numel(), dtype=torch.float64)
    (act(x) * upstream).sum().backward()
    sig = 1.0 / (1.0 + math.exp(-beta))
    neg, pos = X < 0, X >= 0
    # dF/dx: C(alpha) on the negative side, 1 + sigmoid(beta) on x >= 0 (x == 0 included)
    expected_dx = torch.where(neg, torch.full_like(X, alpha), torch.full_like(X, 1 + sig))
    torch.testing.assert_close(x.grad, expected_dx * upstream)
    # dF/dalpha = x where x < 0 (alpha inside the clamp); dF/dbeta = sigmoid'(beta) x where x >= 0
    torch.testing.assert_close(act.alpha.grad, (X * upstream)[neg].sum())
    torch.testing.assert_close(act.beta.grad, (sig * (1 - sig) * X * upstream)[pos].sum())


def test_clamped_alpha_gets_no_gradient_outside_the_clamp() -> None:
    act = AReLU(1.5, 0.0)
    act(torch.tensor([-1.0, -2.0])).sum().backward()
    assert act.alpha.grad.item() == 0.0


@pytest.mark.parametrize(("alpha", "floor"), [(0.01, 0.01), (0.0, 0.0)])
def test_alpha_starting_at_the_floor_still_learns(alpha: float, floor: float) -> None:
    # Table 1's variants II-V start alpha exactly at the clamp floor: the clamp passes the
    # gradient at its bound, so alpha can still move up.
    act = AReLU(alpha, 1.0, alpha_floor=floor)
    act(torch.tensor([-1.0, -2.0, 3.0])).sum().backward()
    assert act.alpha.grad.item() == pytest.approx(-3.0)


def test_gradcheck() -> None:
    act = AReLU(0.25, 0.5).double()
    x = torch.tensor([-1.3, -0.2, 0.4, 2.2], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(act, (x,))


def test_alpha_and_beta_are_learnable_scalars() -> None:
    act = AReLU(0.01, 1.0)
    names = {n: p.shape for n, p in act.named_parameters()}
    assert names == {"alpha": torch.Size([]), "beta": torch.Size([])}


def test_bad_floor_is_rejected() -> None:
    with pytest.raises(ValueError, match="alpha_floor"):
        AReLU(0.5, 1.0, alpha_floor=0.995)
