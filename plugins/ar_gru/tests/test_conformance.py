"""serbench's shared model conformance test, for the default model and Table 1's cells."""

from __future__ import annotations

import functools

from _ar_gru_registry import isolated_registry
from serbench.components import ModelSpec
from serbench.testing.conformance import ModelConformance


@functools.cache
def _spec(name: str) -> ModelSpec:
    return isolated_registry().model(name)


TINY = {"hidden_size": 8, "attention_size": 4, "fc_size": 8, "gru_implementation": "reference"}


class TestARGRU(ModelConformance):
    """The default variant, AR-GRU (V): BiGRU current encoder, AReLU alpha 0.01, beta 1."""

    def model_spec(self) -> ModelSpec:
        return _spec(self.model_name)

    model_name = "ar_gru"
    hparams = TINY
    feature_dim = 5
    num_classes = 4
    inputs = ("context",)


class TestIAANTanh(TestARGRU):
    """IAAN with standard GRUs (Table 1, IAAN row)."""

    variant = "iaan"


class TestARGRUIIFloorZero(TestARGRU):
    """AR-GRU (II): alpha 0 with the clamp floor at 0."""

    variant = "ar_gru_ii"


class TestUnidirectional(TestARGRU):
    """The published IAAN code's unidirectional current-utterance GRU."""

    hparams = {**TINY, "bidirectional": False}
