"""A test-only model for the multi-worker tuning tests: the svm, with a fit that can stall.

``SERBENCH_TEST_FIT_SLEEP`` (seconds) makes every fit sleep first, and
``SERBENCH_TEST_FIT_MARK`` (a folder) receives one ``<pid>`` file as a fit starts, so a
test knows when a worker is mid-trial and can kill it there. Nothing in serbench reads
these variables: they live only in this module, registered by ``_tune_worker.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from serbench.components import ModelSpec
from serbench.models.plugin import SVM


class StallOnFit(TransformerMixin, BaseEstimator):
    """Identity transform whose ``fit`` marks the process and sleeps as the env asks."""

    def fit(self, x: Any, y: Any = None) -> StallOnFit:
        mark = os.environ.get("SERBENCH_TEST_FIT_MARK")
        if mark:
            Path(mark).mkdir(parents=True, exist_ok=True)
            (Path(mark) / str(os.getpid())).write_text("fit\n")
        time.sleep(float(os.environ.get("SERBENCH_TEST_FIT_SLEEP", "0")))
        return self

    def transform(self, x: Any) -> Any:
        return x


def build(spec: Any, hparams: Mapping[str, Any]) -> Any:
    from sklearn.pipeline import Pipeline

    from serbench.models.svm import build as build_svm

    return Pipeline([("stall", StallOnFit()), *build_svm(spec, hparams).steps])


SLOW_SVM = ModelSpec(
    name="slow_svm", version=1, description="The svm with a stalling fit (tests only).",
    builder="_tune_slow_model:build", framework="sklearn", level="functionals",
    default_feature="egemaps", defaults=dict(SVM.defaults), search_space=SVM.search_space,
    preferred={"feature": "egemaps", "normalisation": "speaker"},
)
