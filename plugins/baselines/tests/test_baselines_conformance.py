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


class TestXiaDNNLexical(TestXiaDNN):
    """RLC Table 1's A+L rows: the acoustic system plus RLC's transcript branch."""

    model_name = "xia_dnn_al"
    inputs = ("tokens",)
    hparams = {**TestXiaDNN.hparams, "acoustic_dim": 6, "embedding_dim": 4,
               "lexical_hidden": 5, "dense_units": 7, "dense_layers": 1}


class TestPoriaCNNLexical(TestXiaDNNLexical):
    model_name = "poria_cnn_al"


class TestPoriaLSTMLexical(TestXiaDNNLexical):
    model_name = "poria_lstm_al"


class TestBiLSTMAttLexical(TestXiaDNNLexical):
    model_name = "bilstm_att_al"
    hparams = {"hidden": 4, "dropout": 0.0, "acoustic_dim": 6, "embedding_dim": 4,
               "lexical_hidden": 5, "dense_units": 7, "dense_layers": 1}
