"""serbench plugin: DRN (dilated residual network + multi-head self-attention), Li et al., ICASSP 2019."""
