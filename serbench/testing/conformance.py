"""The model conformance test every torch model passes (DESIGN.md, "Style to follow").

Subclass :class:`ModelConformance` in a test module and set the class attributes::

    from serbench.testing.conformance import ModelConformance

    class TestMyModel(ModelConformance):
        model_name = "my_model"          # as registered
        variant = None                   # or a variant name
        hparams = {"hidden": 8}          # small: tests must be fast
        level = "frames"                 # or "functionals", or "waveform"
        feature_dim = 6                  # 1 for "waveform"
        inputs = ()                      # ("context",) / ("tokens",) as the spec says

pytest then runs the checks below on random batches:

* output: a (B, C) tensor, or a dict with ``"emotion"`` (B, C) and (B, C_t) per task;
* padding invariance: appending padded frames does not change any output (eval mode);
  for ``level = "waveform"`` the batch is (B, N) audio at ``sample_rate`` and the
  lengths are samples (set ``lengths`` to what the model's receptive field needs);
* determinism: the same seed builds the same weights and gives the same outputs;
* a few optimiser steps on a fixed batch lower the loss;
* every trainable parameter receives a finite gradient;
* batch size 1 and sequences of length 1 work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

try:
    import pytest
except ImportError:  # the kit is pytest classes; serbench itself does not need pytest
    raise ImportError("serbench.testing.conformance runs under pytest, which is not "
                      "installed: pip install 'serbench[test]'") from None
import torch

from serbench.components import ModelSpec
from serbench.data.batch import Batch, InputSpec
from serbench.data.dataset import collate
from serbench.training.config import TrainingConfig
from serbench.training.trainer import MultiTaskLoss, as_task_dict


class ModelConformance:
    """Base class of a model's conformance tests; not collected itself (no ``Test`` prefix)."""

    model_name: ClassVar[str] = ""
    variant: ClassVar[str | None] = None
    hparams: ClassVar[Mapping[str, Any]] = {}
    level: ClassVar[str] = "frames"
    feature_dim: ClassVar[int] = 4
    num_classes: ClassVar[int] = 3
    inputs: ClassVar[tuple[str, ...]] = ()
    #: auxiliary task -> number of classes, for multi-task models
    aux_tasks: ClassVar[Mapping[str, int]] = {}
    vocab_size: ClassVar[int] = 20
    lengths: ClassVar[tuple[int, ...]] = (7, 3, 5, 1)
    #: parameter names allowed to get no gradient (e.g. unused by design)
    params_without_grad: ClassVar[frozenset[str]] = frozenset()
    #: optimiser steps allowed to bring the loss down
    train_steps: ClassVar[int] = 10
    atol: ClassVar[float] = 1e-5
    #: the audio rate of a ``level = "waveform"`` model's batches
    sample_rate: ClassVar[int] = 16000

    # -- set-up -------------------------------------------------------------------------

    def model_spec(self) -> ModelSpec:
        """The registered spec of ``model_name`` (override to test an unregistered one)."""
        from serbench.plugins import Registry, make_plugin_manager

        if not self.model_name:
            raise TypeError(f"{type(self).__name__} must set model_name")
        return Registry(make_plugin_manager()).model(self.model_name)

    def resolved_hparams(self) -> dict[str, Any]:
        spec = self.model_spec()
        out = dict(spec.defaults)
        if self.variant is not None:
            out.update(spec.variants[self.variant])
        out.update(self.hparams)
        return out

    def input_spec(self) -> InputSpec:
        return InputSpec(
            feature_dim=self.feature_dim,
            num_classes=self.num_classes,
            level=self.level if self.level in ("functionals", "waveform") else "frames",
            feature_names=(("waveform",) if self.level == "waveform"
                           else tuple(f"f{i}" for i in range(self.feature_dim))),
            tasks={"emotion": self.num_classes, **dict(self.aux_tasks)},
            vocab_size=self.vocab_size if "tokens" in self.inputs else None,
            classes=tuple(f"c{i}" for i in range(self.num_classes)),
            sample_rate=self.sample_rate if self.level == "waveform" else None,
        )

    def build(self, seed: int = 0) -> torch.nn.Module:
        from serbench.lazy import resolve

        spec = self.model_spec()
        if spec.framework != "torch":
            pytest.skip(f"{spec.name} is not a torch model")
        torch.manual_seed(seed)
        model = resolve(spec.builder)(self.input_spec(), self.resolved_hparams())
        assert isinstance(model, torch.nn.Module), "the builder must return a torch.nn.Module"
        return model

    def make_batch(self, lengths: tuple[int, ...] | None = None, seed: int = 0) -> Batch:
        """A random batch with the streams the model reads; labels cover every class."""
        rng = np.random.default_rng(seed)
        lengths = lengths or self.lengths
        items = []
        for i, t in enumerate(lengths):
            shape = ((t, self.feature_dim) if self.level in ("frames", "waveform")
                     else (self.feature_dim,))
            item: dict[str, Any] = {
                "utt_id": f"u{i}",
                "x": rng.normal(size=shape).astype(np.float32),
                "targets": {
                    "emotion": i % self.num_classes,
                    **{task: i % n for task, n in self.aux_tasks.items()},
                },
            }
            if "context" in self.inputs:
                item["prev_self"] = rng.normal(size=shape).astype(np.float32) if i % 2 else None
                item["prev_other"] = rng.normal(size=shape).astype(np.float32)
            if "tokens" in self.inputs:
                item["tokens"] = rng.integers(1, self.vocab_size, size=max(1, t)).tolist()
            items.append(item)
        return collate(items, self.level if self.level in ("frames", "waveform")
                       else "functionals")

    @staticmethod
    def outputs(model: torch.nn.Module, batch: Batch) -> dict[str, torch.Tensor]:
        return as_task_dict(model(batch))

    def loss_fn(self) -> MultiTaskLoss:
        spec = self.model_spec()
        config = TrainingConfig.from_hparams(self.resolved_hparams())
        weights = {**dict(spec.task_weights), **{t: 1.0 for t in self.aux_tasks}}
        return MultiTaskLoss({**weights, **dict(config.task_weights)})

    # -- the checks ---------------------------------------------------------------------

    def test_output_shape(self) -> None:
        model = self.build().eval()
        batch = self.make_batch()
        out = model(batch)
        if isinstance(out, Mapping):
            assert "emotion" in out, f"a dict output needs key 'emotion', got {sorted(out)}"
            for task, n in self.aux_tasks.items():
                if task in out:
                    assert tuple(out[task].shape) == (len(batch), n), task
        logits = self.outputs(model, batch)["emotion"]
        assert tuple(logits.shape) == (len(batch), self.num_classes)
        assert torch.isfinite(logits).all()

    def test_padding_invariance(self) -> None:
        if self.level == "functionals":
            pytest.skip("functionals have no padding")
        model = self.build().eval()
        batch = self.make_batch()
        extra = 5 if self.level == "frames" else max(self.lengths)  # audio: many samples
        pad_shape = (len(batch), extra, *batch.x.shape[2:])  # (B, extra, D) or (B, extra)
        padded = Batch(
            x=torch.cat([batch.x, batch.x.new_zeros(pad_shape)], 1),
            lengths=batch.lengths.clone(),
            mask=torch.cat([batch.mask, batch.mask.new_zeros(len(batch), extra)], 1),
            extras=dict(batch.extras),
            targets=dict(batch.targets),
            utt_ids=list(batch.utt_ids),
        )
        with torch.no_grad():
            a, b = self.outputs(model, batch), self.outputs(model, padded)
        for task in a:
            torch.testing.assert_close(
                b[task],
                a[task],
                atol=self.atol,
                rtol=1e-4,
                msg=f"padding changed the {task!r} output",
            )
        # An utterance alone gives the same output as inside a batch of longer ones.
        single = self.make_batch()
        rows = [i for i, t in enumerate(self.lengths) if t < max(self.lengths)]
        if rows:
            i = rows[0]
            t = int(single.lengths[i])
            alone = Batch(
                x=single.x[i : i + 1, :t],
                lengths=single.lengths[i : i + 1],
                mask=single.mask[i : i + 1, :t],
                extras={k: v[i : i + 1] for k, v in single.extras.items()},
                targets={k: v[i : i + 1] for k, v in single.targets.items()},
                utt_ids=[single.utt_ids[i]],
            )
            with torch.no_grad():
                together, by_itself = self.outputs(model, single), self.outputs(model, alone)
            torch.testing.assert_close(
                by_itself["emotion"][0],
                together["emotion"][i],
                atol=self.atol,
                rtol=1e-4,
                msg="an utterance's output depends on its batch mates",
            )

    def test_determinism_under_seed(self) -> None:
        batch = self.make_batch()
        m1, m2 = self.build(seed=123), self.build(seed=123)
        for (n1, p1), (_, p2) in zip(m1.state_dict().items(), m2.state_dict().items(), strict=True):
            assert torch.equal(p1, p2), f"weights {n1} differ under the same seed"
        torch.manual_seed(7)
        o1 = self.outputs(m1.train(), batch)["emotion"]
        torch.manual_seed(7)
        o2 = self.outputs(m2.train(), batch)["emotion"]
        assert torch.equal(o1, o2), "outputs differ under the same seed"

    def test_training_step_lowers_loss(self) -> None:
        model = self.build()
        batch = self.make_batch()
        loss_fn = self.loss_fn()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        torch.manual_seed(0)

        def eval_loss() -> float:
            model.eval()
            with torch.no_grad():
                return float(loss_fn(self.outputs(model, batch), batch))

        before = eval_loss()
        for _ in range(self.train_steps):
            model.train()
            optimizer.zero_grad()
            loss_fn(self.outputs(model, batch), batch).backward()
            optimizer.step()
        after = eval_loss()
        assert after < before, (
            f"{self.train_steps} Adam steps did not lower the loss ({before} -> {after})"
        )

    def test_parameters_receive_gradients(self) -> None:
        model = self.build().train()
        batch = self.make_batch()
        self.loss_fn()(self.outputs(model, batch), batch).backward()
        missing = [
            name
            for name, p in model.named_parameters()
            if p.requires_grad
            and name not in self.params_without_grad
            and (p.grad is None or not torch.isfinite(p.grad).all())
        ]
        assert not missing, f"parameters without a finite gradient: {missing}"

    def test_batch_size_one(self) -> None:
        model = self.build().eval()
        batch = self.make_batch(lengths=(4,))
        assert tuple(self.outputs(model, batch)["emotion"].shape) == (1, self.num_classes)

    def test_length_one(self) -> None:
        model = self.build().eval()
        batch = self.make_batch(lengths=(1, 1, 1))
        logits = self.outputs(model, batch)["emotion"]
        assert tuple(logits.shape) == (3, self.num_classes)
        assert torch.isfinite(logits).all()
