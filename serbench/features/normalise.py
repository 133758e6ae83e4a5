"""Feature normalisation, an option of every feature set.

Modes (``normalise(table, manifest, mode, train_ids)``):

- ``none``: the table unchanged.
- ``utterance``: each utterance's frames z-normalised with its own mean and standard
  deviation over time (the A-LSTM paper's setting). Frame-level tables only: a
  functionals vector mixes units, so z-normalising across its dimensions is refused.
- ``speaker``: each speaker's statistics, computed from that speaker's utterances only
  (all frames of them, or all vectors for functionals). This reads the unlabelled
  features of test speakers too, which is the standard per-speaker normalisation of SER
  (it needs no label and no other speaker's data); use ``global`` where even that is
  not allowed.
- ``global``: one mean and standard deviation fitted on ``train_ids`` only (frames
  pooled over the training utterances) and applied to every utterance; test features
  never enter the statistics.

Statistics are computed in float64 over finite values only (a NaN or inf never enters a
mean), and a standard deviation below ``EPS`` is treated as 1 so a constant dimension
becomes 0 rather than NaN. Normalisation is applied when an utterance is read; the
cache is never copied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import polars as pl

from serbench.errors import ConfigError
from serbench.features.table import FeatureTable

MODES = ("none", "utterance", "speaker", "global")
EPS = 1e-8


def _stats(blocks: Callable[[], Iterable[np.ndarray]], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over the rows of all blocks, finite values only.

    ``blocks()`` is called twice (mean, then squared deviations) so that only one
    utterance is held in float64 at a time, whatever the size of the training fold.
    """
    total = np.zeros(dim)
    count = np.zeros(dim)
    for block in blocks():
        b = np.atleast_2d(np.asarray(block, dtype=np.float64))
        finite = np.isfinite(b)
        total += np.where(finite, b, 0.0).sum(axis=0)
        count += finite.sum(axis=0)
    mean = np.divide(total, count, out=np.zeros(dim), where=count > 0)
    squares = np.zeros(dim)
    for block in blocks():
        b = np.atleast_2d(np.asarray(block, dtype=np.float64))
        finite = np.isfinite(b)
        squares += np.where(finite, (b - mean) ** 2, 0.0).sum(axis=0)
    std = np.sqrt(np.divide(squares, count, out=np.zeros(dim), where=count > 0))
    return mean, np.where(std < EPS, 1.0, std)


def fit_statistics(table: FeatureTable, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std), each (D,) float64, over the raw rows of ``ids`` (frames pooled), as
    ``global`` normalisation fits them; ids absent from ``table`` are skipped."""
    fit = [u for u in ids if u in table]
    return _stats(lambda: (table.raw(u) for u in fit), table.dim)


def _zscore(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((values - mean) / std).astype(np.float32)


def normalise(
    table: FeatureTable, manifest: pl.DataFrame, mode: str, train_ids: Sequence[str]
) -> FeatureTable:
    """``table`` read through the normalisation ``mode`` (see the module docstring).

    Raises:
        ConfigError: an unknown mode, ``utterance`` on functionals, ``global`` with no
            training utterance in the table, or ``speaker`` without speakers.
    """
    if mode not in MODES:
        raise ConfigError(f"unknown normalisation {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "none":
        return table.with_transform(None, normalisation="none")
    if mode == "utterance":
        if table.level != "frames":
            raise ConfigError(
                "per-utterance normalisation needs frame-level features; for functionals "
                "use 'speaker' or 'global'"
            )

        def per_utterance(_utt: str, x: np.ndarray) -> np.ndarray:
            mean, std = _stats(lambda: [x], x.shape[1])
            return _zscore(x, mean, std)

        return table.with_transform(per_utterance, normalisation="utterance")
    if mode == "global":
        fit = [u for u in train_ids if u in table]
        if not fit:
            raise ConfigError(
                "global normalisation is fitted on the training fold, but none of its "
                f"{len(train_ids)} ids is in the feature table"
            )
        mean, std = fit_statistics(table, fit)
        return table.with_transform(
            lambda _u, x: _zscore(x, mean, std), normalisation="global", normalisation_fit=len(fit)
        )
    # speaker
    if "speaker" not in manifest.columns:
        raise ConfigError("speaker normalisation needs a 'speaker' column in the manifest")
    speaker_of = {
        str(u): str(s)
        for u, s in zip(manifest["utt_id"].to_list(), manifest["speaker"].to_list(), strict=True)
        if str(u) in table
    }
    by_speaker: dict[str, list[str]] = {}
    for utt, spk in speaker_of.items():
        by_speaker.setdefault(spk, []).append(utt)
    stats = {
        spk: _stats(lambda utts=utts: (table.raw(u) for u in utts), table.dim)
        for spk, utts in by_speaker.items()
    }

    def per_speaker(utt: str, x: np.ndarray) -> np.ndarray:
        try:
            mean, std = stats[speaker_of[utt]]
        except KeyError:
            raise ConfigError(
                f"utterance {utt!r} has no speaker in the manifest given to normalise()"
            ) from None
        return _zscore(x, mean, std)

    return table.with_transform(per_speaker, normalisation="speaker", speakers=len(stats))
