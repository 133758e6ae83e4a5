"""RLC Table 1's A+L comparison systems: the A system's network plus RLC's transcript branch."""

from __future__ import annotations

import pytest
import torch
from serbench.data.batch import Batch, InputSpec
from serbench.lazy import resolve
from serbench.plugins import get_registry

HP = {"width": 8, "params": None, "dropout": 0.0, "hidden": 4, "acoustic_dim": 6,
      "embedding_dim": 4, "lexical_hidden": 5, "dense_units": 7, "dense_layers": 1}


def _batch(tokens: torch.Tensor) -> Batch:
    torch.manual_seed(0)
    lengths = torch.tensor([9, 4])
    mask = torch.arange(9)[None, :] < lengths[:, None]
    return Batch(x=torch.randn(2, 9, 5) * mask[..., None], lengths=lengths, mask=mask,
                 extras={"tokens": tokens, "token_lengths": torch.tensor([3, 2])})


@pytest.mark.parametrize("name,acoustic", [
    ("xia_dnn_al", "serbench_baselines.models:XiaDNN"),
    ("poria_cnn_al", "serbench_baselines.models:PoriaCNN"),
    ("poria_lstm_al", "serbench_baselines.models:PoriaLSTM"),
    ("bilstm_att_al", "serbench.models.bilstm_att:BiLSTMAttention"),
])
def test_lexical_system_is_the_acoustic_system_plus_rlc_branch(name: str, acoustic: str) -> None:
    from serbench_rlc.model import LexicalBranch

    spec = get_registry().model(name)
    assert spec.inputs == ("tokens",)
    model = resolve(spec.builder)(InputSpec(level="frames", feature_dim=5, num_classes=4,
                                            vocab_size=12), {**spec.defaults, **HP})
    assert isinstance(model.acoustic, resolve(acoustic))
    assert isinstance(model.lexical, LexicalBranch)
    model.eval()
    a = model(_batch(torch.tensor([[3, 4, 5], [6, 7, 0]])))
    b = model(_batch(torch.tensor([[8, 9, 10], [6, 7, 0]])))
    assert a.shape == (2, 4)
    # the transcript reaches the logits of its own utterance only
    assert not torch.allclose(a[0], b[0]) and torch.allclose(a[1], b[1])
