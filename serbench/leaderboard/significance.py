"""Fair comparison: a paired test against the top entry and a bootstrap CI per entry.

Paired test. Two configurations evaluated on the same folds are compared fold by fold
(and seed by seed when they were run with the same seeds; otherwise each fold's scores
are first averaged over seeds): the differences of their fold scores go into
an exact paired permutation test (sign flips, :func:`scipy.stats.permutation_test`), two
sided. The p-values of all comparisons against the top entry are Holm-adjusted. With n
pairs the smallest attainable p-value is 2 / 2**n, so with 4 folds and one seed nothing
can be significant at 0.05; the table says so (``attainable``) rather than implying the
entries are equal. Pairs over seeds share test utterances, so they are not independent:
treat the test as a screen, not a proof.

Bootstrap CI. When per-utterance predictions were available (``entry["counts"]``), the
pooled UA is bootstrapped by resampling *speakers* with replacement (utterances of one
speaker are correlated; resampling them one by one would give too narrow an interval),
with seeds summed. Without predictions, the fold scores are resampled instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

ALPHA = 0.05
N_BOOT = 2000
LEVEL = 0.95


def paired_test(a: Mapping[tuple[int, str], float],
                b: Mapping[tuple[int, str], float]) -> dict[str, Any] | None:
    """Compare fold scores ``a`` (the reference) with ``b``; ``None`` if nothing pairs.

    Returns ``{"p", "delta" (mean a - b), "n_pairs", "pairing", "attainable"}``.
    """
    seeds_a = {seed for seed, _ in a}
    seeds_b = {seed for seed, _ in b}
    if seeds_a == seeds_b:
        keys = sorted(k for k in a.keys() & b.keys())
        x = np.array([a[k] for k in keys])
        y = np.array([b[k] for k in keys])
        pairing = "seed+fold"
    else:  # different seed sets: pair the folds' seed-averaged scores
        def by_fold(d: Mapping[tuple[int, str], float]) -> dict[str, float]:
            folds: dict[str, list[float]] = {}
            for (_, fold), value in d.items():
                folds.setdefault(fold, []).append(value)
            return {f: float(np.mean(v)) for f, v in folds.items()}
        fa, fb = by_fold(a), by_fold(b)
        keys_f = sorted(fa.keys() & fb.keys())
        x = np.array([fa[k] for k in keys_f])
        y = np.array([fb[k] for k in keys_f])
        pairing = "fold"
    n = len(x)
    if n < 2:
        return None
    attainable = bool(2.0 / 2**n <= ALPHA)
    if np.allclose(x, y):
        p = 1.0
    else:
        from scipy import stats  # slow to import; only needed when comparing

        result = stats.permutation_test(
            (x, y), lambda u, v, axis: np.mean(u - v, axis=axis), vectorized=True,
            permutation_type="samples", n_resamples=9999, alternative="two-sided",
            rng=np.random.default_rng(0),
        )
        p = float(min(1.0, result.pvalue))
    return {"p": p, "delta": float(np.mean(x - y)), "n_pairs": n, "pairing": pairing,
            "attainable": attainable}


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as the input)."""
    m = len(pvalues)
    order = np.argsort(pvalues, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted.tolist()


def _percentile_ci(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.nanpercentile(samples, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_counts(entries: Sequence[Mapping[str, Any]], *, n_boot: int = N_BOOT,
                     level: float = LEVEL, seed: int = 0) -> dict[str, Any] | None:
    """Speaker-cluster bootstrap of the pooled UA from the entries' prediction counts.

    ``None`` unless every entry has counts over the same classes and there are at least
    two speakers.
    """
    counts = [e.get("counts") for e in entries]
    if not counts or any(c is None for c in counts):
        return None
    classes = counts[0]["classes"]
    if any(c["classes"] != classes for c in counts):
        return None
    clusters: dict[str, np.ndarray] = {}
    for c in counts:
        for speaker, slot in c["clusters"].items():
            add = np.array([slot["n"], slot["correct"]], dtype=np.int64)
            clusters[speaker] = clusters.get(speaker, 0) + add
    if len(clusters) < 2:
        return None
    table = np.stack([clusters[s] for s in sorted(clusters)])  # (S, 2, C)
    n, k = table[:, 0, :], table[:, 1, :]

    def ua(n_sum: np.ndarray, k_sum: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nanmean(np.where(n_sum > 0, k_sum / n_sum, np.nan), axis=-1)

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(table), size=(n_boot, len(table)))  # (B, S) speaker draws
    samples = ua(n[pick].sum(axis=1), k[pick].sum(axis=1))
    low, high = _percentile_ci(samples, level)
    return {"estimate": float(ua(n.sum(axis=0), k.sum(axis=0))), "low": low, "high": high,
            "level": level, "n_boot": n_boot, "clusters": len(table),
            "method": "speaker bootstrap of per-utterance predictions (pooled UA)"}


def bootstrap_folds(values: Sequence[float], *, n_boot: int = N_BOOT, level: float = LEVEL,
                    seed: int = 0) -> dict[str, Any] | None:
    """Bootstrap of the mean fold score (used when no predictions were saved)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return None
    rng = np.random.default_rng(seed)
    samples = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    low, high = _percentile_ci(samples, level)
    return {"estimate": float(x.mean()), "low": low, "high": high, "level": level,
            "n_boot": n_boot, "clusters": len(x),
            "method": "bootstrap over fold scores (mean over folds)"}
