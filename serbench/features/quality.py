"""The bad-input rule: what the cache does with audio or features that are not clean.

Every file gets zero or more report entries ``{"utt_id", "path", "issue", "action"}``;
the cache stores them beside the features (in ``meta.json``), ``serbench features info``
shows them and ``load_features`` prints a summary. The rule:

============================  ===================================================
input                         action
============================  ===================================================
no samples / unreadable       **excluded** (the utterance is absent from the table)
shorter than one window       zero-padded at the end to ``extractor.min_seconds``
                              (one analysis window, at least 120 ms), then extracted
silent (peak < 1e-4)          extracted, reported (a silent utterance is data)
clipped (>= 1 % of samples    extracted, reported
at full scale)
NaN/inf in some frames        each non-finite value is replaced by the mean of the
                              finite values of that dimension in the same utterance
a dimension never finite,     **excluded**: no value could replace it without
or NaN/inf in functionals     inventing data
no frames at all              **excluded**
============================  ===================================================

An utterance is excluded only when its failure repeats on a clean retry (a freshly built
extractor, :mod:`serbench.features.extraction_workers`); its report entry then carries
``"retried": true``, and its reason reaches the run record (``feature.excluded``).

No rule ever writes zeros in place of a descriptor's value, so excluded or repaired
utterances cannot poison normalisation statistics; excluded ids are listed in
``FeatureTable.info()["excluded"]`` and the run drops them with that reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SILENCE_PEAK = 1e-4
CLIP_LEVEL = 0.999
CLIP_FRACTION = 0.01


def entry(utt_id: str, path: str, issue: str, action: str) -> dict[str, str]:
    """One report line."""
    return {"utt_id": utt_id, "path": path, "issue": issue, "action": action}


def check_signal(
    signal: np.ndarray, sample_rate: int, min_seconds: float, utt_id: str, path: str
) -> tuple[np.ndarray | None, list[dict[str, str]]]:
    """Apply the input part of the rule; ``None`` means the utterance is excluded."""
    report: list[dict[str, str]] = []
    if signal.size == 0:
        return None, [entry(utt_id, path, "no samples", "excluded")]
    if not np.all(np.isfinite(signal)):
        return None, [entry(utt_id, path, "NaN/inf audio samples", "excluded")]
    peak = float(np.max(np.abs(signal)))
    if peak < SILENCE_PEAK:
        report.append(entry(utt_id, path, f"silent (peak {peak:.1e})", "extracted"))
    clipped = float(np.mean(np.abs(signal) >= CLIP_LEVEL))
    if clipped >= CLIP_FRACTION:
        report.append(
            entry(utt_id, path, f"clipped ({100 * clipped:.1f}% of samples at full scale)", "extracted")
        )
    need = int(np.ceil(min_seconds * sample_rate))
    if signal.size < need:
        report.append(
            entry(
                utt_id,
                path,
                f"shorter than one analysis window ({signal.size / sample_rate * 1000:.0f} ms)",
                f"zero-padded to {need / sample_rate * 1000:.0f} ms",
            )
        )
        signal = np.concatenate([signal, np.zeros(need - signal.size, dtype=signal.dtype)])
    return signal, report


def repair_features(
    values: np.ndarray, level: str, names: list[str], utt_id: str, path: str
) -> tuple[np.ndarray | None, list[dict[str, str]]]:
    """Apply the output part of the rule; ``None`` means the utterance is excluded."""
    values = np.asarray(values, dtype=np.float32)
    if values.size == 0 or (level == "frames" and values.shape[0] == 0):
        return None, [entry(utt_id, path, "the extractor returned no frames", "excluded")]
    finite = np.isfinite(values)
    if finite.all():
        return values, []
    if level == "functionals":
        bad = [names[i] for i in np.flatnonzero(~finite)[:5]]
        return None, [entry(utt_id, path, f"NaN/inf functionals {bad}", "excluded")]
    never = ~finite.any(axis=0)
    if never.any():
        bad = [names[i] for i in np.flatnonzero(never)[:5]]
        return None, [entry(utt_id, path, f"dimension(s) {bad} NaN/inf in every frame", "excluded")]
    counts = finite.sum(axis=0)
    means = np.where(finite, values, 0.0).sum(axis=0) / counts
    repaired = np.where(finite, values, means[None, :]).astype(np.float32)
    n_bad = int((~finite).sum())
    bad_dims = [names[i] for i in np.flatnonzero((~finite).any(axis=0))[:5]]
    return repaired, [
        entry(
            utt_id,
            path,
            f"{n_bad} NaN/inf value(s) in {bad_dims}",
            "replaced by the utterance's finite-frame mean",
        )
    ]


def summarise(report: list[dict[str, Any]]) -> dict[str, int]:
    """``{issue kind: count}`` for a short summary line."""
    counts: dict[str, int] = {}
    for item in report:
        kind = str(item["issue"]).split(" (")[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts
