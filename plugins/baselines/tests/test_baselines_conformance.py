"""serbench's shared model conformance test for the comparison systems, tiny sizes."""

from __future__ import annotations

from serbench.testing.conformance import ModelConformance


class TestXiaDNN(ModelConformance):
    model_name = "xia_dnn"
    hparams = {"width": 8, "params": None, "dropout": 0.0}
    feature_dim = 5
    num_classes = 4
    lengths = (12, 5, 8, 1)


class TestPoriaCNN(TestXiaDNN):
    model_name = "poria_cnn"


class TestPoriaLSTM(TestXiaDNN):
    model_name = "poria_lstm"
