"""serbench plugin: RLC (residual conv + multi-head self-attention + GCA-LSTM), Li et al., IJCAI 2019."""
