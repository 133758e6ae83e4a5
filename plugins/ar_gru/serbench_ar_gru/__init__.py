"""serbench-ar-gru: AR-GRU (Rajamani et al., ICASSP 2021) inside IAAN (Yeh et al., ICASSP 2019).

A serbench model plugin, registered through the ``serbench`` entry-point group by
:mod:`serbench_ar_gru.plugin`. Importing this package does not import torch.
"""

__version__ = "0.1.0"
