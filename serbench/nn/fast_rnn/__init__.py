"""Fast recurrences for the papers' custom recurrent cells (issue 11).

Each cell that changes the inside of a recurrent step (AR-GRU's candidate activation,
A-LSTM's weighted state combination, GCA-LSTM's informativeness-gated cell update)
cannot use PyTorch's fused ``nn.GRU`` / ``nn.LSTM``, and a plain Python loop recorded by
autograd trains 6-9x slower. The implementations here keep the Python loop over time
but make it cheap:

* all input projections ``x W_ih^T + b`` are one batched matmul before the loop;
* the forward loop runs without autograd, writing into preallocated time-major buffers;
* the backward through time is written by hand (a ``torch.autograd.Function``), so the
  backward pass is a second short loop of ATen calls instead of thousands of autograd
  nodes, and the weight gradients are single matmuls over all steps afterwards.

A training step (forward + backward, batch 32, 400 frames) then takes about the time of
``nn.GRU`` / ``nn.LSTM`` of the same size on CPU (whose backward goes through autograd
step by step). The A-LSTM and the gated LSTM do more Python-dispatched calls per step
(combinations, informativeness gating), so their loops also exist compiled
(:mod:`serbench.nn.fast_rnn.native`, C++ in ``csrc/``, built on first use with
``torch.utils.cpp_extension``): same buffers and equations, one GEMM and one fused
element-wise pass per step. Without a compiler they warn once and run the ATen loop;
the plugins keep their reference loops (the specification, forced with
``implementation="reference"``), ``"auto"`` falls back to them with one warning if a fast
path cannot load (:mod:`serbench.nn.fast_rnn.select`), and the tests compare all of
them (``tox -e bench`` times them: ``tests/bench/test_rnn_bench.py``).

Modules, one per cell:

* :mod:`serbench.nn.fast_rnn.gru`: GRU with an element-wise pluggable candidate activation;
* :mod:`serbench.nn.fast_rnn.alstm`: the advanced LSTM (Tao and Liu 2018, eqs. 6-12);
* :mod:`serbench.nn.fast_rnn.gated_lstm`: the GCA-LSTM gated cell (Li et al. 2019, eq. 11);
* :mod:`serbench.nn.fast_rnn.native`: builds and loads the compiled loops of the last two.
"""
