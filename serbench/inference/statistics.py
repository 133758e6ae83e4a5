"""Per-fold normalisation statistics, saved beside the fold's weights for later use.

A fold's model only makes sense on features normalised the way it was trained. For the
``global`` and ``speaker`` modes (:mod:`serbench.features.normalise`) that needs numbers
fitted on the fold's training utterances, so the run writes them when the fold starts:

``runs/<run_id>/normalisation_<fold>.npz`` (``numpy.savez``, read back with
``allow_pickle=False``: plain arrays only, nothing in it can run code)::

    mode    0-d str     the run's normalisation mode
    mean    (D,) f64    mean over the fold's training utterances (frames pooled)
    std     (D,) f64    their standard deviation (values below EPS stored as 1)
    n_fit   0-d int     how many training utterances entered the statistics

For ``global`` these are exactly the statistics training applied. For ``speaker`` the
model saw each speaker z-normalised with its own statistics; the pooled training
statistics are saved as the fallback for a recording whose speaker is unknown (see
:mod:`serbench.inference.predict`). ``none`` and ``utterance`` need no file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serbench.atomic import write_atomic
from serbench.errors import ConfigError
from serbench.features.table import FeatureTable

#: normalisation modes whose statistics are fitted on the training fold
FITTED_MODES = ("global", "speaker")


@dataclass(frozen=True)
class FoldStatistics:
    """One fold's saved statistics: ``mean`` and ``std`` are (D,) float64."""

    mode: str
    mean: np.ndarray
    std: np.ndarray
    n_fit: int

    def apply(self, x: np.ndarray) -> np.ndarray:
        """z-score ``x`` ((T, D) or (D,)) as :func:`serbench.features.normalise.normalise`
        does; returns float32."""
        return ((x - self.mean) / self.std).astype(np.float32)


def statistics_path(run_dir: Path, fold: str) -> Path:
    """``<run_dir>/normalisation_<fold>.npz`` (the fold name made file-safe)."""
    from serbench.run.folder import safe_name

    return Path(run_dir) / f"normalisation_{safe_name(fold)}.npz"


def save_fold_statistics(run_dir: Path, fold: str, features: FeatureTable, mode: str,
                         train_ids: Sequence[str]) -> Path | None:
    """Fit and write ``fold``'s statistics (modes in :data:`FITTED_MODES`); None otherwise.

    Args:
        run_dir: the run folder.
        fold: the fold's name.
        features: the raw (un-normalised) feature table of the run.
        mode: the run's normalisation mode.
        train_ids: the fold's training utterances.
    """
    if mode not in FITTED_MODES:
        return None
    from serbench.features.normalise import fit_statistics

    mean, std = fit_statistics(features, train_ids)
    n_fit = sum(1 for u in train_ids if u in features)
    path = statistics_path(run_dir, fold)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, mode=np.array(mode), mean=mean, std=std, n_fit=np.array(n_fit))

    write_atomic(path, write)
    return path


def load_fold_statistics(run_dir: Path, fold: str, dim: int) -> FoldStatistics:
    """Read a fold's statistics (no pickle is ever loaded).

    Raises:
        ConfigError: the file is missing (a run made before statistics were saved),
            unreadable, or does not match the feature dimension ``dim``.
    """
    path = statistics_path(run_dir, fold)
    if not path.is_file():
        raise ConfigError(
            f"{path} is missing: the run was made before serbench saved each fold's "
            "normalisation statistics. Re-run it (serbench run ... --force) to write them."
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            stats = FoldStatistics(mode=str(z["mode"]), mean=np.asarray(z["mean"], np.float64),
                                   std=np.asarray(z["std"], np.float64), n_fit=int(z["n_fit"]))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is not a readable statistics file ({exc}); re-run the "
                          "run with --force to write it again") from None
    if stats.mean.shape != (dim,) or stats.std.shape != (dim,):
        raise ConfigError(f"{path} holds statistics of {stats.mean.shape} values for a "
                          f"{dim}-dimensional feature; it belongs to another run")
    return stats
