"""``serbench reproduce``: which runs it plans and how it lines them up with the paper."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from serbench.components import ModelSpec, PaperResult
from serbench.errors import ConfigError
from serbench.plugins import get_registry
from serbench.run.reproduce import comparison_table, measured, plan_runs

SPEC = ModelSpec(
    name="toy_paper", version=1, description="A paper model for tests.",
    builder="serbench.models.bilstm_att:build",
    variants={"full": {}, "no_att": {"attention": False}}, default_variant="full",
    paper_results=(
        PaperResult("full", "IEMOCAP", {"ua": 62.1, "wa": 61.0, "MAF": 60.5}),
        PaperResult("no_att", "IEMOCAP", {"ua": 0.58, "wa": 0.57}),
        PaperResult("bilstm_att", "IEMOCAP", {"ua": 58.8}, label="Mirsamadi 2017"),
        PaperResult("not_a_model", "IEMOCAP", {"ua": 50.0}),
    ),
)


def fake_record(ua: float) -> dict:
    per_class = {"angry": 0.5, "sad": 0.7}
    return {
        "corpus": {"name": "synthetic", "label_map": "4class", "classes": list(per_class)},
        "protocol": {"name": "loso-speaker", "n_folds": 4},
        "aggregate": {"mean": {"ua": ua, "wa": ua + 0.01, "macro_f1": ua - 0.01,
                               "per_class_recall": per_class}},
    }


def test_plans_every_variant_and_registered_baselines():
    plans = plan_runs(SPEC, get_registry())
    assert [(p.model, p.variant) for p in plans] == [
        ("toy_paper", "full"), ("toy_paper", "no_att"), ("bilstm_att", None)]
    # without a default variant, the model's defaults are a row of their own
    no_default = plan_runs(ModelSpec(**{**SPEC.__dict__, "default_variant": None}),
                           get_registry())
    assert [p.label for p in no_default][:3] == ["toy_paper", "full", "no_att"]
    assert [len(p.paper) for p in plans] == [1, 1, 1]
    assert [p.label for p in plan_runs(SPEC, get_registry(), ["no_att"])] == ["no_att"]
    with pytest.raises(ConfigError, match="not a variant.*full, no_att, bilstm_att"):
        plan_runs(SPEC, get_registry(), ["nope"])


def test_measured_metric_aliases():
    record = fake_record(0.6)
    assert measured(record, "UA") == 0.6 and measured(record, "MAF") == pytest.approx(0.59)
    assert measured(record, "recall_sad") == 0.7 and measured(record, "angry") == 0.5
    assert measured(record, "unknown") is None


def test_table_puts_paper_beside_measured_and_names_corpora():
    plans = plan_runs(SPEC, get_registry())
    records = {"full": fake_record(0.6), "no_att": fake_record(0.55)}
    out = io.StringIO()
    Console(file=out, width=250).print(comparison_table(SPEC, plans, records))
    text = out.getvalue()
    flat = " ".join(text.split())
    assert "on synthetic (4class, loso-speaker, 4 folds)" in flat and "IEMOCAP" in text
    assert "UA % paper" in text and "UA % synthetic" in text
    full = next(line for line in text.splitlines() if "full" in line)
    # paper UA 62.10 beside ours 60.00, paper WA 61.00 beside ours 61.00, MAF 60.50 / 59.00
    assert "62.10" in full and "60.00" in full and "60.50" in full and "59.00" in full
    no_att = next(line for line in text.splitlines() if "no_att" in line)
    assert "58.00" in no_att and "55.00" in no_att  # fractions in the paper shown as %
    baseline = next(line for line in text.splitlines() if "Mirsamadi" in line)
    assert "58.80" in baseline and "not run" in baseline
