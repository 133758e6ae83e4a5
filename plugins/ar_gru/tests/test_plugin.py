"""The ar_gru registration: entry point, metadata, Table 1 variants, search space, grid."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _ar_gru_registry import isolated_registry

TABLE_1 = {  # variant -> (activation, alpha, beta, alpha_floor) as in the paper's Table 1
    "iaan": ("tanh", None, None, None),
    "r_gru": ("relu", None, None, None),
    "ar_gru_i": ("arelu", 0.9, 2.0, 0.01),
    "ar_gru_ii": ("arelu", 0.0, 2.0, 0.0),
    "ar_gru_iii": ("arelu", 0.01, -4.0, 0.01),
    "ar_gru_iv": ("arelu", 0.01, 2.0, 0.01),
    "ar_gru_v": ("arelu", 0.01, 1.0, 0.01),
}


@pytest.fixture(scope="module")
def registered():
    return isolated_registry().lookup("model", "ar_gru")


def test_registered_through_the_entry_point(registered) -> None:
    assert registered.distribution == "serbench-ar-gru"
    assert registered.plugin == "ar_gru"
    assert registered.spec.validate() == []


def test_listing_plugins_does_not_import_torch() -> None:
    code = (
        "import sys; from serbench.plugins import Registry, make_plugin_manager; "
        "Registry(make_plugin_manager()).model('ar_gru'); "
        "import serbench_ar_gru.activations; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_variants_are_table_1(registered) -> None:
    spec = registered.spec
    assert spec.default_variant == "ar_gru_v"
    assert set(spec.variants) == set(TABLE_1)
    for name, (activation, alpha, beta, floor) in TABLE_1.items():
        hp = {**spec.defaults, **spec.variants[name]}
        assert hp["activation"] == activation, name
        if activation == "arelu":
            assert (hp["alpha"], hp["beta"], hp["alpha_floor"]) == (alpha, beta, floor), name
    # the defaults alone are the proposed model
    assert {k: spec.defaults[k] for k in spec.variants["ar_gru_v"]} == spec.variants["ar_gru_v"]


def test_paper_results_cover_every_variant_and_the_baseline(registered) -> None:
    spec = registered.spec
    rows = {r.variant: r for r in spec.paper_results}
    assert set(rows) == set(TABLE_1) | {"bilstm_att", "mdnn"}
    assert rows["mdnn"].metrics == {"ua": 62.7, "wa": 61.8}  # shown, not run
    assert rows["mdnn"].note.startswith("not implemented")
    assert rows["ar_gru_v"].metrics == {"ua": 68.3, "wa": 66.9}
    assert rows["iaan"].metrics == {"ua": 66.3, "wa": 64.7}
    assert rows["bilstm_att"].metrics == {"ua": 58.8, "wa": 63.5}
    assert all(r.corpus == "iemocap" for r in spec.paper_results)


def test_paper_protocol_and_training_defaults(registered) -> None:
    spec = registered.spec
    assert spec.inputs == ("context",)
    assert spec.default_feature == "iaan45"
    assert {k: spec.preferred[k] for k in ("feature", "label_map", "protocol", "normalisation")} == {
        "feature": "iaan45", "label_map": "4class", "protocol": "loso", "normalisation": "speaker"}
    assert spec.defaults["label_smoothing"] == 0.1
    assert spec.defaults["lr"] == 1e-4 and spec.defaults["optimizer"] == "adam"
    assert spec.defaults["bidirectional"] is True


def _holds(distribution: object, value: float) -> bool:
    """Whether an Optuna distribution can propose ``value`` (``_contains`` takes the
    internal representation: a categorical's index, not its choice)."""
    from optuna.distributions import CategoricalDistribution

    if isinstance(distribution, CategoricalDistribution):
        return value in distribution.choices
    return distribution.low <= value <= distribution.high  # type: ignore[attr-defined]


def test_search_space_is_declarative_optuna(registered) -> None:
    from optuna.distributions import BaseDistribution
    from serbench.lazy import resolve

    space = resolve(registered.spec.search_space)()
    assert set(space) == {"alpha", "alpha_floor", "beta", "hidden_size", "lr", "dropout"}
    assert all(isinstance(d, BaseDistribution) for d in space.values())
    # every AReLU setting of Table 1 (variant II's alpha 0 and floor 0 included)
    for variant, (activation, alpha, beta, floor) in TABLE_1.items():
        if activation == "arelu":
            assert _holds(space["alpha"], alpha), variant
            assert _holds(space["beta"], beta), variant
            assert _holds(space["alpha_floor"], floor), variant
    # every value of the alpha x beta grid lies inside the search space
    grid = registered.spec.grids["alpha_beta"]
    assert set(grid) == {"alpha", "beta"}
    for name, values in grid.items():
        assert all(_holds(space[name], v) for v in values), name
    # Table 1's values are in the grid
    assert {0.01, 0.9} <= set(grid["alpha"]) and {-4.0, 1.0, 2.0} <= set(grid["beta"])

