"""serbench's shared model conformance test for a_lstm's variants and alstm_dnn."""

from __future__ import annotations

from serbench.testing.conformance import ModelConformance

TINY = {"fc_units": 6, "hidden_size": 4, "branch_units": 6, "time_steps": [3, 2, 1]}


class TestALSTM(ModelConformance):
    """The default: A-LSTM cells, multi-task heads (speaker, gender)."""

    model_name = "a_lstm"
    hparams = TINY
    feature_dim = 5
    num_classes = 4
    aux_tasks = {"speaker": 3, "gender": 2}
    lengths = (9, 3, 6, 1)  # 9 and 6 reach the combination steps 3, 6, 9


class TestMeanLSTM(TestALSTM):
    variant = "mean_lstm"


class TestConventionalLSTM(TestALSTM):
    variant = "lstm"


class TestPaperSteps(TestALSTM):
    hparams = {**TINY, "time_steps": [5, 3, 1]}
    lengths = (11, 3, 5, 1)


class TestEmotionOnly(TestALSTM):
    aux_tasks = {}


class TestDNN(ModelConformance):
    model_name = "alstm_dnn"
    hparams = {"shared_units": [16, 16], "task_units": 8}
    level = "functionals"
    feature_dim = 10
    num_classes = 4
    aux_tasks = {"speaker": 3, "gender": 2}
