"""Utterances the feature cache excluded are left out of every fold, with a message."""

from serbench.protocols.base import Fold
from serbench.run.pipeline import _without_excluded


class _Table:
    def __init__(self, excluded):
        self._excluded = excluded

    def info(self):
        return {"excluded": self._excluded}


def test_excluded_utterances_leave_every_fold(capsys):
    fold = Fold("f1", train=("a", "b"), valid=("c",), test=("d", "e"))
    [out] = _without_excluded([fold], _Table({"b": "never finite", "e": "extractor failed"}), None)
    assert out.train == ("a",) and out.valid == ("c",) and out.test == ("d",)
    assert "excluded" in out.note


def test_nothing_excluded_keeps_folds_unchanged():
    fold = Fold("f1", train=("a",), valid=("c",), test=("d",))
    assert _without_excluded([fold], _Table({}), None) == [fold]


def test_excluded_utterances_are_in_the_record_and_split_the_leaderboard_row(tmp_path,
                                                                             monkeypatch):
    from _run_helpers import toy_registry, toy_table

    from serbench.features.table import FeatureTable
    from serbench.leaderboard.grouping import group_key
    from serbench.leaderboard.records import entry_from_record
    from serbench.run.config import RunConfig
    from serbench.run.pipeline import run_experiment
    from serbench.run.report import record_report
    from serbench.testing.corpora import write_tiny_corpus

    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    csv = write_tiny_corpus(tmp_path / "tiny", speakers=3, per_speaker=4)
    full = toy_table(csv, "functionals")
    lost = full.ids[1]
    damaged = FeatureTable.from_arrays(
        {u: full[u] for u in full.ids if u != lost}, full.names, "functionals",
        info={**full.info(), "excluded": {lost: "extractor failed (x) after a retry"}})
    config = RunConfig(model="svm", corpus="manifest", data=csv, protocol="loso-speaker",
                       feature="toy_functionals", overrides={}, device="cpu")
    record = run_experiment(config, registry=toy_registry(), progress=False, features=damaged,
                            command=["serbench", "run"])
    assert record["feature"]["excluded"] == {lost: "extractor failed (x) after a retry"}
    assert len(record["feature"]["excluded_hash"]) == 16
    assert sum(f["n_test"] for f in record["folds"]) == 11
    assert "excluded utterances: 1" in str(record_report(record).renderables[-1].plain)
    entry = entry_from_record(record, benchmark="b")
    assert entry["feature"]["n_excluded"] == 1
    clean = {**entry, "feature": {k: v for k, v in entry["feature"].items()
                                  if k not in ("excluded_hash", "n_excluded")}}
    assert group_key(entry) != group_key(clean)  # a damaged subset is not a clean row
