"""Registration: metadata, variants = Table 1 columns x Tables 2-3 rows, paper rows."""

from __future__ import annotations

import sys

from serbench.plugins import Registry, make_plugin_manager


def _spec():
    return Registry(make_plugin_manager()).model("dense_lstm")


def test_registered_with_valid_metadata() -> None:
    spec = _spec()
    assert spec.validate() == []
    assert spec.citation and "Xie" in spec.citation
    assert spec.default_feature == "compare_lld"
    assert spec.preferred["label_map"] == "5class"


def test_variants_cover_both_table1_columns() -> None:
    spec = _spec()
    for mode in ("lstm", "general", "time", "feature"):
        assert spec.variants[mode]["mode"] == mode
        assert spec.variants[mode]["cells"] == [256, 256]
        assert spec.variants[mode]["batch_size"] == 64
        assert spec.variants[f"{mode}_enterface"]["cells"] == [512, 256]
        assert spec.variants[f"{mode}_enterface"]["batch_size"] == 128
    for variant in spec.variants.values():
        assert variant["betas"] == [0.9, 0.7]  # Adam beta2 = 0.7
        assert variant["weight_decay"] == 1e-4


def test_every_paper_row_names_a_variant_and_known_metrics() -> None:
    from serbench.reproduce.table import ALIASES

    spec = _spec()
    assert len(spec.paper_results) == 8
    for row in spec.paper_results:
        assert row.variant in spec.variants
        for key in row.metrics:
            assert key in ALIASES or key.startswith("recall_")
        recalls = [v for k, v in row.metrics.items() if k.startswith("recall_")]
        # the paper's UAR is the mean of its per-class recalls (to its rounding)
        assert abs(sum(recalls) / len(recalls) - row.metrics["ua"]) < 0.015


def test_search_space_is_declarative() -> None:
    from serbench.lazy import resolve

    space = resolve(_spec().search_space)()
    assert {"cells", "lr", "weight_decay"} <= set(space)


def test_registration_does_not_import_torch() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from serbench.plugins import Registry, make_plugin_manager\n"
        "Registry(make_plugin_manager()).model('dense_lstm')\n"
        "assert 'torch' not in sys.modules, 'listing imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
