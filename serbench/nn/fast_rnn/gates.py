"""Gate order shared by the fast LSTM-type loops (:mod:`.alstm`, :mod:`.gated_lstm`)."""

from __future__ import annotations

import torch


def lstm_gate_order(hid: int, device: torch.device) -> torch.Tensor:
    """Row indices that reorder ``nn.LSTM``'s gate blocks (i, f, g, o) into (o, i, f, g).

    The loops keep o, i, f side by side so that one sigmoid covers them. Indexing the
    weights with it is differentiable, so autograd maps the gradients back.

    Args:
        hid: H, units per gate.
    Returns:
        (4H,) long.
    """
    blocks = [torch.arange(k * hid, (k + 1) * hid, device=device) for k in (3, 0, 1, 2)]
    return torch.cat(blocks)
