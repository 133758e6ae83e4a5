"""run_fold end to end on toy features: torch and scikit-learn models, timing, errors."""

import numpy as np
import polars as pl
import pytest
import torch
from _training_helpers import CLASSES, toy_problem

from serbench.components import ModelSpec
from serbench.data.batch import InputSpec
from serbench.errors import ConfigError
from serbench.models.bilstm_att import build as build_bilstm
from serbench.plugins import get_registry
from serbench.testing.dummy import DummyModel
from serbench.training.checkpoint import load_checkpoint
from serbench.training.fold import FoldOutcome, run_fold

torch.set_num_threads(1)

TIMING_KEYS = {
    "train_seconds", "train_seconds_per_epoch", "inference_latency_ms", "throughput_utt_per_s",
    "n_parameters", "peak_memory_mb", "peak_memory_kind", "clock", "device", "device_name",
}
#: torch folds also say their precision and the share of training spent waiting for data
TORCH_TIMING_KEYS = TIMING_KEYS | {"precision", "data_wait_share"}


def spec(**kw):
    base = dict(name="dummy", version=1, description="d", builder="serbench.testing.dummy:build",
                defaults={"hidden": 8})
    base.update(kw)
    return ModelSpec(**base)


HP = {"hidden": 8, "lr": 0.05, "batch_size": 8, "max_epochs": 4, "patience": 4}


def test_bilstm_att_fold_outcome_and_timing(tmp_path):
    manifest, fold, table = toy_problem()
    model = get_registry().model("bilstm_att")
    hp = {**model.defaults, "hidden": 6, "max_epochs": 3, "batch_size": 8}
    out = run_fold(model, hp, fold, manifest, table, CLASSES, seed=0, device="cpu",
                   checkpoint=tmp_path / "model_f0.pt")
    assert isinstance(out, FoldOutcome)
    assert out.utt_ids == list(fold.test)
    assert out.scores.shape == (len(fold.test), 3)
    np.testing.assert_allclose(out.scores.sum(1), 1.0, rtol=1e-5)
    assert (out.y_pred == out.scores.argmax(1)).all()
    assert out.y_true.tolist() == [CLASSES.index(x) for x in
                                   manifest.filter(pl.col("utt_id").is_in(fold.test))["label"]]
    assert out.epochs_run == 3 and len(out.curve) == 3 and 1 <= out.best_epoch <= 3
    assert set(out.timing) == TORCH_TIMING_KEYS
    t = out.timing
    assert t["clock"] == "cpu_monotonic" and t["peak_memory_kind"] == "process_rss"
    assert t["precision"] == "fp32" and 0.0 < t["data_wait_share"] < 1.0
    assert t["inference_latency_ms"] > 0 and t["throughput_utt_per_s"] > 0
    net = build_bilstm(InputSpec(feature_dim=4, num_classes=3), hp)
    assert t["n_parameters"] == sum(p.numel() for p in net.parameters())
    assert t["train_seconds"] == pytest.approx(sum(r["seconds"] for r in out.curve))
    assert 0.0 <= out.padded_share < 1.0
    state, meta = load_checkpoint(tmp_path / "model_f0.pt")
    assert meta["model"] == "bilstm_att" and meta["hparams"]["hidden"] == 6
    assert set(state) == set(net.state_dict())  # a plain state dict, safe to load
    assert out.to_dict()["scores"][0] == pytest.approx(out.scores[0].tolist())


def test_same_seed_same_fold_result():
    manifest, fold, table = toy_problem()

    def once(seed):
        out = run_fold(spec(), HP, fold, manifest, table, CLASSES, seed=seed, device="cpu")
        return out.scores, [(r["train_loss"], r["valid_ua"]) for r in out.curve]

    s1, c1 = once(0)
    s2, c2 = once(0)
    s3, _ = once(1)
    assert np.array_equal(s1, s2) and c1 == c2
    assert not np.array_equal(s1, s3)


def test_test_utterances_are_predicted_only_after_training():
    manifest, fold, table = toy_problem()
    seen = []  # (phase, utt_ids) of every forward call
    phase = {"now": "training"}

    class Spy(DummyModel):
        def forward(self, batch):
            seen.append((phase["now"], set(batch.utt_ids)))
            return super().forward(batch)

    def build(input_spec, hparams):
        return Spy(input_spec, hidden=4)

    def after_epoch(epoch, metrics):
        if epoch == HP["max_epochs"]:
            phase["now"] = "after"

    run_fold(spec(builder=build), HP, fold, manifest, table, CLASSES, seed=0, device="cpu",
             callbacks=[after_epoch])
    test = set(fold.test)
    assert all(not (ids & test) for when, ids in seen if when == "training")
    assert any(ids & test for when, ids in seen if when == "after")


def test_auxiliary_task_from_manifest_column():
    manifest, fold, table = toy_problem()
    built = {}

    def build(input_spec, hparams):
        built["tasks"] = dict(input_spec.tasks)
        return DummyModel(input_spec, hidden=4)

    out = run_fold(spec(builder=build, task_weights={"emotion": 1.0, "gender": 0.5}), HP, fold,
                   manifest, table, CLASSES, seed=0, device="cpu")
    assert built["tasks"] == {"emotion": 3, "gender": 2}
    assert out.scores.shape == (len(fold.test), 3)
    with pytest.raises(ConfigError, match="auxiliary task"):
        run_fold(spec(task_weights={"emotion": 1.0, "session": 1.0}), HP, fold, manifest, table,
                 CLASSES, seed=0, device="cpu")


def test_context_model_needs_dialogue_columns_unless_allowed():
    manifest, fold, table = toy_problem()
    ctx_spec = spec(inputs=("context",))
    with pytest.raises(ConfigError, match="allow_empty_context"):
        run_fold(ctx_spec, HP, fold, manifest, table, CLASSES, seed=0, device="cpu")
    seen = {}

    def build(input_spec, hparams):
        class Ctx(DummyModel):
            def forward(self, batch):
                seen["present"] = batch.extras["prev_self_present"]
                return super().forward(batch)
        return Ctx(input_spec, hidden=4)

    run_fold(spec(builder=build, inputs=("context",)), {**HP, "max_epochs": 1, "allow_empty_context": True},
             fold, manifest, table, CLASSES, seed=0, device="cpu")
    assert not bool(seen["present"].any())


def test_svm_fold_uses_functionals_and_decision_scores():
    manifest, fold, table = toy_problem(level="functionals", separation=3.0)
    model = get_registry().model("svm")
    out = run_fold(model, model.defaults, fold, manifest, table, CLASSES, seed=0, device="cpu")
    assert out.scores.shape == (len(fold.test), 3)
    assert (out.y_pred == out.scores.argmax(1)).all()
    assert (out.y_pred == out.y_true).mean() > 0.7
    assert out.best_epoch is None and out.curve == []
    assert set(out.timing) == TIMING_KEYS and out.timing["n_parameters"] > 0


def test_svm_fits_on_train_and_valid_unless_asked_not_to():
    manifest, fold, table = toy_problem(level="functionals", separation=3.0)
    model = get_registry().model("svm")
    joined = run_fold(model, model.defaults, fold, manifest, table, CLASSES, seed=0, device="cpu")
    assert joined.n_train == len(fold.train) + len(fold.valid) and joined.n_valid == 0
    assert joined.valid_utt_ids == []  # in-sample scores would mislead score fusion
    apart = run_fold(model, {**model.defaults, "fit_on_valid": False}, fold, manifest, table,
                     CLASSES, seed=0, device="cpu")
    assert apart.n_train == len(fold.train) and apart.valid_utt_ids == list(fold.valid)
    assert apart.valid_scores.shape == (len(fold.valid), 3)


def test_level_mismatch_and_bad_folds_stop_before_training():
    manifest, fold, table = toy_problem(level="functionals")
    with pytest.raises(ConfigError, match="reads frames"):
        run_fold(get_registry().model("bilstm_att"), {}, fold, manifest, table, CLASSES, seed=0, device="cpu")
    from serbench.protocols.base import Fold

    empty = Fold("x", fold.train, fold.valid, ())
    with pytest.raises(ConfigError, match="no test"):
        run_fold(get_registry().model("svm"), {}, empty, manifest, table, CLASSES, seed=0, device="cpu")
    with pytest.raises(ConfigError, match="outside the classes"):
        run_fold(get_registry().model("svm"), {}, fold, manifest, table, ["a", "b"], seed=0, device="cpu")


def test_tokens_model_gets_a_training_fold_vocabulary():
    manifest, fold, table = toy_problem()
    words = ["calm", "loud", "sad"]
    manifest = manifest.with_columns(
        pl.Series("transcript", [f"{words[i % 3]} words {'novel' if i >= 50 else ''}"
                                 for i in range(manifest.height)]))
    seen = {}

    def build(input_spec, hparams):
        seen["vocab_size"] = input_spec.vocab_size

        class Tok(DummyModel):
            def forward(self, batch):
                seen.setdefault("tokens", []).append((batch.utt_ids, batch.extras["tokens"]))
                return super().forward(batch)
        return Tok(input_spec, hidden=4)

    run_fold(spec(builder=build, inputs=("tokens",)), {**HP, "max_epochs": 1}, fold, manifest,
             table, CLASSES, seed=0, device="cpu")
    assert seen["vocab_size"] == 2 + 4  # <pad>, <unk>, calm, loud, sad, words
    test_rows = [t for ids, t in seen["tokens"] if set(ids) <= set(fold.test)]
    assert test_rows and all(int(t.max()) < 6 for t in test_rows)
    assert any((t == 1).any() for t in test_rows)  # 'novel' only occurs in test: unknown
    with pytest.raises(ConfigError, match="transcript"):
        run_fold(spec(inputs=("tokens",)), HP, fold, toy_problem()[0], table, CLASSES, seed=0, device="cpu")
