"""``serbench compare RUN_A RUN_B``: a paired test on two runs' per-utterance predictions.

Two runs made on the same split (same corpus fingerprint, classes and protocol, and the
same test utterances in the same folds, checked utterance by utterance; the split hash
may differ where only the seed's validation draw does) are compared utterance by
utterance:

- **McNemar's exact test** on correct / incorrect: of the utterances exactly one run gets
  right, ``b`` are right only in A and ``c`` only in B; under "equally good" each is A's
  with probability 1/2, so the two-sided p-value is the exact binomial test of ``b`` in
  ``b + c`` trials (:func:`scipy.stats.binomtest`). It treats utterances as independent,
  which utterances of one speaker are not: read it as a screen.
- **A speaker-level (cluster) bootstrap of the UA difference**: speakers are drawn with
  replacement (all of a drawn speaker's utterances come along, in both runs: the draws
  are paired), the pooled UA of each run is recomputed on the drawn utterances and the
  percentile interval of ``UA_A - UA_B`` is reported. The point estimate is the plain
  difference of the two runs' pooled UAs on all test utterances. This is the paired
  counterpart of the leaderboard's per-entry speaker bootstrap
  (:func:`serbench.leaderboard.significance.bootstrap_counts`, same defaults), which
  draws one run at a time and so cannot give an interval of a difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from serbench.errors import ConfigError
from serbench.leaderboard.significance import LEVEL, N_BOOT
from serbench.run.folder import RunFolder

#: below this many test speakers a cluster bootstrap's interval is too coarse to trust
#: (few clusters understate the variance); the result says so
MIN_SPEAKERS = 10


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, Any]:
    """McNemar's exact test on paired correct/incorrect outcomes.

    Args:
        correct_a: (N,) bool, run A right on utterance i.
        correct_b: (N,) bool, run B right on the same utterance.
    Returns:
        ``{"b" (right only in A), "c" (right only in B), "p" (two-sided)}``; ``p`` is 1
        when the runs never disagree.
    """
    from scipy.stats import binomtest

    a, b_ = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    only_a, only_b = int(np.sum(a & ~b_)), int(np.sum(~a & b_))
    p = 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return {"b": only_a, "c": only_b, "p": min(1.0, p)}


def _pooled_ua(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """UA from per-class counts (..., C): mean recall over the classes present."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nanmean(np.where(n > 0, k / np.where(n > 0, n, 1), np.nan), axis=-1)


def bootstrap_ua_difference(
    speakers: Sequence[str], y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
    n_classes: int, *, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0,
) -> dict[str, Any]:
    """Speaker-cluster bootstrap of ``UA(pred_a) - UA(pred_b)`` (paired draws).

    Args:
        speakers: (N,) the speaker of each utterance.
        y_true, pred_a, pred_b: (N,) class indices in ``[0, n_classes)``.
        n_classes: C.
        n_boot: number of bootstrap samples.
        level: the interval's coverage (0.95: the 2.5th and 97.5th percentiles).
        seed: seed of the draws (the interval is reproducible).
    Returns:
        ``{"ua_a", "ua_b", "delta" (ua_a - ua_b on all utterances), "low", "high",
        "level", "n_boot", "n_speakers"}``.
    """
    names = sorted(set(speakers))
    if len(names) < 2:
        raise ConfigError(
            f"the test utterances come from {len(names)} speaker(s); a speaker-level "
            "bootstrap needs at least 2"
        )
    sid = np.array([names.index(s) for s in speakers])
    y = np.asarray(y_true)
    # per speaker and class: utterances (n) and correct ones of each run (k_a, k_b)
    n = np.zeros((len(names), n_classes))
    k_a, k_b = np.zeros_like(n), np.zeros_like(n)
    np.add.at(n, (sid, y), 1)
    np.add.at(k_a, (sid, y), np.asarray(pred_a) == y)
    np.add.at(k_b, (sid, y), np.asarray(pred_b) == y)
    ua_a, ua_b = float(_pooled_ua(n.sum(0), k_a.sum(0))), float(_pooled_ua(n.sum(0), k_b.sum(0)))
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(names), size=(n_boot, len(names)))  # (B, S) speaker draws
    n_s = n[pick].sum(axis=1)
    samples = _pooled_ua(n_s, k_a[pick].sum(axis=1)) - _pooled_ua(n_s, k_b[pick].sum(axis=1))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.nanpercentile(samples, [tail, 100.0 - tail])
    return {"ua_a": ua_a, "ua_b": ua_b, "delta": ua_a - ua_b, "low": float(low),
            "high": float(high), "level": level, "n_boot": n_boot, "n_speakers": len(names)}


def check_same_split(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Refuse records that were not evaluated on the same corpus, classes and protocol.

    The split hash covers train and validation ids too, and the validation draw depends
    on the seed: two seeds of one leave-one-speaker-out run have the same test folds but
    different hashes. Such a pair is accepted (the per-utterance check in
    :func:`_aligned` then proves the test folds equal) with a note saying so.

    Returns:
        Notes for the reader (empty when the split hashes are equal).
    """
    problems = []
    for key in ("fingerprint", "label_map", "classes"):
        if a["corpus"].get(key) != b["corpus"].get(key):
            problems.append(f"corpus.{key} {a['corpus'].get(key)!r} vs {b['corpus'].get(key)!r}")
    for key in ("name", "options", "folds_selected"):
        if a["protocol"].get(key) != b["protocol"].get(key):
            problems.append(f"protocol.{key} {a['protocol'].get(key)!r} vs "
                            f"{b['protocol'].get(key)!r}")
    hash_a, hash_b = a["protocol"].get("split_hash"), b["protocol"].get("split_hash")
    if problems:
        raise ConfigError(
            f"runs {a['run_id']} and {b['run_id']} were not tested on the same split: "
            + "; ".join(problems) + f" (split hash {hash_a} vs {hash_b}). Compare runs of "
            "the same corpus, label map and protocol (and --folds), e.g. two models run "
            "with the same --protocol."
        )
    if hash_a == hash_b:
        return []
    return [f"split hashes differ ({hash_a} vs {hash_b}) although the test folds are the "
            "same: the training/validation partitions differ (e.g. each seed draws its own "
            "validation speakers), so the difference includes that variation"]


def _predictions(folder: RunFolder) -> pl.DataFrame:
    if not folder.predictions_path.is_file():
        raise ConfigError(f"run {folder.run_id} has no {folder.predictions_path.name}; "
                          "finish it with `serbench run ... --resume` first")
    return pl.read_parquet(folder.predictions_path)


def _aligned(frame_a: pl.DataFrame, frame_b: pl.DataFrame, ids: tuple[str, str]) -> pl.DataFrame:
    """One row per test utterance with both runs' predictions; refuses differing sets."""
    set_a, set_b = set(frame_a["utt_id"].to_list()), set(frame_b["utt_id"].to_list())
    if set_a != set_b or frame_a.height != frame_b.height:
        only_a, only_b = sorted(set_a - set_b), sorted(set_b - set_a)
        raise ConfigError(
            f"runs {ids[0]} and {ids[1]} tested different utterances ({len(set_a)} vs "
            f"{len(set_b)}; only in the first: {only_a[:3]}, only in the second: {only_b[:3]}); "
            "compare complete runs of the same split"
        )
    joined = frame_a.select("utt_id", "fold", "speaker", "label", "pred").join(
        frame_b.select("utt_id", "fold", pl.col("label").alias("label_b"),
                       pl.col("pred").alias("pred_b")), on="utt_id", suffix="_b")
    bad = joined.filter((pl.col("fold") != pl.col("fold_b")) | (pl.col("label") != pl.col("label_b")))
    if bad.height:
        raise ConfigError(
            f"runs {ids[0]} and {ids[1]} disagree on the fold or label of {bad.height} "
            f"utterance(s) (e.g. {bad['utt_id'][0]}); they were not made on the same split"
        )
    return joined.sort("utt_id")


def compare_runs(run_a: RunFolder, run_b: RunFolder, *, n_boot: int = N_BOOT,
                 level: float = LEVEL, seed: int = 0) -> dict[str, Any]:
    """McNemar's exact test and the speaker bootstrap of the UA difference of two runs.

    Raises:
        ConfigError: a run is unfinished, or the runs differ in corpus, classes,
            protocol or test utterances (checked before any statistic is computed).
    """
    for folder in (run_a, run_b):
        if not folder.is_complete():
            raise ConfigError(f"run {folder.run_id} has no record.json yet; finish it with "
                              "`serbench run ... --resume` first")
    rec_a, rec_b = run_a.read_record(), run_b.read_record()
    warnings = check_same_split(rec_a, rec_b)
    rows = _aligned(_predictions(run_a), _predictions(run_b), (run_a.run_id, run_b.run_id))
    classes = list(rec_a["corpus"]["classes"])
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in rows["label"].to_list()])
    pa = np.array([index[c] for c in rows["pred"].to_list()])
    pb = np.array([index[c] for c in rows["pred_b"].to_list()])
    boot = bootstrap_ua_difference(rows["speaker"].to_list(), y, pa, pb, len(classes),
                                   n_boot=n_boot, level=level, seed=seed)
    if boot["n_speakers"] < MIN_SPEAKERS:
        warnings.append(f"only {boot['n_speakers']} test speakers: a speaker bootstrap over "
                        f"fewer than {MIN_SPEAKERS} is coarse and its interval may be too "
                        "narrow")
    return {"run_a": run_a.run_id, "run_b": run_b.run_id,
            "split_hash": rec_a["protocol"].get("split_hash"),
            "split_hash_b": rec_b["protocol"].get("split_hash"), "n_utterances": len(y),
            "bootstrap": boot, "mcnemar": mcnemar_exact(pa == y, pb == y),
            "warnings": warnings}
