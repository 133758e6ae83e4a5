"""Two generic blocks the paper models share: a padding-safe LSTM encoder and a dense stack."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from serbench.nn.masking import last_valid
from serbench.nn.recurrent import chrono_init_, run_lstm


class LSTMEncoder(nn.Module):
    """Stacked unidirectional LSTM over padded sequences; the last valid output summarises.

    Args:
        input_size: D.
        hidden_size: H, units per layer.
        layers: stacked layers.
        dropout: between layers (ignored for one layer).
        chrono_tmax: chrono-initialise the gate biases for dependencies up to this many
            steps (:func:`serbench.nn.recurrent.chrono_init_`); None: PyTorch's init.
    """

    def __init__(self, input_size: int, hidden_size: int, layers: int = 1, dropout: float = 0.0,
                 chrono_tmax: float | None = None):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        if chrono_tmax is not None:
            chrono_init_(self.lstm, float(chrono_tmax))
        self.out_dim = hidden_size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Args:
            x: (B, T, D), anything after ``lengths``.
            lengths: (B,) long; 0 is read as 1 (an empty sequence sees one padding step).
        Returns:
            last: (B, H) output at each row's last valid step.
            outputs: (B, T, H) every step's output, zero on padding.
        """
        lengths = lengths.clamp_min(1)
        outputs = run_lstm(self.lstm, x, lengths)  # packing's result, without its slow backward
        return last_valid(outputs, lengths), outputs


class DenseStack(nn.Module):
    """``layers`` x (Linear -> ReLU -> dropout), then a linear output layer.

    Args:
        input_size: size of the representation.
        units: width of each hidden layer, or a sequence of widths.
        layers: hidden layers when ``units`` is an int.
        out_size: C, the logits.
        dropout: after each hidden layer.
    """

    def __init__(self, input_size: int, units: int | Sequence[int], out_size: int, *,
                 layers: int = 1, dropout: float = 0.0):
        super().__init__()
        widths = [int(units)] * layers if isinstance(units, int) else [int(u) for u in units]
        mods: list[nn.Module] = []
        size = input_size
        for w in widths:
            mods += [nn.Linear(size, w), nn.ReLU(), nn.Dropout(dropout)]
            size = w
        mods.append(nn.Linear(size, out_size))
        self.net = nn.Sequential(*mods)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, input_size) -> (B, out_size)."""
        return self.net(z)
