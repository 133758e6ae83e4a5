"""The torch trainer: early stopping, determinism, class weighting, multi-task, callbacks."""

import copy

import numpy as np
import pytest
import torch
from _training_helpers import CLASSES, toy_problem
from torch.nn import functional as F

from serbench.data.batch import Batch, InputSpec
from serbench.data.dataset import UtteranceDataset, collate
from serbench.errors import ConfigError
from serbench.testing.dummy import DummyModel
from serbench.training.config import TrainingConfig
from serbench.training.trainer import MultiTaskLoss, class_weights, train, unweighted_accuracy

torch.set_num_threads(1)


def splits(level="frames"):
    manifest, fold, table = toy_problem(level=level)
    label = {u: CLASSES.index(x) for u, x in zip(manifest["utt_id"], manifest["label"], strict=True)}

    def ds(ids):
        return UtteranceDataset(ids, table, level, {"emotion": np.array([label[u] for u in ids])})

    return ds(fold.train), ds(fold.valid), ds(fold.test)


def model(seed=0):
    torch.manual_seed(seed)
    return DummyModel(InputSpec(feature_dim=4, num_classes=3), hidden=8)


def test_early_stopping_restores_the_best_epoch_weights():
    tr, va, _ = splits()
    net = model()
    states = {}

    def remember(epoch, metrics):
        states[epoch] = copy.deepcopy(net.state_dict())

    # A large SGD learning rate makes validation UA wander, so the best epoch is not the last.
    config = TrainingConfig(lr=2.0, optimizer="sgd", momentum=0.0, batch_size=4,
                            max_epochs=12, patience=3, grad_clip=0)
    result = train(net, tr, va, config, num_classes=3, callbacks=[remember])
    uas = [row["valid_ua"] for row in result.curve]
    assert result.best_epoch == int(np.argmax(uas)) + 1
    assert result.best_valid_ua == max(uas)
    for name, value in net.state_dict().items():
        assert torch.equal(value, states[result.best_epoch][name]), name
    assert result.stopped_early
    assert result.epochs_run - result.best_epoch == config.patience
    # the restored weights are not simply the last epoch's
    last = states[result.epochs_run]
    assert any(not torch.equal(v, last[k]) for k, v in net.state_dict().items())


def test_patience_stops_when_nothing_improves():
    tr, va, _ = splits()
    result = train(model(), tr, va, TrainingConfig(lr=0.0, max_epochs=10, patience=2, batch_size=8),
                   num_classes=3)
    assert result.best_epoch == 1
    assert result.epochs_run == 3
    assert result.stopped_early
    assert [r["epoch"] for r in result.curve] == [1, 2, 3]
    assert set(result.curve[0]) == {"epoch", "train_loss", "valid_loss", "valid_ua", "seconds"}


def test_min_epochs_delays_stopping_and_no_valid_runs_all_epochs():
    tr, va, _ = splits()
    config = TrainingConfig(lr=0.0, max_epochs=6, patience=1, min_epochs=5, batch_size=8)
    assert train(model(), tr, va, config, num_classes=3).epochs_run == 5
    result = train(model(), tr, None, TrainingConfig(max_epochs=3, batch_size=8), num_classes=3)
    assert result.epochs_run == 3 and result.best_epoch == 3 and not result.stopped_early
    assert result.curve[-1]["valid_ua"] is None


def test_training_learns_the_toy_problem():
    tr, va, te = splits()
    net = model()
    result = train(net, tr, va, TrainingConfig(lr=0.05, max_epochs=15, patience=15, batch_size=8),
                   num_classes=3)
    assert result.curve[-1]["train_loss"] < result.curve[0]["train_loss"]
    batch = collate([te[i] for i in range(len(te))], "frames")
    with torch.no_grad():
        pred = net.eval()(batch).argmax(-1).numpy()
    assert unweighted_accuracy(batch.targets["emotion"].numpy(), pred) > 0.6


def test_cpu_run_repeats_exactly():
    from serbench.training.seeding import seed_everything

    def once():
        tr, va, _ = splits()
        seed_everything(3)
        net = DummyModel(InputSpec(feature_dim=4, num_classes=3), hidden=8)
        res = train(net, tr, va, TrainingConfig(lr=0.05, max_epochs=3, batch_size=4), num_classes=3, seed=3)
        return [(r["train_loss"], r["valid_loss"]) for r in res.curve], net.state_dict()

    (c1, s1), (c2, s2) = once(), once()
    assert c1 == c2
    assert all(torch.equal(s1[k], s2[k]) for k in s1)


def test_class_weights_are_inverse_frequency():
    w = class_weights(np.array([0, 0, 0, 1, -100]), 3)
    assert w.tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])


def test_class_weighting_changes_the_emotion_loss():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    batch = Batch(x=torch.zeros(3, 1), lengths=torch.ones(3, dtype=torch.long),
                  mask=torch.ones(3, 1, dtype=torch.bool),
                  targets={"emotion": torch.tensor([0, 1, 1])})
    weight = torch.tensor([3.0, 0.5])
    loss = MultiTaskLoss({}, emotion_weight=weight)({"emotion": logits}, batch)
    expected = F.cross_entropy(logits, batch.targets["emotion"], weight=weight)
    torch.testing.assert_close(loss, expected)
    assert not torch.isclose(loss, F.cross_entropy(logits, batch.targets["emotion"]))


def test_multitask_loss_weights_tasks_and_ignores_unknown_targets():
    torch.manual_seed(0)
    out = {"emotion": torch.randn(4, 3), "gender": torch.randn(4, 2)}
    targets = {"emotion": torch.tensor([0, 1, 2, 0]), "gender": torch.tensor([1, -100, 0, -100])}
    batch = Batch(x=torch.zeros(4, 1), lengths=torch.ones(4, dtype=torch.long),
                  mask=torch.ones(4, 1, dtype=torch.bool), targets=targets)
    loss = MultiTaskLoss({"emotion": 1.0, "gender": 0.3})(out, batch)
    expected = F.cross_entropy(out["emotion"], targets["emotion"]) + 0.3 * F.cross_entropy(
        out["gender"][[0, 2]], torch.tensor([1, 0]))
    torch.testing.assert_close(loss, expected)
    # A batch where every auxiliary target is unknown contributes only the emotion loss.
    batch.targets["gender"] = torch.full((4,), -100)
    torch.testing.assert_close(MultiTaskLoss({"gender": 0.3})(out, batch),
                               F.cross_entropy(out["emotion"], targets["emotion"]))
    with pytest.raises(ConfigError, match="no loss weight"):
        MultiTaskLoss({})(out, batch)


def test_multitask_model_trains_with_auxiliary_head():
    tr, va, _ = splits()
    tr.targets["gender"] = np.arange(len(tr)) % 2
    va.targets["gender"] = np.full(len(va), -100)
    torch.manual_seed(0)
    net = DummyModel(InputSpec(feature_dim=4, num_classes=3, tasks={"emotion": 3, "gender": 2}))
    result = train(net, tr, va, TrainingConfig(max_epochs=2, batch_size=8), num_classes=3,
                   task_weights={"emotion": 1.0, "gender": 0.5})
    assert result.epochs_run == 2
    assert all(np.isfinite(r["valid_loss"]) for r in result.curve)


def test_callbacks_get_metrics_and_can_stop_training():
    import optuna

    tr, va, _ = splits()
    seen = []

    def prune(epoch, metrics):
        seen.append((epoch, metrics["valid_ua"]))
        if epoch == 2:
            raise optuna.TrialPruned()

    with pytest.raises(optuna.TrialPruned):
        train(model(), tr, va, TrainingConfig(max_epochs=5, batch_size=8), num_classes=3, callbacks=[prune])
    assert [e for e, _ in seen] == [1, 2]
    assert all(0.0 <= ua <= 1.0 for _, ua in seen)


def test_gradient_clipping_bounds_the_update():
    tr, _, _ = splits()
    net = model()
    before = [p.detach().clone() for p in net.parameters()]
    # One SGD step of lr 1 with clip 1e-3: no parameter moves further than the clip norm.
    train(net, tr, None, TrainingConfig(lr=1.0, optimizer="sgd", momentum=0.0, batch_size=len(tr),
                                        max_epochs=1, grad_clip=1e-3), num_classes=3)
    moved = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(net.parameters(), before, strict=True)))
    assert 0 < float(moved) <= 1e-3 + 1e-6


def test_progress_bar_gets_an_epoch_task_and_removes_it():
    from rich.progress import Progress

    tr, va, _ = splits()
    with Progress(disable=True) as progress:
        train(model(), tr, va, TrainingConfig(max_epochs=2, batch_size=8), num_classes=3, progress=progress)
        assert progress.tasks == []


def test_unknown_optimizer():
    tr, _, _ = splits()
    with pytest.raises(ConfigError, match="optimizer"):
        train(model(), tr, None, TrainingConfig(optimizer="rmsprop"), num_classes=3)  # type: ignore[arg-type]
