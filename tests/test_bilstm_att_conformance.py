"""bilstm_att passes the shared model conformance test."""

import torch

from serbench.testing.conformance import ModelConformance


class TestBilstmAttConformance(ModelConformance):
    model_name = "bilstm_att"
    hparams = {"hidden": 6, "dropout": 0.1}
    level = "frames"
    feature_dim = 5


class TestBilstmAttFrontendConformance(ModelConformance):
    model_name = "bilstm_att"
    variant = "frontend"
    hparams = {"hidden": 6, "layers": 2}
    feature_dim = 3


def test_attention_maps_sum_to_one_on_valid_frames():
    case = TestBilstmAttConformance()
    model = case.build().eval()
    batch = case.make_batch()
    maps = model.attention_maps(batch)
    alpha = maps["frames"]
    assert alpha.shape == batch.mask.shape
    assert torch.all(alpha[~batch.mask] == 0)
    torch.testing.assert_close(alpha.sum(1), torch.ones(len(batch)))
