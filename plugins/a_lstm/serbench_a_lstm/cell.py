"""The advanced LSTM (A-LSTM) of Tao and Liu (ICASSP 2018), section 4.2, eqs. 3-12.

This is the *reference* implementation: a plain Python loop over time whose every line
is one equation, kept for clarity and as the oracle that faster implementations are
tested against. One step of the recurrence is :meth:`ALSTMCell.step`; the loop that
keeps the history and decides when to combine is :func:`run_alstm`.

The recurrence, for 1-indexed steps ``s = 1 .. L`` of one direction::

    i, f, g, o = gates(x_s, h'_{s-1})            eq. 7 (and the omitted gate equations)
    C_s   = f * C'_{s-1} + i * g                  eq. 6
    C'_s  = sum_{tau in T} w^C_tau C_{s+1-tau}    eq. 8, w^C = softmax_tau(W . C_{s+1-tau})  eq. 9
    h_s   = o * tanh(C'_s)                        eq. 10
    h'_s  = sum_{tau in T} w^h_tau h_{s+1-tau}    eq. 11, w^h = softmax_tau(W . h_{s+1-tau}) eq. 12

``T`` is the set of look-backs (``{3, 2, 1}`` in Fig. 3 means steps s-2, s-1 and s;
the experiments use ``{5, 3, 1}``: s-4, s-2, s). ``W`` is one learnable vector of size
H shared by eqs. 9 and 12 (the paper's "256 parameters" for a 2 x 128 BLSTM).

Readings of what the paper leaves open (parameters, documented in the README):

* When: "C' and h' are computed every max(T) steps rather than every step". The
  combination is applied at steps ``s`` with ``s % combine_every == 0`` (default
  ``combine_every = max(T)``), so every look-back exists (s - max(T) + 1 >= 1). At
  other steps ``C'_s = C_s`` and ``h'_s = h_s``: the conventional LSTM. With
  ``combine_every=1`` (every step) look-backs before the first step are left out of
  the softmax.
* What is combined: the history holds the states of eq. 6 (``C_s``) and eq. 10
  (``h_s``), i.e. before combination; the combined ``C'``/``h'`` only feed the next step.
* What the layer outputs: ``h_s`` of eq. 10 at every step (Fig. 3: "h is the hidden
  values to higher layer"); ``h'`` is the recurrent state only.
* ``mean`` mode (the paper's "mean LSTM"): the same recurrence with every weight fixed
  to 1/|T|; ``lstm`` mode: no combination at all (eqs. 3-5), numerically a
  ``torch.nn.LSTM`` with the same weights (same parameter names and gate order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from serbench.errors import ConfigError
from serbench.nn.recurrent import reverse_within_lengths
from torch import nn

MODES = ("advanced", "mean", "lstm")


class ALSTMCell(nn.Module):
    """The parameters of one A-LSTM direction and the computations of one step.

    Parameter names and layout follow ``torch.nn.LSTM`` (gate order i, f, g, o), so the
    weights of an ``nn.LSTM`` layer copy over unchanged.

    Args:
        input_size: D, size of ``x_s``.
        hidden_size: H.
        time_steps: T, the look-backs combined by eqs. 8 and 11 (1 = the current step).
        mode: ``advanced`` (learned weights, eqs. 9/12), ``mean`` (equal weights) or
            ``lstm`` (conventional cell, no combination).
        combine_every: combine at steps ``s`` divisible by it (default ``max(T)``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        time_steps: Sequence[int] = (5, 3, 1),
        mode: str = "advanced",
        combine_every: int | None = None,
    ):
        super().__init__()
        if mode not in MODES:
            raise ConfigError(f"A-LSTM mode {mode!r}: choose one of {', '.join(MODES)}")
        steps = tuple(sorted({int(t) for t in time_steps}, reverse=True))
        if not steps or min(steps) < 1:
            raise ConfigError(
                f"A-LSTM time_steps {list(time_steps)!r}: give look-backs >= 1 "
                "(1 = the current step), e.g. [5, 3, 1]"
            )
        every = max(steps) if combine_every is None else int(combine_every)
        if every < 1:
            raise ConfigError(f"A-LSTM combine_every {combine_every!r} must be >= 1 (or None)")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.time_steps, self.mode, self.combine_every = steps, mode, every
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        # W of eqs. 9 and 12, shared by both; absent in the mean and conventional cells.
        self.W = nn.Parameter(torch.empty(hidden_size)) if mode == "advanced" else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.LSTM``'s initialisation: U(-1/sqrt(H), 1/sqrt(H)) for every weight."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def combines_at(self, s: int) -> bool:
        """Whether eqs. 8-12 are applied at 1-indexed step ``s``."""
        return self.mode != "lstm" and s % self.combine_every == 0

    def step(
        self, x_s: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Eqs. 6-7: the new cell ``C_s`` and output gate ``o_s`` from the combined states.

        Args:
            x_s: (B, D) input at step s.
            h_prev: (B, H), ``h'_{s-1}``.
            c_prev: (B, H), ``C'_{s-1}``.
        Returns:
            c_s: (B, H), eq. 6; o_s: (B, H), the output gate (used by eq. 10).
        """
        z = x_s @ self.weight_ih.T + self.bias_ih + h_prev @ self.weight_hh.T + self.bias_hh
        i, f, g, o = z.chunk(4, dim=-1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_s = f * c_prev + i * g  # eq. 6 (g is C~ of eq. 7)
        return c_s, o

    def combine(self, states: torch.Tensor, valid: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Eqs. 8-9 (cells) or 11-12 (hidden values): a softmax-weighted sum over T.

        Args:
            states: (B, K, H), the states at the K look-backs of T.
            valid: (B, K) or (K,) bool, False for look-backs before the first step.
        Returns:
            combined: (B, H); weights: (B, K), ``softmax_tau(W . state_tau)`` (advanced)
            or 1/K over the valid look-backs (mean).
        """
        if self.W is not None:
            energy = states @ self.W  # (B, K): W . C_tau  (eq. 9) / W . h_tau (eq. 12)
        else:
            energy = states.new_zeros(states.shape[:2])  # mean LSTM: equal weights
        if valid is not None:
            energy = energy.masked_fill(~valid.expand_as(energy), float("-inf"))
        weights = torch.softmax(energy, dim=-1)
        return torch.einsum("bk,bkh->bh", weights, states), weights


def run_alstm(cell: ALSTMCell, x: torch.Tensor,
              state: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """One direction of the A-LSTM over a batch of sequences (reference Python loop).

    Every row is read from step 1 onwards; padding may follow the valid part (its outputs
    are garbage, but it never reaches an earlier step). Reverse directions reverse each
    row within its length first (:func:`serbench.nn.recurrent.reverse_within_lengths`).

    Args:
        cell: the parameters and the step.
        x: (B, L, D).
        state: initial ``(h'_0, C'_0)``, each (B, H); zeros by default.
    Returns:
        h: (B, L, H), ``h_s`` of eq. 10 at every step.
    """
    b, length, _ = x.shape
    hsz = cell.hidden_size
    if state is None:
        h_comb = x.new_zeros(b, hsz)
        c_comb = x.new_zeros(b, hsz)
    else:
        h_comb, c_comb = state
    cells: list[torch.Tensor] = []  # C_s of eq. 6, s = 1..L
    hiddens: list[torch.Tensor] = []  # h_s of eq. 10
    for s in range(1, length + 1):
        c_s, o_s = cell.step(x[:, s - 1], h_comb, c_comb)
        cells.append(c_s)
        if cell.combines_at(s):
            # look-backs tau in T: the states at steps s + 1 - tau (tau = 1: this step)
            idx = [s - tau for tau in cell.time_steps]  # 0-indexed into the history
            valid = None  # look-backs before step 1 (only when combine_every < max(T))
            if min(idx) < 0:
                valid = torch.tensor([i >= 0 for i in idx], device=x.device)
            c_stack = torch.stack([cells[max(i, 0)] for i in idx], dim=1)  # (B, K, H)
            c_comb, _ = cell.combine(c_stack, valid)  # eqs. 8-9
            h_s = o_s * torch.tanh(c_comb)  # eq. 10
            hiddens.append(h_s)
            h_stack = torch.stack([hiddens[max(i, 0)] for i in idx], dim=1)
            h_comb, _ = cell.combine(h_stack, valid)  # eqs. 11-12
        else:
            c_comb = c_s  # no combination at this step: C'_s = C_s
            h_s = o_s * torch.tanh(c_s)  # eq. 5
            hiddens.append(h_s)
            h_comb = h_s
    if not hiddens:
        return x.new_zeros(b, 0, hsz)
    return torch.stack(hiddens, dim=1)


def run_alstm_fast(cell: ALSTMCell, x: torch.Tensor,
                   state: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """:func:`run_alstm` with serbench's hand-written backward through time (issue 11).

    Same arguments, same result (tested against :func:`run_alstm`); about as fast as
    ``torch.nn.LSTM`` on CPU (``tests/bench/test_rnn_bench.py``).

    Args:
        cell: the parameters.
        x: (B, L, D).
        state: initial ``(h'_0, C'_0)``, each (B, H); zeros by default.
    Returns:
        h: (B, L, H), ``h_s`` of eq. 10 at every step.
    """
    from serbench.nn.fast_rnn.alstm import alstm_sequence

    return alstm_sequence(x, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, cell.W,
                          time_steps=cell.time_steps, combine_every=cell.combine_every,
                          combine=cell.mode != "lstm", state=state)


class BiALSTM(nn.Module):
    """A bidirectional A-LSTM layer (the BLSTM of Fig. 1 with A-LSTM cells).

    Args:
        input_size: D.
        hidden_size: H per direction (128 in the paper).
        time_steps, mode, combine_every: see :class:`ALSTMCell`.
        implementation: ``"auto"`` (the fast path, :func:`run_alstm_fast`, falling back
            to the reference with a warning if it cannot load), ``"fast"`` or
            ``"reference"`` (:func:`run_alstm`); the same function either way.
    """

    def __init__(self, input_size: int, hidden_size: int, *, time_steps: Sequence[int] = (5, 3, 1),
                 mode: str = "advanced", combine_every: int | None = None,
                 implementation: str = "auto"):
        super().__init__()
        self.forward_cell = ALSTMCell(input_size, hidden_size, time_steps, mode, combine_every)
        self.backward_cell = ALSTMCell(input_size, hidden_size, time_steps, mode, combine_every)
        self.implementation = implementation

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: (B, L, D), lengths: (B,) -> (B, L, 2H): [forward h_s; backward h_s].

        The backward direction reads each row from its last valid step, so padding
        never changes a valid output."""
        from serbench.nn.fast_rnn.select import choose

        run = choose(self.implementation, run_alstm_fast, run_alstm, what="A-LSTM recurrence")
        fwd = run(self.forward_cell, x)
        bwd = reverse_within_lengths(run(self.backward_cell, reverse_within_lengths(x, lengths)),
                                     lengths)
        return torch.cat([fwd, bwd], dim=-1)
