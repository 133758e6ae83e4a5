"""Metrics against hand-computed values; aggregation over folds."""

from __future__ import annotations

import numpy as np
import pytest

from serbench.errors import ConfigError, UnknownComponentError
from serbench.metrics import plugin as builtin_metrics
from serbench.metrics.api import aggregate, compute_metrics
from serbench.plugins import Registry, make_plugin_manager

CLASSES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(make_plugin_manager(load_entry_points=False,
                                        extra_plugins=[("metrics", builtin_metrics)]))


def test_hand_computed_values(registry):
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    m = compute_metrics(y_true, y_pred, CLASSES, registry=registry)
    assert list(m) == ["ua", "wa", "macro_f1", "macro_precision", "per_class_recall",
                       "confusion"]
    # recalls 2/3, 1/2, 1
    assert m["ua"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert m["wa"] == pytest.approx(4 / 6)
    # precisions 1, 1/2, 1/2
    assert m["macro_precision"] == pytest.approx(2 / 3)
    # F1: 0.8, 0.5, 2/3
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["per_class_recall"] == pytest.approx({"a": 2 / 3, "b": 0.5, "c": 1.0})
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_class_absent_from_test_set(registry):
    y_true = [0, 0, 1, 1]
    y_pred = [0, 1, 1, 2]
    m = compute_metrics(y_true, y_pred, CLASSES, registry=registry)
    # recalls a 1/2, b 1/2; class c is not in y_true, so not (1/2 + 1/2 + 0) / 3
    assert m["ua"] == pytest.approx(0.5)
    assert m["per_class_recall"]["c"] is None
    # predicting the absent class costs precision: 1, 1/2, 0
    assert m["macro_precision"] == pytest.approx(0.5)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert m["confusion"][2] == [0, 0, 0]


def test_ua_differs_from_wa_on_imbalanced_data(registry):
    y_true = [0] * 8 + [1] * 2
    y_pred = [0] * 10
    m = compute_metrics(y_true, y_pred, ["x", "y"], names=["ua", "wa"], registry=registry)
    assert m == {"ua": pytest.approx(0.5), "wa": pytest.approx(0.8)}


def test_bad_inputs(registry):
    with pytest.raises(ConfigError, match="outside"):
        compute_metrics([0, 3], [0, 1], CLASSES, registry=registry)
    with pytest.raises(ConfigError, match="y_pred has 1"):
        compute_metrics([0, 1], [0], CLASSES, registry=registry)
    with pytest.raises(ConfigError, match="zero utterances"):
        compute_metrics([], [], CLASSES, registry=registry)
    with pytest.raises(ConfigError, match="integer class indices"):
        compute_metrics([0.5], [0], CLASSES, registry=registry)
    with pytest.raises(ConfigError, match="scores must have shape"):
        compute_metrics([0], [0], CLASSES, scores=np.zeros((1, 2)), registry=registry)
    with pytest.raises(UnknownComponentError, match="Did you mean 'ua'"):
        compute_metrics([0], [0], CLASSES, names=["uar"], registry=registry)


def test_aggregate_mean_std_and_pooled(registry):
    fold1 = ([0, 0, 1, 1], [0, 1, 1, 1])  # recalls 1/2, 1   -> ua 0.75
    fold2 = ([0, 1, 2, 2], [0, 0, 2, 1])  # recalls 1, 0, 1/2 -> ua 0.5
    per_fold = [compute_metrics(t, p, CLASSES, registry=registry) for t, p in (fold1, fold2)]
    y_true = fold1[0] + fold2[0]
    y_pred = fold1[1] + fold2[1]
    agg = aggregate(per_fold, y_true, y_pred, CLASSES, registry=registry)
    assert agg["mean"]["ua"] == pytest.approx(0.625)
    assert agg["std"]["ua"] == pytest.approx(np.std([0.75, 0.5], ddof=1))
    assert agg["mean"]["wa"] == pytest.approx((0.75 + 0.5) / 2)
    # class c is only in fold 2: its mean recall is fold 2's
    assert agg["mean"]["per_class_recall"]["c"] == pytest.approx(0.5)
    assert agg["std"]["per_class_recall"]["c"] == 0.0
    assert agg["mean"]["per_class_recall"]["a"] == pytest.approx(0.75)
    assert "confusion" not in agg["mean"]
    # pooled over all eight utterances: recalls a 2/3, b 2/3, c 1/2
    assert agg["pooled"]["ua"] == pytest.approx((2 / 3 + 2 / 3 + 0.5) / 3)
    assert agg["pooled"]["wa"] == pytest.approx(5 / 8)
    summed = np.add(per_fold[0]["confusion"], per_fold[1]["confusion"]).tolist()
    assert agg["pooled"]["confusion"] == summed


def test_aggregate_single_fold_has_zero_std(registry):
    m = compute_metrics([0, 1], [0, 1], ["x", "y"], registry=registry)
    agg = aggregate([m], [0, 1], [0, 1], ["x", "y"], registry=registry)
    assert agg["std"]["ua"] == 0.0 and agg["mean"]["ua"] == 1.0
    with pytest.raises(ConfigError):
        aggregate([], [0], [0], ["x"], registry=registry)
