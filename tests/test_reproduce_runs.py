"""``serbench reproduce`` end to end on a tiny corpus: every row on one split.

A toy paper model with two variants, a comparison system that prefers another feature
set (``bilstm_att``), a functionals system that prefers another protocol (``toy_svm``),
their fusion and a system that is not implemented. Features are in-memory tables.
"""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import pytest
from _run_helpers import TINY_HPARAMS, toy_plugin, toy_table

from serbench import hookimpl
from serbench.components import ModelSpec, PaperResult
from serbench.models.plugin import BILSTM_ATT, SVM
from serbench.plugins import Registry, make_plugin_manager
from serbench.reproduce.runner import reproduce
from serbench.run.config import RunConfig
from serbench.testing.corpora import write_tiny_corpus

PAPER = ModelSpec(
    name="toy_paper", version=1, description="A paper model for tests.",
    builder="serbench.models.bilstm_att:build", default_feature="toy_frames",
    defaults={**BILSTM_ATT.defaults, **TINY_HPARAMS},
    variants={"big": {"hidden": 8}, "small": {"hidden": 4}}, default_variant="big",
    preferred={"feature": "toy_frames", "normalisation": "none", "protocol": "kfold",
               "protocol_options": {"k": 2, "valid_fraction": 0.25}},
    paper_results=(
        PaperResult("big", "IEMOCAP", {"ua": 60.0}, label="Table 1 big"),
        PaperResult("small", "IEMOCAP", {"ua": 55.0}, label="Table 1 small"),
        PaperResult("bilstm_att", "IEMOCAP", {"ua": 58.8}, label="Table 1 Mirsamadi"),
        PaperResult("toy_svm", "IEMOCAP", {"ua": 50.0}, label="Table 1 SVM"),
        PaperResult("big+toy_svm", "IEMOCAP", {"ua": 62.0}, label="Table 2 fusion"),
        PaperResult("mdnn", "IEMOCAP", {"ua": 62.7}, label="MDNN", note="not implemented"),
    ),
)
#: a functionals system whose own protocol differs from the paper model's
TOY_SVM = dataclasses.replace(
    SVM, name="toy_svm", default_feature="toy_functionals",
    defaults={**SVM.defaults, "fit_on_valid": False},
    preferred={"feature": "toy_functionals", "protocol": "loso-speaker"})


def _registry() -> Registry:
    @hookimpl
    def register_models(register):
        register(PAPER)
        register(TOY_SVM)

    models = types.SimpleNamespace(register_models=register_models)
    return Registry(make_plugin_manager(extra_plugins=[("toy_features", toy_plugin()),
                                                       ("toy_models", models)]))


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Registry, RunConfig, dict]:
    root = tmp_path_factory.mktemp("reproduce")
    csv = write_tiny_corpus(root / "corpus", speakers=4, per_speaker=8)
    base = RunConfig(model="toy_paper", corpus="manifest", data=csv, device="cpu",
                     max_epochs=2, runs_dir=root / "runs")
    features = {f"toy_{level}": toy_table(csv, level) for level in ("frames", "functionals")}
    return _registry(), base, features


@pytest.mark.slow  # ten runs and a fusion (~30 s on 2 busy cores)
def test_every_row_runs_on_one_split_per_seed(setup) -> None:
    registry, base, features = setup
    out = reproduce("toy_paper", base, registry=registry, seeds=(0, 1), features=features)
    assert set(out.records) == {"big", "small", "bilstm_att", "toy_svm", "big+toy_svm"}
    assert [p.label for p in out.plan.absent] == ["mdnn"]
    for i, seed in enumerate((0, 1)):
        rows = {label: records[i] for label, records in out.records.items()}
        assert {r["training"]["seed"] for r in rows.values()} == {seed}
        assert {r["protocol"]["split_hash"] for r in rows.values()} == {out.splits[seed]}
        # the comparison systems ran on the paper model's protocol, not their own
        assert {r["protocol"]["name"] for r in rows.values()} == {"kfold"}
        assert rows["bilstm_att"]["feature"]["name"] == "toy_frames"  # not emobase_lld
        assert rows["bilstm_att"]["feature"]["normalisation"] == "none"
        assert rows["toy_svm"]["feature"]["name"] == "toy_functionals"
    assert "own feature set" in out.notes["toy_svm"] and out.notes["bilstm_att"] == ""
    # 4 speakers x 8 utterances: a handful of validation utterances per class, so the
    # fusion is not fitted; the record says so and what it was fitted on
    fold = out.records["big+toy_svm"][0]["folds"][0]["fusion"]
    assert fold["method"] == "average" and fold["requested"] == "linear"
    assert fold["fallback"] and sum(fold["n_fit_per_class"].values()) == fold["n_fit"]


def test_resume_starts_rows_never_run_beside_other_runs_of_the_model(setup, tmp_path) -> None:
    """--resume completes what exists and starts the rest, although other runs of the
    same model and variant exist (here with another epoch budget), which a plain
    `serbench run --resume` refuses as a likely typo."""
    registry, base, features = setup
    base = dataclasses.replace(base, runs_dir=tmp_path / "runs")
    other = reproduce("toy_paper", dataclasses.replace(base, max_epochs=1), registry=registry,
                      only=["big"], features=features)
    first = reproduce("toy_paper", base, registry=registry, only=["small"], features=features)
    out = reproduce("toy_paper", dataclasses.replace(base, resume=True), registry=registry,
                    features=features)
    assert out.records["small"][0]["run_id"] == first.records["small"][0]["run_id"]
    assert out.records["big"][0]["run_id"] != other.records["big"][0]["run_id"]
    rows = {label: records[0] for label, records in out.records.items()}
    assert {r["protocol"]["split_hash"] for r in rows.values()} == {out.splits[0]}
    assert {r["protocol"]["name"] for r in rows.values()} == {"kfold"}
    assert rows["bilstm_att"]["feature"]["name"] == "toy_frames"
    assert (Path(base.runs_dir) / rows["big"]["run_id"] / "record.json").is_file()
