"""A tiny RLC (S3, and S3 with the lexical branch) learns a separable toy task.

Slow (tens of seconds on a shared CPU): the conformance tests already check that a few
steps lower the loss; these check that 40 steps fit the training set well above chance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from serbench.data.batch import InputSpec
from serbench.data.dataset import collate
from serbench.lazy import resolve

from serbench_rlc import plugin

TINY = {"channels": [8, 16, 16, 16, 16], "kernels": [5, 3, 3, 3, 3], "heads": 2,
        "hidden_size": 16, "dense_units": 16, "conv_dropout": 0.0, "dropout": 0.0,
        "attention_dropout": 0.0, "embedding_dim": 8, "lexical_hidden": 8, "params": None}


def _items(lexical: bool, n: int = 48, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        label = i % 4
        t = int(rng.integers(20, 60))
        x = rng.normal(size=(t, 6)).astype(np.float32)
        x[:, label] += 1.0  # class in the mean of one LLD
        item = {"utt_id": f"u{i}", "x": x, "targets": {"emotion": label}}
        if lexical:  # the class is also one word of the transcript
            item["tokens"] = [2 + label, *rng.integers(6, 12, size=3).tolist()]
        items.append(item)
    return items


def _train_accuracy(model_spec, lexical: bool) -> float:
    torch.manual_seed(0)
    spec = InputSpec(feature_dim=6, num_classes=4, vocab_size=12 if lexical else None)
    model = resolve(model_spec.builder)(spec, {**model_spec.defaults, **TINY})
    batch = collate(_items(lexical), "frames")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        model.train()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(batch), batch.targets["emotion"]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return float((model(batch).argmax(-1) == batch.targets["emotion"]).float().mean())


@pytest.mark.slow
def test_rlc_learns() -> None:
    assert _train_accuracy(plugin.RLC, lexical=False) > 0.6  # chance: 0.25


@pytest.mark.slow
def test_rlc_al_learns() -> None:
    assert _train_accuracy(plugin.RLC_AL, lexical=True) > 0.6
