"""Attention pooling and the svm reference model."""

import numpy as np
import torch

from serbench.data.batch import InputSpec
from serbench.models import svm
from serbench.nn.masking import lengths_to_mask
from serbench.nn.pooling import AttentionPooling, has_attention_maps
from serbench.plugins import get_registry


def test_attention_pooling_ignores_padding_and_weights_sum_to_one():
    torch.manual_seed(0)
    pool = AttentionPooling(5)
    x = torch.randn(3, 7, 5)
    lengths = torch.tensor([7, 4, 1])
    mask = lengths_to_mask(lengths, 7)
    pooled, weights = pool(x, mask)
    assert pooled.shape == (3, 5) and weights.shape == (3, 7)
    torch.testing.assert_close(weights.sum(1), torch.ones(3))
    assert torch.all(weights[~mask] == 0)
    # garbage in padded frames changes nothing
    noisy = x.clone()
    noisy[~mask] = 1e3
    torch.testing.assert_close(pool(noisy, mask)[0], pooled)
    # length 1: the pooled vector is the only frame
    torch.testing.assert_close(pooled[2], x[2, 0])
    # the weights are the softmax of u^T y_t over valid frames
    expected = torch.softmax(pool.u(x[1, :4]).squeeze(-1), 0)
    torch.testing.assert_close(weights[1, :4], expected)


def test_models_expose_attention_maps():
    from serbench.models.bilstm_att import build

    assert has_attention_maps(build(InputSpec(feature_dim=2, num_classes=2), {"hidden": 2}))
    assert not has_attention_maps(torch.nn.Linear(2, 2))


def test_svm_scaler_is_fitted_on_training_rows_only():
    rng = np.random.default_rng(0)
    x_train = rng.normal(5.0, 2.0, size=(40, 3))
    y = np.arange(40) % 2
    pipe = svm.build(InputSpec(feature_dim=3, num_classes=2), {"C": 1.0, "lr": 0.1})
    pipe.fit(x_train, y)
    np.testing.assert_allclose(pipe.named_steps["scale"].mean_, x_train.mean(0))
    svc = pipe.named_steps["svc"]
    assert svc.kernel == "rbf" and svc.C == 1.0 and svc.class_weight == "balanced"
    assert not hasattr(pipe, "predict_proba")  # scores come from decision_function


def test_svm_registration_metadata():
    spec = get_registry().model("svm")
    assert spec.framework == "sklearn" and spec.level == "functionals"
    assert spec.default_feature == "egemaps"
    assert {"C", "kernel", "gamma"} <= set(spec.defaults)
    assert spec.preferred["normalisation"] == "speaker"
    from serbench.lazy import resolve

    assert set(resolve(spec.search_space)()) == {"C", "gamma"}
    bilstm = get_registry().model("bilstm_att")
    assert bilstm.level == "frames" and bilstm.default_feature == "egemapsv02_windows"
    assert "Mirsamadi" in bilstm.citation
    assert not spec.validate() and not bilstm.validate()


def test_registering_models_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; from serbench.plugins import Registry, make_plugin_manager; "
            "Registry(make_plugin_manager()).model('bilstm_att'); "
            "print('torch' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "False"
