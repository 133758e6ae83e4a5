"""serbench's shared model conformance test for every Table 2 row, tiny sizes."""

from __future__ import annotations

from serbench.testing.conformance import ModelConformance

TINY = {
    "channels": [4, 8, 8, 8, 8],
    "kernels": [5, 3, 3, 3, 3],
    "hidden_size": 8,
    "dense_units": 8,
    "conv_dropout": 0.0,
    "attention_dropout": 0.0,
    "dropout": 0.0,
    "params": None,  # the variants balance to Table 2's counts; tiny widths instead
}


class TestDRN(ModelConformance):
    """S4 = DRN (the default variant): dilated groups 4-5, 4-head self-attention."""

    model_name = "drn"
    hparams = {**TINY, "channels": [4, 8, 8, 8, 8]}
    feature_dim = 5
    num_classes = 4
    lengths = (30, 9, 17, 1)


class TestBaselineCNN(TestDRN):
    variant = "baseline"


class TestS1(TestDRN):
    variant = "s1"


class TestS2(TestDRN):
    variant = "s2"


class TestS3SingleHead(TestDRN):
    variant = "s3"
