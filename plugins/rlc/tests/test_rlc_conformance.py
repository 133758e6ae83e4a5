"""serbench's shared model conformance test for every Table 2 row (A and A+L), tiny sizes."""

from __future__ import annotations

from serbench.testing.conformance import ModelConformance

#: tiny front end: 5 groups, strides as the paper's (all 2), 2 heads
TINY = {
    "channels": [4, 8, 8, 8, 8],
    "kernels": [5, 3, 3, 3, 3],
    "heads": 2,
    "hidden_size": 8,
    "iterations": 2,
    "embedding_dim": 6,
    "lexical_hidden": 5,
    "dense_units": 8,
    "conv_dropout": 0.0,
    "attention_dropout": 0.0,
    "dropout": 0.0,
    "params": None,  # the variants balance to Table 2's counts; tiny widths instead
}


class TestRLC(ModelConformance):
    """S3 = RLC, acoustic input (the default variant)."""

    model_name = "rlc"
    hparams = TINY
    feature_dim = 5
    num_classes = 4
    lengths = (40, 9, 23, 1)


class TestBaseline(TestRLC):
    variant = "baseline"


class TestS1(TestRLC):
    variant = "s1"


class TestS2(TestRLC):
    variant = "s2"


class TestRLCLexical(TestRLC):
    """S3 with the transcript branch (Table 2, A+L)."""

    model_name = "rlc_al"
    inputs = ("tokens",)


class TestBaselineLexical(TestRLCLexical):
    variant = "baseline"
