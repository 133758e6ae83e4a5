"""Finished folds of unfinished campaign runs, kept beside their leaderboard, so that a run
longer than one working session resumes on a fresh clone instead of starting over.

::

    leaderboards/<board>/partial/<run_id>/
      config.json                      the run folder's config.json (its identity)
      folds/<fold>.parquet             the fold's test predictions
      folds/<fold>.valid.parquet       its validation predictions, where the run wrote them
      folds/<fold>.json                the fold's result, copied last: it marks the fold done

A sweep ships the finished folds of its runs while they go on (every
:data:`serbench.campaign.sweep.SHIP_EVERY_S`), when one fails and when the sweep stops, and,
before it runs a run, restores that run's shipped folds into the runs folder so the run
resumes (``serbench run --resume``) with them. Once the run is complete
and on its leaderboard its shipped folds are removed. Only whole folds travel (a fold is
done exactly when its JSON exists, :mod:`serbench.run.folder`); the run id hashes
everything a score depends on and ``--resume`` checks the identity again, so a shipped
fold can only complete the run that made it. Model checkpoints stay behind: they are large
and a finished fold's scores do not need them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from serbench.atomic import write_atomic
from serbench.run.folder import RunFolder

PARTIAL_DIR = "partial"


def shipped_folder(leaderboards: Path, board: str, run_id: str) -> RunFolder:
    """Where ``board`` keeps the shipped folds of ``run_id`` (a run folder's layout)."""
    return RunFolder(Path(leaderboards) / board / PARTIAL_DIR / run_id)


def shipped_folds(leaderboards: Path, board: str, run_id: str) -> list[str]:
    """Names of the folds of ``run_id`` shipped under ``board``, sorted."""
    folder = shipped_folder(leaderboards, board, run_id)
    return sorted(folder.completed_folds()) if folder.exists() else []


def ship(runs_dir: Path, leaderboards: Path, board: str, run_id: str) -> list[str]:
    """Copy the finished folds of the unfinished run ``runs_dir/run_id`` that are not
    shipped yet; returns their names (none when the run is complete or absent)."""
    local = RunFolder(Path(runs_dir) / run_id)
    if not local.exists() or local.is_complete():
        return []
    target = shipped_folder(leaderboards, board, run_id)
    new = sorted(set(local.completed_folds()) - set(shipped_folds(leaderboards, board, run_id)))
    if new and not target.exists():
        _copy(local.config_path, target.config_path)
    for fold in new:
        _copy_fold(local, target, fold)
    return new


def restore(runs_dir: Path, leaderboards: Path, board: str, run_id: str) -> list[str]:
    """Copy the shipped folds of ``run_id`` that its run folder lacks into it (creating the
    folder from the shipped ``config.json``); returns their names. A complete run, or
    one whose folder holds another configuration (its own ``--resume`` check reports
    that), is left alone."""
    shipped = shipped_folder(leaderboards, board, run_id)
    local = RunFolder(Path(runs_dir) / run_id)
    if not shipped.exists() or local.is_complete():
        return []
    if local.exists() and local.read_config().get("identity") != \
            shipped.read_config().get("identity"):
        return []
    missing = sorted(set(shipped.completed_folds()) - set(local.completed_folds()))
    if missing and not local.exists():
        _copy(shipped.config_path, local.config_path)
    for fold in missing:
        _copy_fold(shipped, local, fold)
    return missing


def discard(leaderboards: Path, board: str, run_id: str) -> bool:
    """Remove the shipped folds of ``run_id`` (its entry is on the board now); True when
    there were some."""
    root = shipped_folder(leaderboards, board, run_id).root
    if not root.is_dir():
        return False
    shutil.rmtree(root)
    partial = root.parent
    if partial.is_dir() and not any(partial.iterdir()):
        partial.rmdir()
    return True


def _copy_fold(source: RunFolder, target: RunFolder, fold: str) -> None:
    """Predictions first, the fold JSON that marks the fold done last."""
    valid = source.fold_valid_predictions_path(fold)
    if valid.is_file():
        _copy(valid, target.fold_valid_predictions_path(fold))
    _copy(source.fold_predictions_path(fold), target.fold_predictions_path(fold))
    _copy(source.fold_path(fold), target.fold_path(fold))


def _copy(source: Path, target: Path) -> None:
    write_atomic(target, lambda tmp: shutil.copyfile(source, tmp))
