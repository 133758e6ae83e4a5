"""Every registered torch model learns a separable toy task with serbench's real trainer.

Slow (``-m slow``, ``tox -e slow``). The conformance tests check that a few optimiser
steps on a fixed batch lower the loss; these check that a small instance of each model,
trained by :func:`serbench.training.trainer.train` (mini-batches, shuffling, clipping,
the model's own optimiser) for a few seconds, fits its training set well above chance
(4 balanced classes: 25%) when predicted in eval mode as a run predicts
(:func:`serbench.training.trainer.predict`), and does not answer one class for all.

The models are read from the plugin registry as ``serbench models`` lists them, so a
newly registered torch model fails here until it gets an entry in :data:`CASES` (small
widths as ``--set`` overrides, checked by :func:`serbench.run.model_hparams.resolve_hparams`).

The toy task (:func:`_features`): frames (T, 6) whose mean is ``separation`` higher in
dimension ``label``; functionals: one such vector; waveform: a class-dependent tone in
noise. Models with a transcript branch (``*_al``) read a transcript that carries the
class (its first word) while their audio does not, so their lexical branch has to learn;
``ar_gru`` reads the previous turns as its context (ids of other toy utterances).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.slow

N_CLASSES = 4
N_UTTERANCES = 64
#: training accuracy asked of every model (chance: 1 / N_CLASSES)
MIN_ACCURACY = 0.7
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    """How one model is made small and trained on the toy task.

    Attributes:
        hparams: ``--set`` overrides (small widths; every ``*dropout`` key is set to 0
            besides, so that a few epochs suffice; eval mode disables dropout anyway).
        lengths: frames (waveform: samples) per utterance, uniform in this range.
        epochs, lr, batch_size: the training recipe (the model's optimiser is kept).
    """

    hparams: Mapping[str, Any] = field(default_factory=dict)
    lengths: tuple[int, int] = (8, 24)
    epochs: int = 30
    lr: float = 3e-3
    batch_size: int = 16


#: RLC's front end strides 5 times (32 frames per GCA-LSTM step): 96-160 frames give
#: 3-5 steps. At 1-2 steps GCA-LSTM is degenerate: min-max normalised informativeness
#: is constant (r = 1) or exactly {0, 1}, so eq. 9's weights get no gradient.
_RLC = {"channels": [8, 8, 8, 8, 8], "kernels": [5, 3, 3, 3, 3], "heads": 2,
        "hidden_size": 16, "dense_units": 16, "embedding_dim": 8, "lexical_hidden": 8,
        "params": None}
_DRN = {"channels": [8, 8, 8, 8, 8], "kernels": [5, 3, 3, 3, 3], "heads": 2,
        "hidden_size": 16, "dense_units": 16, "params": None}
_LEXICAL = {"acoustic_dim": 16, "embedding_dim": 8, "lexical_hidden": 16, "dense_units": 16}
_BASELINE = {"width": 16, "params": None}

CASES: dict[str, Case] = {
    "a_lstm": Case({"fc_units": 16, "hidden_size": 16, "branch_units": 16}),
    "alstm_dnn": Case({"shared_units": [32, 32], "task_units": 16}, lr=1e-2),
    "ar_gru": Case({"hidden_size": 16, "attention_size": 8, "fc_size": 16}),
    "bilstm_att": Case({"hidden": 16}),
    "bilstm_att_al": Case({"hidden": 16, **_LEXICAL}),
    "dense_lstm": Case({"cells": [16, 16], "dense_units": 16}),
    "drn": Case(_DRN, lengths=(24, 48)),
    "mlp": Case({"hidden": "32,16"}),
    "poria_cnn": Case(_BASELINE),
    "poria_cnn_al": Case({**_BASELINE, **_LEXICAL}),
    "poria_lstm": Case(_BASELINE, epochs=60),
    "poria_lstm_al": Case({**_BASELINE, **_LEXICAL}),
    "rlc": Case(_RLC, lengths=(96, 160)),
    "rlc_al": Case(_RLC, lengths=(96, 160)),
    "ssl_finetune": Case({"projection": 8, "unfreeze_top": 1}, lengths=(3200, 6400),
                         lr=1e-2, epochs=10),
    "ssl_head": Case({"projection": 8}),
    "xia_dnn": Case(_BASELINE),
    "xia_dnn_al": Case({**_BASELINE, **_LEXICAL}),
}


def _torch_models() -> list[str]:
    from serbench.plugins import Registry, make_plugin_manager

    registry = Registry(make_plugin_manager())
    return [e.spec.name for e in registry.entries("model") if e.spec.framework == "torch"]


def _features(case: Case, level: str, labels: list[int], *, lexical: bool,
              sample_rate: int = 16000, seed: int = 0) -> dict[str, np.ndarray]:
    """utt id -> toy features of ``level``; ``lexical``: the audio carries no class."""
    rng = np.random.default_rng(seed)
    # frames: the class shows in the mean over T >= 8 frames; functionals: one vector
    separation = 0.0 if lexical else 1.5 if level == "frames" else 3.0
    out = {}
    for i, label in enumerate(labels):
        t = int(rng.integers(case.lengths[0], case.lengths[1] + 1))
        if level == "waveform":
            tone = 2 * np.pi * (250.0 * 2**label) * np.arange(t) / sample_rate
            x = 0.5 * np.sin(tone + rng.uniform(0, 2 * np.pi)) + 0.1 * rng.normal(size=t)
            out[f"u{i:03d}"] = x.astype(np.float32)[:, None]  # (N, 1)
            continue
        shape = (t, 6) if level == "frames" else (10,)
        x = rng.normal(size=shape).astype(np.float32)
        x[..., label] += separation
        out[f"u{i:03d}"] = x
    return out


def _tokens(labels: list[int], seed: int = 1) -> dict[str, list[int]]:
    """A transcript per utterance: a class word (ids 2-5), then 2-4 filler words (6-11)."""
    rng = np.random.default_rng(seed)
    return {f"u{i:03d}": [2 + label, *rng.integers(6, 12, size=int(rng.integers(2, 5))).tolist()]
            for i, label in enumerate(labels)}


def _ssl_upstream(folder: Path) -> str:
    """The tiny local WavLM of the ssl plugin's tests (plugins/ssl/tests/_ssl_tiny.py)."""
    path = REPO / "plugins" / "ssl" / "tests" / "_ssl_tiny.py"
    if not path.exists():
        pytest.skip(f"{path} not found (ssl_finetune needs its tiny local upstream)")
    loader = importlib.util.spec_from_file_location("_serbench_ssl_tiny", path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return str(module.save_tiny(folder / "wavlm", "wavlm", normalize=True))


def train_accuracy(name: str, case: Case, tmp_path: Path, seed: int = 0
                   ) -> tuple[float, np.ndarray]:
    """Train model ``name`` on the toy task; (training accuracy, predicted classes)."""
    import torch

    from serbench.data.batch import InputSpec
    from serbench.data.context import ContextRef
    from serbench.data.dataset import UtteranceDataset
    from serbench.plugins import Registry, make_plugin_manager
    from serbench.run.model_hparams import resolve_hparams
    from serbench.training import trainer
    from serbench.training.config import TrainingConfig
    from serbench.training.fold_torch import build_torch_model
    from serbench.training.seeding import seed_everything

    spec = Registry(make_plugin_manager()).model(name)
    defaults = {**spec.defaults, **(spec.variants.get(spec.default_variant or "", {}))}
    overrides: dict[str, Any] = {k: 0.0 for k in defaults if k.endswith("dropout")}
    overrides.update(case.hparams)
    overrides.update(lr=case.lr, batch_size=case.batch_size)
    if spec.level == "waveform":
        overrides["upstream"] = _ssl_upstream(tmp_path)
    hparams = resolve_hparams(spec, spec.default_variant, overrides, case.epochs)
    config = TrainingConfig.from_hparams(hparams)

    labels = [i % N_CLASSES for i in range(N_UTTERANCES)]
    ids = [f"u{i:03d}" for i in range(N_UTTERANCES)]
    lexical = "tokens" in spec.inputs
    features = _features(case, spec.level, labels, lexical=lexical, seed=seed)
    aux = sorted(t for t in spec.task_weights if t != "emotion")  # speaker, gender
    aux_sizes = {"speaker": 4, "gender": 2}
    targets = {"emotion": np.asarray(labels),
               **{t: np.arange(N_UTTERANCES) % aux_sizes.get(t, 2) for t in aux}}
    tokens = _tokens(labels, seed=seed + 1) if lexical else None
    context = ({u: ContextRef(ids[i - 2] if i >= 2 else None, ids[i - 1] if i else None)
                for i, u in enumerate(ids)} if "context" in spec.inputs else None)
    dim = next(iter(features.values())).shape[-1]
    input_spec = InputSpec(
        feature_dim=dim,
        num_classes=N_CLASSES,
        level=spec.level,
        feature_names=("waveform",) if spec.level == "waveform" else tuple(
            f"f{i}" for i in range(dim)),
        tasks={"emotion": N_CLASSES, **{t: aux_sizes.get(t, 2) for t in aux}},
        vocab_size=12 if lexical else None,
        classes=tuple(f"c{k}" for k in range(N_CLASSES)),
        sample_rate=int(hparams.get("sample_rate", 16000)) if spec.level == "waveform" else None,
    )
    dataset = UtteranceDataset(ids, features, spec.level, targets, context=context, tokens=tokens)

    seed_everything(seed)
    model = build_torch_model(spec, input_spec, hparams)
    trainer.train(model, dataset, None, config, num_classes=N_CLASSES, task_weights=spec.task_weights,
          seed=seed, device="cpu")
    probs, _ = trainer.predict(model, dataset, batch_size=config.batch_size, device=torch.device("cpu"))
    predicted = probs.argmax(-1)
    return float((predicted == np.asarray(labels)).mean()), predicted


@pytest.mark.parametrize("name", _torch_models())
def test_model_learns_separable_toy_task(name: str, tmp_path: Path) -> None:
    if name not in CASES:
        pytest.fail(f"torch model {name!r} is registered but has no case in "
                    f"tests/test_models_learn.py CASES: add its small widths there")
    accuracy, predicted = train_accuracy(name, CASES[name], tmp_path)
    counts = np.bincount(predicted, minlength=N_CLASSES).tolist()
    assert len(set(predicted.tolist())) > 1, f"{name} predicts one class for all: {counts}"
    assert accuracy >= MIN_ACCURACY, (
        f"{name}: training accuracy {accuracy:.2f} < {MIN_ACCURACY} (chance "
        f"{1 / N_CLASSES:.2f}); predicted classes {counts}"
    )
