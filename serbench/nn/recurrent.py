"""``nn.LSTM`` over zero-padded batches with the result of packed sequences, without packing
(:func:`run_lstm`), and chrono initialisation for LSTMs over long sequences (:func:`chrono_init_`).

Why: on CPU, the backward pass of ``nn.LSTM`` over a ``PackedSequence`` is 15-60x slower
than over the padded tensor (torch 2.13, measured here: 2-layer LSTM, 64 units, batch 32,
700 frames: 8.4 s against 0.14 s), which made the frame-level LSTMs of the RLC baseline,
``poria_lstm`` and ``bilstm_att`` take minutes per batch. The outputs packing guarantees
are obtained directly instead:

* a forward-running direction never reads the frames after a row's end, so its outputs
  on valid frames are those of the packed run (padding after the end changes only
  outputs that are discarded);
* the reverse direction must start at each row's last valid frame: it runs forward over
  every row reversed within its length (padding stays at the end), and its outputs are
  reversed back.

Stacked bidirectional layers are run one layer at a time for that reason, with the
module's own weights (``torch._VF.lstm``, the call ``nn.LSTM.forward`` makes) and its
inter-layer dropout. The state dict is the module's: nothing about a model changes but
its speed (tested against the packed run, outputs and gradients).
"""

from __future__ import annotations

import torch
from torch import nn

from serbench.errors import ConfigError
from serbench.nn.masking import lengths_to_mask


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row's first ``lengths[b]`` steps in reverse order; the padding stays in place.

    Args:
        x: (B, T, D); lengths: (B,) long, 1 <= lengths <= T.
    Returns:
        (B, T, D). Applying it twice gives ``x`` back.
    """
    steps = torch.arange(x.shape[1], device=x.device).unsqueeze(0)  # (1, T)
    ends = lengths.to(x.device).unsqueeze(1)  # (B, 1)
    index = torch.where(steps < ends, ends - 1 - steps, steps)  # (B, T)
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def _direction(x: torch.Tensor, lstm: nn.LSTM, layer: int, suffix: str) -> torch.Tensor:
    """One direction of one layer over (B, T, D_in) -> (B, T, H), zero initial state."""
    names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
    if lstm.bias:
        names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
    weights = [getattr(lstm, n) for n in names]
    zeros = x.new_zeros(1, x.shape[0], lstm.hidden_size)
    out, _, _ = torch._VF.lstm(x, (zeros, zeros), weights, lstm.bias, 1, 0.0, lstm.training,
                               False, True)
    return out


def run_lstm(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``lstm`` over a padded batch, outputs as a packed run would give them.

    Args:
        lstm: a ``batch_first`` ``nn.LSTM`` (uni- or bidirectional, any layers, no
            ``proj_size``).
        x: (B, T, D) frames; anything after ``lengths``.
        lengths: (B,) long; 0 is read as 1 (an empty sequence sees one padding step).
    Returns:
        (B, T, H * directions) outputs, zero after each row's length.
    """
    if not lstm.batch_first or lstm.proj_size:
        raise ValueError("run_lstm needs a batch_first nn.LSTM without proj_size")
    lengths = lengths.clamp_min(1).clamp_max(x.shape[1])
    mask = lengths_to_mask(lengths, x.shape[1]).unsqueeze(-1).to(x.dtype)
    if not lstm.bidirectional:
        return lstm(x)[0] * mask
    layer_input = x
    for layer in range(lstm.num_layers):
        forward = _direction(layer_input, lstm, layer, "")
        backward = reverse_within_lengths(
            _direction(reverse_within_lengths(layer_input, lengths), lstm, layer, "_reverse"),
            lengths)
        layer_input = torch.cat([forward, backward], dim=-1) * mask
        if lstm.dropout and lstm.training and layer < lstm.num_layers - 1:
            layer_input = nn.functional.dropout(layer_input, lstm.dropout, training=True)
    return layer_input


def chrono_init_(lstm: nn.LSTM, t_max: float) -> nn.LSTM:
    """Chrono initialisation of every layer and direction's gate biases, in place.

    Tallec and Ollivier, "Can recurrent neural networks warp time?", ICLR 2018: the
    forget-gate bias ``b_f ~ log(U(1, t_max - 1))`` and the input-gate bias ``b_i = -b_f``;
    the other biases 0. A unit with forget gate ``sigmoid(b_f)`` keeps its cell for about
    ``1 / (1 - sigmoid(b_f)) = 1 + exp(b_f)`` steps, so the units' memory spans are spread
    evenly over [2, t_max] steps instead of all being about 2 (PyTorch's biases near 0).

    Why: an LSTM whose last output summarises hundreds of 5 ms frames (RLC's baseline,
    ``poria_lstm``) starts, with PyTorch's initialisation, by forgetting all but the last
    few frames; on utterances ending in silence that is no signal at all, and training
    stays at the class prior. Draws from torch's global generator (seeded runs repeat).

    Args:
        lstm: any ``nn.LSTM`` with biases.
        t_max: the longest dependency expected, in steps (> 2).
    Returns:
        ``lstm``.
    """
    if not t_max > 2:
        raise ConfigError(f"chrono initialisation needs t_max > 2 steps, not {t_max!r}")
    if not lstm.bias:
        raise ConfigError("chrono initialisation sets gate biases; this LSTM has none (bias=False)")
    h = lstm.hidden_size
    with torch.no_grad():
        for name, bias in lstm.named_parameters():
            if not name.startswith("bias"):
                continue
            bias.zero_()
            if name.startswith("bias_ih"):  # gate order i, f, g, o
                forget = torch.empty(h).uniform_(1.0, t_max - 1.0).log_()
                bias[h : 2 * h] = forget
                bias[:h] = -forget
    return lstm
