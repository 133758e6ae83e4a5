"""AReLU, the attention-based rectified linear unit (Chen, Li and Xu 2020), as used by AR-GRU.

Rajamani et al. (ICASSP 2021), eq. 1::

    F(x, alpha, beta) = C(alpha) * x            for x <  0
                        (1 + sigmoid(beta)) * x for x >= 0

with learnable scalars ``alpha`` and ``beta`` (one pair per layer) and ``C`` clamping
``alpha`` into ``[alpha_floor, 0.99]``. The paper's floor is 0.01 ("to prevent alpha from
becoming zero"); its variant AR-GRU (II) lowers the floor to 0 so that ``alpha = 0``
removes the negative part entirely, which is why the floor is a constructor argument.
"""

from __future__ import annotations

import torch
from torch import nn

#: The clamp bounds of eq. 1.
ALPHA_FLOOR = 0.01
ALPHA_CEILING = 0.99


class AReLU(nn.Module):
    """Eq. 1 of the AR-GRU paper, with learnable ``alpha`` and ``beta``.

    Args:
        alpha: initial value of alpha, the slope of the negative part (after clamping).
        beta: initial value of beta; the positive part is scaled by ``1 + sigmoid(beta)``.
        alpha_floor: lower bound of the clamp ``C`` (0.01 in the paper, 0 in variant II).
        alpha_ceiling: upper bound of the clamp ``C`` (0.99 in the paper).
    """

    def __init__(
        self,
        alpha: float = 0.90,
        beta: float = 2.0,
        alpha_floor: float = ALPHA_FLOOR,
        alpha_ceiling: float = ALPHA_CEILING,
    ):
        super().__init__()
        if not 0.0 <= alpha_floor < alpha_ceiling:
            raise ValueError(
                f"AReLU needs 0 <= alpha_floor < alpha_ceiling; got alpha_floor={alpha_floor}, "
                f"alpha_ceiling={alpha_ceiling}"
            )
        self.alpha = nn.Parameter(torch.tensor(float(alpha)))
        self.beta = nn.Parameter(torch.tensor(float(beta)))
        self.alpha_floor = float(alpha_floor)
        self.alpha_ceiling = float(alpha_ceiling)

    def clamped_alpha(self) -> torch.Tensor:
        """``C(alpha)``: alpha clamped into ``[alpha_floor, alpha_ceiling]`` (0-dim)."""
        return self.alpha.clamp(self.alpha_floor, self.alpha_ceiling)

    def positive_scale(self) -> torch.Tensor:
        """``1 + sigmoid(beta)``, the factor applied to non-negative inputs (0-dim)."""
        return 1.0 + torch.sigmoid(self.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply eq. 1 element-wise.

        Args:
            x: (...) any shape.
        Returns:
            (...) same shape as ``x``.
        """
        # torch.where keeps eq. 1's branches exactly, gradients included: at x == 0 the
        # x >= 0 branch holds, so dF/dx = 1 + sigmoid(beta) there (relu-based forms give 0).
        return torch.where(x >= 0, x * self.positive_scale(), x * self.clamped_alpha())

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha.item():.4g}, beta={self.beta.item():.4g}, "
            f"clamp=[{self.alpha_floor:g}, {self.alpha_ceiling:g}]"
        )
