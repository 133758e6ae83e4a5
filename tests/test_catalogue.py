"""``serbench models``: the catalogue lists every model and its variants without torch,
and a model's card counts parameters as a hand computation does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from serbench.catalogue import model_card, model_listing
from serbench.cli import cli
from serbench.errors import ConfigError
from serbench.plugins import get_registry


def test_listing_names_every_model_and_its_variants():
    registry = get_registry()
    rows = {row["name"]: row for row in model_listing(registry)}
    assert set(rows) == set(registry.names("model"))
    assert {"ar_gru_i", "ar_gru_v", "iaan", "r_gru"} <= set(rows["ar_gru"]["variants"])
    assert rows["ar_gru"]["default_variant"] == "ar_gru_v"


def test_the_listing_does_not_import_torch():
    code = ("import sys; from serbench.cli import main\n"
            "try:\n    main(['models', '--json'])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "NO-TORCH" in done.stderr
    assert any(row["name"] == "svm" for row in json.loads(done.stdout))


def test_card_counts_bilstm_att_parameters_by_hand():
    # BiLSTM (D=10, H=128, one layer, both directions) + attention vector u (2H, no
    # bias) + output layer (2H -> C=4).
    D, H, C = 10, 128, 4
    lstm = 2 * (4 * H * D + 4 * H * H + 2 * 4 * H)
    expected = lstm + 2 * H + (2 * H * C + C)
    card = model_card(get_registry(), "bilstm_att", input_dim=D, num_classes=C)
    counts = {c["configuration"]: c["count"] for c in card["parameters"]["counts"]}
    assert counts["bilstm_att"] == expected
    assert card["parameters"]["input_dim"] == D


def test_card_uses_the_preferred_feature_dimension_and_shows_the_paper_protocol():
    card = model_card(get_registry(), "ar_gru")
    assert card["parameters"]["feature"] == "iaan45"
    assert card["parameters"]["input_dim"] == 45
    assert card["preferred"]["protocol"] == "loso"
    assert set(card["variants"]) >= {"iaan", "ar_gru_v"}
    assert card["search_space"]  # declared by the plugin
    assert card["readme"].endswith("plugins/ar_gru/README.md")


def test_sklearn_models_say_why_they_have_no_count():
    card = model_card(get_registry(), "svm", input_dim=88)
    (only,) = card["parameters"]["counts"]
    assert only["count"] is None and "scikit-learn" in only["note"]


def test_unknown_model_suggests_the_close_name():
    with pytest.raises(ConfigError, match="Did you mean 'ar_gru'"):
        model_card(get_registry(), "ar-gru")


def test_cli_card_lists_the_variants():
    result = CliRunner().invoke(cli, ["models", "ar_gru"])
    assert result.exit_code == 0, result.output
    for variant in ("iaan", "r_gru", "ar_gru_i", "ar_gru_v (default)"):
        assert variant in result.output
    assert "search space" in result.output


def test_card_says_what_an_undeclared_normalisation_becomes(capsys):
    from serbench.cli.models_cmd import _print_card

    card = model_card(get_registry(), "svm", with_parameters=False)
    _print_card(card)
    assert "normalisation not declared" not in capsys.readouterr().out  # svm prefers speaker
    card["preferred"] = {k: v for k, v in card["preferred"].items() if k != "normalisation"}
    _print_card(card)
    assert "normalisation not declared: a run uses speaker where the corpus has" in \
        capsys.readouterr().out
