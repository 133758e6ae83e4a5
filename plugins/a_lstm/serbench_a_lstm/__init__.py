"""serbench plugin: advanced LSTM with multi-task weighted pooling (Tao and Liu, ICASSP 2018).

Registration: :mod:`serbench_a_lstm.plugin` (no torch import). The A-LSTM cell (the
reference Python loop): :mod:`serbench_a_lstm.cell`; Fig. 1's network:
:mod:`serbench_a_lstm.network`; the DNN baseline: :mod:`serbench_a_lstm.dnn`.
"""
