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
