"""``serbench reproduce``: its plan, its table, and every paper row of every plugin in it."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from serbench.components import ModelSpec, PaperResult
from serbench.errors import ConfigError
from serbench.plugins import get_registry
from serbench.reproduce.plan import plan_runs
from serbench.reproduce.splits import check_one_split
from serbench.reproduce.table import comparison_table, measured, table_metrics, table_rows

SPEC = ModelSpec(
    name="toy_paper", version=1, description="A paper model for tests.",
    builder="serbench.models.bilstm_att:build",
    variants={"full": {}, "no_att": {"attention": False}}, default_variant="full",
    paper_results=(
        PaperResult("full", "IEMOCAP", {"ua": 62.1, "wa": 61.0, "MAF": 60.5}),
        PaperResult("no_att", "IEMOCAP", {"ua": 0.58, "wa": 0.57}),
        PaperResult("bilstm_att", "IEMOCAP", {"ua": 58.8}, label="Mirsamadi 2017"),
        PaperResult("full", "RID", {"ua": 90.2}, label="RID column", corpus_public=False),
        PaperResult("full+bilstm_att", "IEMOCAP", {"ua": 64.0}, label="fusion"),
        PaperResult("mdnn", "IEMOCAP", {"ua": 62.7}, label="MDNN",
                    note="not implemented: too thin"),
        PaperResult("not_a_model", "IEMOCAP", {"ua": 50.0}),
    ),
)


def fake_record(ua: float, seed: int = 0, split: str = "abc") -> dict:
    per_class = {"angry": 0.5, "sad": 0.7}
    fold = {"name": "f1", "epochs_run": 3, "best_epoch": 2}
    return {
        "corpus": {"name": "synthetic", "label_map": "4class", "classes": list(per_class)},
        "protocol": {"name": "loso-speaker", "n_folds": 4, "split_hash": split},
        "feature": {"name": "lld17", "normalisation": "speaker"},
        "training": {"seed": seed, "config": {"max_epochs": 5}},
        "timing": {"n_parameters": 9_110_000},
        "folds": [fold],
        "aggregate": {"mean": {"ua": ua, "wa": ua + 0.01, "macro_f1": ua - 0.01,
                               "per_class_recall": per_class}},
    }


def test_plan_runs_variants_comparisons_fusions_and_keeps_absent_rows():
    plan = plan_runs(SPEC, get_registry())
    assert [(p.model, p.variant) for p in plan.runs] == [
        ("toy_paper", "full"), ("toy_paper", "no_att"), ("bilstm_att", None)]
    assert [len(p.paper) for p in plan.runs] == [2, 1, 1]  # full: IEMOCAP and RID rows
    assert [(f.model, f.label) for f in plan.fusions] == [("fusion", "full+bilstm_att")]
    absent = {p.label: p for p in plan.absent}
    assert set(absent) == {"mdnn", "not_a_model"} and absent["mdnn"].model is None
    assert "too thin" in absent["mdnn"].note and "no serbench model" in absent["not_a_model"].note
    # without a default variant, the model's defaults are a row of their own
    no_default = plan_runs(ModelSpec(**{**SPEC.__dict__, "default_variant": None}),
                           get_registry())
    assert [p.label for p in no_default.runs][:3] == ["toy_paper", "full", "no_att"]
    only = plan_runs(SPEC, get_registry(), ["no_att"])
    assert [p.label for p in only.runs] == ["no_att"] and not only.fusions and not only.absent


def test_unknown_variant_is_refused_with_the_list():
    with pytest.raises(ConfigError, match="nope.*choose among full, no_att, bilstm_att"):
        plan_runs(SPEC, get_registry(), ["nope"])


def test_measured_metric_aliases():
    record = fake_record(0.6)
    assert measured(record, "UA") == 0.6 and measured(record, "MAF") == pytest.approx(0.59)
    assert measured(record, "recall_sad") == 0.7 and measured(record, "angry") == 0.5
    assert measured(record, "unknown") is None


def test_rows_differing_in_split_are_refused_naming_rows_and_hashes():
    assert check_one_split({"full": fake_record(0.6), "xia": fake_record(0.5)}) == "abc"
    with pytest.raises(ConfigError, match=r"not run on one split \(full: abc; xia: d073\)"):
        check_one_split({"full": fake_record(0.6), "xia": fake_record(0.5, split="d073")})
    missing = fake_record(0.5)
    del missing["protocol"]["split_hash"]
    with pytest.raises(ConfigError, match="xia: no split hash"):
        check_one_split({"full": fake_record(0.6), "xia": missing})


def test_table_lines_carry_paper_measured_and_what_to_judge_them_by():
    plan = plan_runs(SPEC, get_registry())
    records = {"full": [fake_record(0.6, 0), fake_record(0.64, 1)],
               "no_att": [fake_record(0.55)]}
    metrics = table_metrics(plan)
    assert metrics == ["ua", "wa", "MAF"]
    lines = {row[0]: row for row in table_rows(plan, records, metrics, {"no_att": "own"})}
    full = lines["full"]
    # paper 62.10 beside ours 62.00 ± 2.83 (two seeds), WA and MAF likewise
    assert full[1:8] == ["IEMOCAP", "62.10", "62.00 ± 2.83", "61.00", "63.00 ± 2.83",
                         "60.50", "61.00 ± 2.83"]
    assert full[8:12] == ["lld17 (speaker)", "5: 3 / 2", "9.11M", "0, 1"]
    assert lines["no_att"][2:4] == ["58.00", "55.00"]  # fractions in the paper shown as %
    assert lines["no_att"][8] == "lld17 (speaker); own"
    assert lines["full (RID column)"][1] == "RID (corpus not public)"
    assert lines["bilstm_att (Mirsamadi 2017)"][3] == "not run"
    assert lines["mdnn (MDNN)"][3] == "–" and "not implemented" in lines["mdnn (MDNN)"][-1]
    fused = fake_record(0.5)
    fused["folds"] = [{"name": "f1", "epochs_run": 0, "best_epoch": None, "fusion": {
        "requested": "linear", "method": "average", "n_fit": 24, "min_per_class": 30,
        "n_fit_per_class": {"angry": 6, "sad": 18}, "fallback": "fewer than 30"}}]
    fused_line = table_rows(plan, {"full+bilstm_att": [fused]}, metrics)
    fused_line = next(line for line in fused_line if line[0].startswith("full+bilstm_att"))
    assert fused_line[-1] == ("fusion average (not linear: < 30 per class), validation set "
                              "24 (angry 6, sad 18)")
    assert fused_line[9] == "– (fitted, not trained)"
    text = io.StringIO()
    Console(file=text, width=300).print(comparison_table("toy_paper", plan, records,
                                                         split="abc"))
    flat = " ".join(text.getvalue().split())
    assert "on synthetic (4class, loso-speaker, 4 fold(s), seeds 0, 1; split abc)" in flat


def _registered_paper_models() -> list[ModelSpec]:
    registry = get_registry()
    return [registry.model(n) for n in registry.names("model") if registry.model(n).paper_results]


#: rows per model, counted by hand from the tables in /work/shared/papers (a row per
#: system x corpus/input column with a value; RID columns included)
PAPER_ROWS = {
    "ar_gru": 9,  # Table 1: BiLSTM+ATT, MDNN, IAAN, R-GRU, AR-GRU I-V
    "a_lstm": 5,  # Table 1: 3 LSTMs; Table 2: DNN, fusion (RNN = Table 1 A-LSTM)
    "dense_lstm": 8,  # Tables 2 and 3: 4 models each
    "drn": 9,  # Table 2: baseline, S1-S4 (S4 = Table 1 proposed); Table 1: 4 systems
    "rlc": 16,  # IEMOCAP A: Table 2 x4 + Table 1 x4; RID A: the same 8
    "rlc_al": 8,  # IEMOCAP A+L: Table 2 x4 + Table 1 x4
}


@pytest.mark.parametrize("name", sorted(PAPER_ROWS))
def test_every_paper_row_appears_in_its_reproduce_table(name: str) -> None:
    """Each PaperResult of a plugin is a line of its table, with its paper numbers:
    nothing is dropped, whether it runs, fuses or is not implemented."""
    spec = get_registry().model(name)
    assert len(spec.paper_results) == PAPER_ROWS[name]
    plan = plan_runs(spec, get_registry())
    metrics = table_metrics(plan)
    lines = table_rows(plan, {}, metrics)
    assert len(lines) == len(spec.paper_results)
    for result in spec.paper_results:
        matching = [line for line in lines if line[0].endswith(f"({result.label})")
                    or (not result.label and line[0] == result.variant)]
        assert matching, f"{name}: paper row {result} is not in the table"
        ua = next((v for k, v in result.metrics.items() if k.lower() in {"ua", "uar"}), None)
        if ua is not None:
            shown = f"{ua:.2f}" if ua > 1 else f"{100 * ua:.2f}"
            assert any(line[2] == shown for line in matching), (name, result)


def test_every_registered_paper_model_is_counted() -> None:
    assert {s.name for s in _registered_paper_models()} >= set(PAPER_ROWS)
