"""Group entries that differ only in their seed, and aggregate each group.

Two entries are the same configuration when model (name, version, variant), feature
set (name, version, parameters, normalisation), hyperparameters, tuning study and
protocol options agree; the seed is what varies inside a group. A group's score for a
metric is reported as:

- ``mean``: the mean over folds (the usual LOSO figure), averaged over seeds;
- ``fold_std``: the standard deviation over folds, averaged over seeds;
- ``pooled``: the metric over all test utterances at once, averaged over seeds;
- ``seed_std``: the spread of the pooled score over seeds (``None`` with one seed).
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Entry = Mapping[str, Any]

TIMING_FIELDS = ("train_seconds_per_epoch", "inference_latency_ms", "throughput_utt_per_s",
                 "n_parameters", "peak_memory_mb")


def config_identity(entry: Entry) -> dict[str, Any]:
    """Everything that defines a configuration, except the seed."""
    model, feature = entry["model"], entry["feature"]
    tuning = entry.get("tuning") or {}
    return {
        "model": [model["name"], model["version"], model.get("variant")],
        "hyperparameters": model.get("hyperparameters") or {},
        "feature": [feature["name"], feature.get("version"), feature.get("params") or {},
                    feature.get("normalisation")],
        "protocol_options": entry["protocol"].get("options") or {},
        "tuning_study": tuning.get("study"),
        # a run whose extractor excluded utterances evaluated another subset: its own row
        **({"excluded": feature["excluded_hash"]} if feature.get("excluded_hash") else {}),
    }


def group_key(entry: Entry) -> str:
    """A short hash of :func:`config_identity` (stable across runs and machines)."""
    canonical = json.dumps(config_identity(entry), sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def display_name(group: Mapping[str, Any]) -> str:
    """A group's ``label`` plus what tells it apart from a same-named group."""
    return f"{group['label']} ({group['distinct']})" if group.get("distinct") else group["label"]


def label(entry: Entry) -> str:
    """``model`` or ``model/variant``: how a row is named in tables."""
    variant = entry["model"].get("variant")
    return f"{entry['model']['name']}/{variant}" if variant else entry["model"]["name"]


def _mean(values: Iterable[float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.fmean(present) if present else None


def _std(values: Sequence[float]) -> float | None:
    return statistics.stdev(values) if len(values) > 1 else None


def fold_scores(entries: Sequence[Entry], metric: str) -> dict[tuple[int, str], float]:
    """``(seed, fold name) -> score`` over the group's entries."""
    out = {}
    for entry in entries:
        for fold in entry["folds"]:
            value = fold["metrics"].get(metric)
            if value is not None:
                out[(int(entry["seed"]), fold["name"])] = float(value)
    return out


def aggregate_group(entries: Sequence[Entry], metrics: Sequence[str]) -> dict[str, Any]:
    """Identity, seeds, scores and mean timing of one group (all entries same config)."""
    entries = sorted(entries, key=lambda e: (e["seed"], e["run_id"]))
    first = entries[0]
    scores: dict[str, dict[str, float | None]] = {}
    for metric in metrics:
        pooled = [e["aggregate"]["pooled"].get(metric) for e in entries]
        scores[metric] = {
            "mean": _mean(e["aggregate"]["mean"].get(metric) for e in entries),
            "fold_std": _mean(e["aggregate"]["std"].get(metric) for e in entries),
            "pooled": _mean(pooled),
            "seed_std": _std([float(v) for v in pooled if v is not None]),
        }
    timing: dict[str, Any] = {f: _mean(e["timing"].get(f) for e in entries)
                              for f in TIMING_FIELDS}
    if timing["n_parameters"] is None:
        timing["n_parameters"] = _mean(e["model"].get("n_parameters") for e in entries)
    if timing["n_parameters"] is not None:
        timing["n_parameters"] = int(round(timing["n_parameters"]))
    for field in ("clock", "device_name", "peak_memory_kind", "precision"):
        values = sorted({str(e["timing"].get(field)) for e in entries
                         if e["timing"].get(field) is not None})
        timing[field] = ", ".join(values) if values else None
    model, feature = first["model"], first["feature"]
    tuning = first.get("tuning")
    return {
        "key": group_key(first),
        "label": label(first),
        "model": model["name"], "variant": model.get("variant"),
        "model_version": model["version"], "distribution": model.get("distribution"),
        "distribution_version": model.get("distribution_version"),
        "citation": model.get("citation"),
        "feature": {**{k: feature.get(k) for k in ("name", "version", "params", "normalisation")},
                    **({"n_excluded": feature["n_excluded"]} if "n_excluded" in feature else {})},
        "hyperparameters": model.get("hyperparameters") or {},
        "tuning": tuning,
        "protocol_options": first["protocol"].get("options") or {},
        "run_ids": [e["run_id"] for e in entries],
        "seeds": sorted({int(e["seed"]) for e in entries}),
        "n_folds": max(len(e["folds"]) for e in entries),
        "split_hashes": sorted({str(e["protocol"].get("split_hash")) for e in entries}),
        "test_hashes": sorted({str(e["protocol"].get("test_hash")) for e in entries}),
        "fingerprints": sorted({e["corpus"]["fingerprint"] for e in entries}),
        "scores": scores,
        "timing": timing,
    }


def group_entries(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    """``group_key -> entries`` (insertion order follows the input)."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(group_key(entry), []).append(entry)
    return groups


def _round(value: Any) -> Any:
    """Floats to 4 significant digits (a tuned ``lr`` is not shown with 17 digits)."""
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _show(value: Any) -> str:
    """A field's value as a label shows it: rounded, strings without quotes."""
    value = _round(value)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _flat(group: Mapping[str, Any]) -> dict[str, str]:
    out = {f"{k}": _show(v) for k, v in group["hyperparameters"].items()}
    feature = group["feature"]
    out["features"] = feature["name"]
    out["normalisation"] = str(feature.get("normalisation"))
    out.update({f"feature.{k}": _show(v) for k, v in (feature.get("params") or {}).items()})
    out.update({f"protocol.{k}": _show(v) for k, v in group["protocol_options"].items()})
    tuning = group.get("tuning") or {}
    if tuning.get("study") is not None:  # untuned rows have no study: no "study=None"
        trial = f"#{tuning['trial']}" if tuning.get("trial") is not None else ""
        out["study"] = f"{tuning['study']}{trial}"
    out["excluded"] = str(feature.get("n_excluded") or 0)
    return out


def disambiguate(groups: Sequence[dict[str, Any]]) -> None:
    """Tell apart rows with the same model, variant and version.

    Sets ``group["distinct"]`` (every differing field in full, e.g. ``hidden_size=128,
    normalisation=global``; ``""`` where the label alone is unique), ``group["tag"]`` (a
    short name: ``a``, ``b``, ... in input order, for narrow tables whose legend carries
    ``distinct``) and ``group["config"]`` (every field, for a tooltip).
    """
    by_label: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for g in groups:
        g["distinct"], g["tag"] = "", ""
        g["config"] = ", ".join(f"{k}={v}" for k, v in sorted(_flat(g).items()))
        by_label.setdefault((g["label"], g["model_version"]), []).append(g)
    for same in by_label.values():
        if len(same) < 2:
            continue
        flats = [_flat(g) for g in same]
        keys = sorted({k for f in flats for k in f})
        differing = [k for k in keys if len({f.get(k) for f in flats}) > 1]
        for i, (g, flat) in enumerate(zip(same, flats, strict=True)):
            text = ", ".join(f"{k}={flat.get(k, '-')}" for k in differing)
            g["distinct"] = text or f"#{g['key'][:6]}"
            g["tag"] = chr(ord("a") + i) if i < 26 else str(i + 1)
