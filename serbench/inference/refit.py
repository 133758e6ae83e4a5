"""``serbench refit RUN``: the run's configuration trained once on all of its data.

Cross-validation gives each fold a model trained on part of the data; for use on new
recordings one model trained on every utterance the run used (the union of its folds'
training, validation and test ids) is often preferred. There is no validation split
left to stop on, so the epoch count is fixed in advance from the run: the median of the
folds' best (early-stopping) epochs, rounded half up, at least 1. Everything else is the
run's: hyperparameters, feature, normalisation (fitted on all the utterances) and seed.

Written beside the run, never into its record::

    runs/<run_id>/refit/model.pt, model.json         the weights (safe checkpoint)
    runs/<run_id>/refit/normalisation_refit.npz      statistics (global/speaker modes)
    runs/<run_id>/refit/refit.json                   epochs, the rule, n_train, created

``serbench predict`` then uses this model instead of the fold ensemble.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import ConfigError
from serbench.protocols.base import Fold


class _AllData(Fold):
    """A fold training on every utterance. ``run_fold`` needs a test split and checks that
    the splits are disjoint; here the test split is one training utterance, there only to
    satisfy it (its score is not kept), so the check does not apply."""

    def check_disjoint(self) -> None:
        """Nothing to check: test overlaps train by design (see the class docstring)."""


def refit_epochs(record: Mapping[str, Any]) -> int:
    """The median of the folds' ``best_epoch``, rounded half up (at least 1).

    Raises:
        ConfigError: no fold recorded a best epoch.
    """
    best = [f["best_epoch"] for f in record["folds"] if f.get("best_epoch")]
    if not best:
        raise ConfigError(f"run {record['run_id']} records no best epoch in any fold; a refit "
                          "needs the epoch count chosen on validation")
    return max(1, math.floor(float(np.median(best)) + 0.5))


def _resolved(config: Mapping[str, Any], registry: Any) -> Any:
    """The run's resolved configuration (corpus, manifest, folds) from ``config.json``."""
    from serbench.run.config import RunConfig
    from serbench.run.resolve import resolve_run

    ident = config["identity"]
    res = resolve_run(RunConfig(
        model=ident["model"]["name"], variant=ident["model"]["variant"],
        corpus=ident["corpus"]["name"], data=config.get("data"),
        corpus_options=ident["corpus"]["options"], label_map=ident["corpus"]["label_map"],
        protocol=ident["protocol"]["name"], protocol_options=ident["protocol"]["options"],
        feature=ident["feature"]["name"], feature_params=ident["feature"]["params"],
        normalisation=ident["feature"]["normalisation"], seed=ident["seed"], device="cpu",
    ), registry)
    if res.fingerprint != ident["corpus"]["fingerprint"]:
        raise ConfigError(
            f"the corpus on disk differs from the one run {config['run_id']} used (fingerprint "
            f"{res.fingerprint} != {ident['corpus']['fingerprint']}); point it at the original"
        )
    return res


def refit_run(run: str | Path, *, runs_dir: Path | None = None, registry: Any = None,
              device: str = "auto", force: bool = False) -> dict[str, Any]:
    """Train the run's model on all its utterances; returns ``refit/refit.json``'s content.

    Raises:
        ConfigError: an unusable run (see :func:`serbench.inference.fold_models.check_usable`),
            a corpus that changed, or an existing refit without ``force``.
    """
    from serbench.features.cache import load_features
    from serbench.features.normalise import normalise
    from serbench.inference.fold_models import check_usable, run_summary
    from serbench.inference.statistics import save_fold_statistics
    from serbench.plugins import get_registry
    from serbench.run.folder import atomic_write_json
    from serbench.run.record import now_iso
    from serbench.training.fold import run_fold

    registry = registry or get_registry()
    folder, config, record = run_summary(run, runs_dir)
    spec = check_usable(record, registry)
    out = folder.root / "refit"
    if (out / "refit.json").is_file() and not force:
        raise ConfigError(f"{out} already holds a refitted model; pass --force to train it again")
    epochs = refit_epochs(record)
    res = _resolved(config, registry)
    manifest = res.corpus.manifest if "context" in spec.inputs else res.manifest
    features = load_features(manifest, res.feature_entry.spec.name, params=res.feature_params,
                             fingerprint=res.fingerprint, registry=registry, progress=False)
    ids = sorted({u for f in res.folds for u in (*f.train, *f.valid, *f.test) if u in features})
    out.mkdir(parents=True, exist_ok=True)
    save_fold_statistics(out, "refit", features, res.normalisation, ids)
    table = normalise(features, manifest, res.normalisation, ids)
    hparams = {**dict(config["identity"]["hyperparameters"]), "max_epochs": epochs}
    # no validation: every epoch runs and the last weights are kept
    fold = _AllData(name="refit", train=tuple(ids), valid=(), test=tuple(ids[:1]))
    outcome = run_fold(spec, hparams, fold, res.manifest, table, res.classes, seed=res.config.seed,
                       device=device, checkpoint=out / "model.pt")
    doc = {"run_id": folder.run_id, "epochs": epochs,
           "rule": "median of the folds' best epochs, rounded half up",
           "best_epochs": [f.get("best_epoch") for f in record["folds"]],
           "n_train": len(ids), "epochs_run": outcome.epochs_run, "seed": res.config.seed,
           "created": now_iso()}
    atomic_write_json(out / "refit.json", doc)
    return doc
