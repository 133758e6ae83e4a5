"""serbench plugin: attention-based dense LSTM (Xie et al., IEICE 2019).

Registration lives in :mod:`serbench_dense_lstm.plugin` (no torch import); the network
in :mod:`serbench_dense_lstm.model`; the Optuna search space in
:mod:`serbench_dense_lstm.search`.
"""
