"""GCA-LSTM: Global Context-aware Attention LSTM (RLC paper, Sec. 3.3, eqs. 4-12).

Li et al., IJCAI 2019, after Liu et al., CVPR 2017. Given suprasegmental features
``M = (m_1 .. m_N)``:

1. A first LSTM (eqs. 4-8) encodes ``M`` into ``h = (h_1 .. h_N)``; its last output
   initialises the global context memory ``F^(0) = h_N``.
2. For ``i = 1 .. I`` (``iterations``, default 3):

   - informativeness: ``e_n = W_e1 tanh(W_e2 [h_n; F^(i-1)])`` (eq. 9),
     ``r_n = softmax_n(e_n)`` (eq. 10), then min-max normalised over the valid steps to
     [0, 1] (:func:`normalise_informativeness`);
   - a second LSTM reads ``h`` with its cell update gated by ``r_n`` (eq. 11,
     :func:`gated_cell_update`, one step in :func:`gca_lstm_step`); its last output is
     the attention representation ``F_att^(i)``;
   - the memory is refined: ``F^(i) = ReLU(W_F [F_att^(i); F^(i-1)])`` (eq. 12).

3. ``F^(I)`` is the utterance representation.

This module is the *reference* implementation: a plain Python loop over steps, written
to be read against the equations. A faster path may replace the loop, but must match
:meth:`GCALSTM.forward` (and so :func:`gca_lstm_step`) numerically.

As in the authors' code (``GCM.py``), ``W_e2`` (2H -> H), ``W_e1`` (H -> 1) and ``W_F``
(2H -> H) have no bias, and the second LSTM's weights are shared across iterations,
each iteration starting from a zero state. Three details of the authors' code that the
paper does not state are followed too (``layer_norm``, ``forget_bias``, Xavier-initialised
``W_e1``, ``W_e2``, ``W_F``), because without them the model does not learn (issue 8): the first
LSTM's outputs are small (rms ~0.06 at initialisation) and every bias-free
``ReLU(W_F [.])`` with PyTorch's default ``Linear`` initialisation shrinks the memory by about
2.5x more, so ``F^(3)`` reached the classifier ~100x smaller than a unit-scale vector and
nearly constant across utterances. The authors' code then:

- layer-normalises the first LSTM's outputs (``tf.contrib.layers.layer_norm``, learnt gain
  and bias) before they feed ``F^(0)``, the scores and the second LSTM;
- builds the first LSTM as ``BasicLSTMCell`` whose forget gate carries a +1 bias;
- initialises ``W_e1``, ``W_e2`` and ``W_F`` with Xavier (Glorot) uniform.

The authors' second LSTM (``GCALSTMCell``) receives ``[h_n; r_n]`` as one tensor only to
carry ``r_n`` into the cell: it splits the last column off, its weights read ``h_n``
alone, and ``r_n`` gates the cell update exactly as eq. 11 (here ``r_n`` is passed
separately, the same function). The cell's gates carry no +1 forget bias.
"""

from __future__ import annotations

import math

import torch
from serbench.nn.fast_rnn.select import choose
from serbench.nn.masking import last_valid, lengths_to_mask, masked_softmax
from serbench.nn.recurrent import run_lstm
from torch import nn


def normalise_informativeness(r: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Min-max normalise informativeness scores to [0, 1] over each row's valid steps.

    ``(r_n - min_n r) / (max_n r - min_n r)``. A row whose valid scores are all equal (in
    particular a one-step sequence) has no most or least informative step: every valid
    step gets 1, so eq. 11 then reads every input fully.

    Args:
        r: (B, N) scores (eq. 10).
        mask: (B, N) bool, True on valid steps.
    Returns:
        (B, N) in [0, 1]; 0 on padded steps.
    """
    big = torch.finfo(r.dtype).max
    lo = r.masked_fill(~mask, big).amin(dim=-1, keepdim=True)
    hi = r.masked_fill(~mask, -big).amax(dim=-1, keepdim=True)
    span = hi - lo
    flat = span <= eps
    out = (r - lo) / torch.where(flat, torch.ones_like(span), span)
    out = torch.where(flat, torch.ones_like(out), out)
    return out * mask.to(out.dtype)


def gated_cell_update(c_prev: torch.Tensor, f: torch.Tensor, i: torch.Tensor, g: torch.Tensor,
                      r: torch.Tensor) -> torch.Tensor:
    """The informativeness-gated memory cell update of GCA-LSTM (eq. 11).

    ``c_n = f_n * c_{n-1} * (1 - r_n) + i_n * g_n * r_n``, with
    ``g_n = tanh(W_c h_n + U_c h_{n-1} + b_c)``. A fully informative step (r = 1) replaces
    the cell by the gated candidate; an uninformative one (r = 0) imports nothing and
    only carries the forget-gated old cell on; in between, the two are mixed.

    Args:
        c_prev: (B, H) ``c_{n-1}``.
        f, i: (B, H) forget and input gates (eqs. 4-5), in (0, 1).
        g: (B, H) candidate ``tanh(...)``.
        r: (B, 1) or (B, H) normalised informativeness ``r_n^(i)`` in [0, 1].
    Returns:
        (B, H) ``c_n``.
    """
    return f * c_prev * (1 - r) + i * g * r


def gca_lstm_step(x: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor, r: torch.Tensor,
                  weight_ih: torch.Tensor, weight_hh: torch.Tensor, bias: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the second LSTM: eqs. 4-6 and 8 with eq. 7 replaced by eq. 11.

    Gate order in the weights is PyTorch's (i, f, g, o), as in ``nn.LSTM``.

    Args:
        x: (B, H_in) input ``h_n`` from the first LSTM.
        h_prev, c_prev: (B, H) state.
        r: (B, 1) informativeness of this step.
        weight_ih: (4H, H_in) the W matrices; weight_hh: (4H, H) the U matrices; bias: (4H,).
    Returns:
        ``(h_n, c_n)``, each (B, H).
    """
    gates = x @ weight_ih.T + h_prev @ weight_hh.T + bias
    i, f, g, o = gates.chunk(4, dim=-1)
    c = gated_cell_update(c_prev, torch.sigmoid(f), torch.sigmoid(i), torch.tanh(g), r)
    return torch.sigmoid(o) * torch.tanh(c), c


class GCALSTM(nn.Module):
    """Global Context-aware Attention LSTM (eqs. 4-12), reference implementation.

    Args:
        input_size: size of ``m_n`` (the front end's channels).
        hidden_size: units of both LSTMs and of the memory ``F`` (paper: 256).
        iterations: I, refinement iterations (paper: 3).
        implementation: the second LSTM's loop: ``"auto"`` (serbench's hand-written
            backward through time, :meth:`attend_fast`, falling back to the reference with
            a warning if it cannot load), ``"fast"`` or ``"reference"`` (:meth:`attend`);
            the same function either way.
        layer_norm: layer-normalise the first LSTM's outputs ``h_n`` (authors' code).
        forget_bias: added to the first LSTM's forget-gate bias at initialisation (the
            authors' ``BasicLSTMCell``: 1.0; 0 gives PyTorch's plain initialisation).
    """

    def __init__(self, input_size: int, hidden_size: int = 256, iterations: int = 3,
                 implementation: str = "auto", *, layer_norm: bool = True,
                 forget_bias: float = 1.0):
        super().__init__()
        self.implementation = implementation
        if iterations < 1:
            raise ValueError(f"iterations I={iterations} must be >= 1")
        self.hidden_size, self.iterations = hidden_size, iterations
        self.first = nn.LSTM(input_size, hidden_size, batch_first=True)  # eqs. 4-8
        h = hidden_size
        if forget_bias:
            with torch.no_grad():  # gate order (i, f, g, o): the forget slice of one bias
                self.first.bias_ih_l0[h : 2 * h] += forget_bias
        self.norm: nn.LayerNorm | None = nn.LayerNorm(h) if layer_norm else None
        # The second LSTM's W, U, b (eqs. 4-6, 11), initialised like nn.LSTM.
        self.weight_ih = nn.Parameter(torch.empty(4 * h, h))
        self.weight_hh = nn.Parameter(torch.empty(4 * h, h))
        self.bias = nn.Parameter(torch.empty(4 * h))
        bound = 1 / math.sqrt(h)
        for p in (self.weight_ih, self.weight_hh, self.bias):
            nn.init.uniform_(p, -bound, bound)
        self.W_e2 = nn.Linear(2 * h, h, bias=False)  # eq. 9, inner
        self.W_e1 = nn.Linear(h, 1, bias=False)  # eq. 9, outer
        self.W_F = nn.Linear(2 * h, h, bias=False)  # eq. 12
        for lin in (self.W_e2, self.W_e1, self.W_F):
            nn.init.xavier_uniform_(lin.weight)  # keeps F^(i)'s scale through the ReLUs
        #: (B, I, N) normalised informativeness of the last forward pass (for explain)
        self.last_scores: torch.Tensor | None = None

    def informativeness(self, h: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Eqs. 9-10 and the min-max normalisation.

        Args:
            h: (B, N, H) first-LSTM outputs; memory: (B, H) ``F^(i-1)``; mask: (B, N).
        Returns:
            (B, N) ``r_n^(i)`` in [0, 1], 0 on padding.
        """
        context = memory.unsqueeze(1).expand(-1, h.shape[1], -1)
        e = self.W_e1(torch.tanh(self.W_e2(torch.cat([h, context], dim=-1)))).squeeze(-1)
        return normalise_informativeness(masked_softmax(e, mask, dim=-1), mask)

    def attend(self, h: torch.Tensor, r: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The second LSTM over ``h`` gated by ``r``; its last valid output ``F_att^(i)``.

        Args:
            h: (B, N, H); r: (B, N); mask: (B, N) bool.
        Returns:
            (B, H).
        """
        b, n, _ = h.shape
        state_h = h.new_zeros(b, self.hidden_size)
        state_c = h.new_zeros(b, self.hidden_size)
        for t in range(n):
            new_h, new_c = gca_lstm_step(h[:, t], state_h, state_c, r[:, t : t + 1],
                                         self.weight_ih, self.weight_hh, self.bias)
            valid = mask[:, t : t + 1]
            # Past a row's end the state is frozen, so the final state is its last valid one.
            state_h = torch.where(valid, new_h, state_h)
            state_c = torch.where(valid, new_c, state_c)
        return state_h

    def attend_fast(self, h: torch.Tensor, r: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """:meth:`attend` with a hand-written backward through time (issue 11), same result.

        Args:
            h: (B, N, H); r: (B, N); mask: (B, N) bool, a prefix of valid steps per row.
        Returns:
            (B, H).
        """
        from serbench.nn.fast_rnn.gated_lstm import gated_lstm_sequence

        lengths = mask.sum(dim=1)
        return gated_lstm_sequence(h, r, lengths, self.weight_ih, self.weight_hh, self.bias)[1]

    def forward(self, m: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Utterance representation ``F^(I)``.

        Args:
            m: (B, N, D_in) suprasegmental features, zero-padded after ``lengths``.
            lengths: (B,) long, >= 1.
        Returns:
            (B, H) ``F^(I)``. The scores of every iteration are kept in ``last_scores``
            (B, I, N).
        """
        mask = lengths_to_mask(lengths, m.shape[1])
        h = run_lstm(self.first, m, lengths)  # packing's result, without its slow backward
        if self.norm is not None:
            h = self.norm(h) * mask.unsqueeze(-1).to(h.dtype)  # padding stays zero
        memory = last_valid(h, lengths)  # F^(0)
        attend = choose(self.implementation, self.attend_fast, self.attend,
                        what="GCA-LSTM recurrence")
        scores = []
        for _ in range(self.iterations):
            r = self.informativeness(h, memory, mask)
            attended = attend(h, r, mask)  # F_att^(i)
            memory = torch.relu(self.W_F(torch.cat([attended, memory], dim=-1)))  # eq. 12
            scores.append(r)
        self.last_scores = torch.stack(scores, dim=1).detach()
        return memory
