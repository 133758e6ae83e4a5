"""serbench's shared model conformance test, for every variant of dense_lstm."""

from __future__ import annotations

from serbench.testing.conformance import ModelConformance

TINY = {"cells": [6, 5], "dense_units": 8, "dropout": 0.1}


class TestFeature(ModelConformance):
    """The default variant: feature attention (eq. 6), softmax over time."""

    model_name = "dense_lstm"
    hparams = TINY
    feature_dim = 5
    num_classes = 4


class TestFeatureSoftmaxOverFeatures(TestFeature):
    hparams = {**TINY, "feature_softmax": "feature"}


class TestTime(TestFeature):
    variant = "time"


class TestGeneral(TestFeature):
    variant = "general"


class TestLSTM(TestFeature):
    variant = "lstm"


class TestTimeEnterface(TestFeature):
    variant = "time_enterface"


class TestThreeLayers(TestFeature):
    hparams = {**TINY, "cells": "4,4,3"}
