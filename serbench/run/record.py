"""The run record (docs/run-record.md): its identity, its fold entries and the whole.

Pure functions of plain data; the pipeline decides when to call them.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from serbench.components import ModelSpec
from serbench.protocols.api import is_speaker_independent
from serbench.protocols.base import Fold
from serbench.run.environment import git_commit, library_versions, serbench_version
from serbench.run.resolve import Resolved
from serbench.training.config import TrainingConfig

SCHEMA_VERSION = 1

#: timing figures averaged over folds into the record's ``timing``
_MEAN_TIMING = ("train_seconds_per_epoch", "inference_latency_ms", "throughput_utt_per_s")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def identity(res: Resolved) -> dict[str, Any]:
    """Everything that changes a score: hashed into the run id, checked on ``--resume``.

    Not in it: the device, the data's absolute path (the fingerprint covers the
    content), serbench's and the libraries' versions (recorded, not compared).
    """
    spec = res.spec
    ident = {
        "model": {"name": spec.name, "version": spec.version, "variant": res.variant},
        "hyperparameters": res.hparams,
        "corpus": {
            "name": res.corpus_entry.spec.name,
            "version": res.corpus_entry.spec.version,
            "fingerprint": res.fingerprint,
            "label_map": res.label_map,
            "options": res.corpus_options,
        },
        "protocol": {
            "name": res.protocol_entry.spec.name,
            "version": res.protocol_entry.spec.version,
            "options": res.protocol_options,
            "split_hash": res.split_hash,
            "folds": [f.name for f in res.folds],
        },
        "feature": {
            "name": res.feature_entry.spec.name,
            "version": res.feature_entry.spec.version,
            "params": res.feature_params,
            "normalisation": res.normalisation,
        },
        "seed": res.config.seed,
    }
    if res.cross_corpus is not None:  # the test corpus and its label map change the score
        from serbench.crosscorpus.record import cross_identity

        ident["cross_corpus"] = cross_identity(res.cross_corpus)
    return ident


def config_hash(ident: Mapping[str, Any]) -> str:
    text = json.dumps(ident, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def run_prefix(res: Resolved) -> str:
    """``<model>[-<variant>]-<corpus>-<protocol>-s<seed>``."""
    parts = [res.spec.name] + ([res.variant] if res.variant else [])
    corpus = res.cross_corpus.pair if res.cross_corpus is not None else res.corpus_entry.spec.name
    parts += [corpus, res.protocol_entry.spec.name, f"s{res.config.seed}"]
    return "-".join(parts)


def make_run_id(res: Resolved, ident: Mapping[str, Any]) -> str:
    return f"{run_prefix(res)}-{config_hash(ident)}"


def config_document(res: Resolved, run_id: str, ident: Mapping[str, Any]) -> dict[str, Any]:
    """config.json: the identity plus what was asked and where each setting came from."""
    return {
        "run_id": run_id,
        "identity": dict(ident),
        "device_requested": res.config.device,
        "data": str(res.data) if res.data is not None else None,
        "sources": res.sources,
        "max_epochs_override": res.config.max_epochs,
        "tuning": dict(res.config.tuning) if res.config.tuning else None,
        "created": now_iso(),
        **({"cross_corpus_data": {  # the identity has no paths; --config needs them
            "test_data": str(res.cross_corpus.test.data) if res.cross_corpus.test.data else None,
            "extra_corpora": [f"{p.corpus.name}={p.data}" if p.data else p.corpus.name
                              for p in res.cross_corpus.train[1:]]}} if res.cross_corpus else {}),
    }


def fold_entry(
    fold: Fold, res: Resolved, outcome: Any, metrics: Mapping[str, Any]
) -> dict[str, Any]:
    """One element of the record's ``folds`` (also the content of ``folds/<fold>.json``)."""
    speaker_of = dict(
        zip(res.manifest["utt_id"].to_list(), res.manifest["speaker"].to_list(), strict=True)
    )

    def speakers(ids: Sequence[str]) -> list[str]:
        return sorted({str(speaker_of[u]) for u in ids if u in speaker_of})

    timing = dict(outcome.timing)
    return {
        "name": fold.name,
        "n_train": len(fold.train),
        "n_valid": len(fold.valid),
        "n_test": len(fold.test),
        "train_speakers": speakers(fold.train),
        "valid_speakers": speakers(fold.valid),
        "test_speakers": speakers(fold.test),
        "metrics": dict(metrics),
        "best_epoch": outcome.best_epoch,
        "epochs_run": outcome.epochs_run,
        "stopped_early": bool(outcome.stopped_early),
        "curve": [dict(point) for point in (outcome.curve or [])],
        "timing": timing,
        **({"selection": dict(outcome.selection)} if getattr(outcome, "selection", None)
           else {}),
    }


def aggregate_timing(folds: Sequence[Mapping[str, Any]], device: str) -> dict[str, Any]:
    """The record's ``timing``: per-fold figures averaged, the peak memory maximised."""
    timings = [f.get("timing") or {} for f in folds]

    def mean(key: str) -> float | None:
        values = [t[key] for t in timings if t.get(key) is not None]
        return float(statistics.fmean(values)) if values else None

    first = timings[0] if timings else {}
    clock = first.get("clock") or ("cuda_events" if device == "cuda" else "cpu_monotonic")
    peaks = [t["peak_memory_mb"] for t in timings if t.get("peak_memory_mb") is not None]
    params = [t["n_parameters"] for t in timings if t.get("n_parameters") is not None]
    out: dict[str, Any] = {"clock": clock, "device": device, "device_name": first.get("device_name")}
    if first.get("precision") is not None:  # torch folds; absent from older records
        out["precision"] = first["precision"]
    out.update({key: mean(key) for key in _MEAN_TIMING})
    if any(t.get("data_wait_share") is not None for t in timings):
        out["data_wait_share"] = mean("data_wait_share")
    out["n_parameters"] = max(params) if params else None
    out["peak_memory_mb"] = max(peaks) if peaks else None
    out["peak_memory_kind"] = first.get("peak_memory_kind") or (
        "cuda_max_allocated" if clock == "cuda_events" else "process_rss"
    )
    return out


def search_space_repr(spec: Any) -> dict[str, str] | None:
    """The model's declarative search space, as ``{name: repr(distribution)}``."""
    if spec.search_space is None:
        return None
    from serbench.lazy import resolve

    space = resolve(spec.search_space)()
    return {name: repr(dist) for name, dist in space.items()}


def build_record(
    res: Resolved,
    run_id: str,
    *,
    command: Sequence[str],
    created: str,
    folds: Sequence[Mapping[str, Any]],
    aggregate: Mapping[str, Any],
    features: Any,
    predictions: Any = None,
) -> dict[str, Any]:
    """The complete record, keys in the order of docs/run-record.md; ``predictions``
    (the run's test prediction rows) gives ``single_class`` (None without them)."""
    from serbench.run.collapse import single_class, single_class_warnings

    spec, model = res.spec, res.model
    collapsed = (single_class(predictions, [f["name"] for f in folds])
                 if predictions is not None else None)
    corpus_spec, protocol_spec = res.corpus_entry.spec, res.protocol_entry.spec
    info = features.info() if hasattr(features, "info") else {}
    timing = aggregate_timing(folds, res.device)
    notes = {fold.note for fold in res.folds if fold.note}
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "status": "complete",
        "created": created,
        "command": list(command),
        "serbench_version": serbench_version(),
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "corpus": {
            "name": corpus_spec.name,
            "version": corpus_spec.version,
            "fingerprint": res.fingerprint,
            "label_map": res.label_map,
            "classes": list(res.classes),
            "n_utterances": res.manifest.height,
            "n_speakers": res.manifest["speaker"].n_unique(),
            "options": res.corpus_options,
            "data": str(res.data) if res.data is not None else None,
        },
        "protocol": {
            "name": protocol_spec.name,
            "version": protocol_spec.version,
            "options": res.protocol_options,
            "split_hash": res.split_hash,
            "n_folds": len(res.folds),
            # measured on these folds: kfold grouped by speaker is independent, say
            "speaker_independent": is_speaker_independent(res.manifest, res.folds),
            "note": " ".join(sorted(notes)),
            "folds_selected": (
                [f.name for f in res.folds] if len(res.folds) < len(res.all_fold_names) else None
            ),
        },
        "feature": {
            "name": res.feature_entry.spec.name,
            "version": res.feature_entry.spec.version,
            "params": res.feature_params,
            "level": getattr(features, "level", res.feature_entry.spec.level),
            "dim": getattr(features, "dim", None),
            "normalisation": res.normalisation,
            # --normalisation, the model's preferred, or serbench's default (which
            # depends on the corpus's speakers): a reader can tell a choice from a default
            "normalisation_source": res.sources.get("normalisation"),
            "backend": dict(info.get("backend") or {}) or None,
            # utterances the extractor excluded (with reasons) and their hash: the
            # leaderboard keeps a run on a smaller subset apart from a clean one
            "excluded": dict(sorted((info.get("excluded") or {}).items())),
            "excluded_hash": excluded_hash(info.get("excluded") or {}),
        },
        "model": {
            "name": spec.name,
            "version": spec.version,
            "variant": res.variant,
            "framework": spec.framework,
            "plugin": model.plugin,
            "distribution": model.distribution,
            "distribution_version": model.distribution_version,
            "hyperparameters": res.hparams,
            "search_space": search_space_repr(spec),
            "n_parameters": timing["n_parameters"],
            "citation": spec.citation,
        },
        "training": {
            "seed": res.config.seed,
            "device": res.device,
            # CPU runs repeat exactly under a seed; CUDA kernels may not
            "deterministic": res.device == "cpu",
            # timings depend on it: on a shared 2-core machine one thread can be 5x faster
            "cpu_threads": _cpu_threads(),
            "config": _training_config(spec, res.hparams) if spec.framework == "torch" else None,
        },
        "tuning": dict(res.config.tuning) if res.config.tuning else None,
        "folds": [dict(f) for f in folds],
        "aggregate": dict(aggregate),
        # test predictions that use one class only (serbench.run.collapse)
        "single_class": collapsed,
        "timing": timing,
        "warnings": run_warnings(res, info) + single_class_warnings(
            collapsed, len(folds), predictions.height if predictions is not None else 0),
    }


def excluded_hash(excluded: Mapping[str, Any]) -> str | None:
    """16 hex digits of the sorted excluded utterance ids; ``None`` when none was."""
    if not excluded:
        return None
    return hashlib.sha256(json.dumps(sorted(excluded)).encode()).hexdigest()[:16]


def run_warnings(res: Resolved, feature_info: Mapping[str, Any]) -> list[str]:
    """The record's ``warnings``: what shifts this run's scores without being an error
    (rows left out by the corpus, tiny or class-less test folds, utterances the feature
    extractor excluded)."""
    warnings = list(res.warnings)
    excluded = feature_info.get("excluded") or {}
    if excluded:
        warnings.append(f"{len(excluded)} utterance(s) excluded by the feature extractor "
                        "and left out of every fold (unreadable audio or no finite "
                        "features).")
    return warnings


def _training_config(spec: ModelSpec, hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The training configuration a torch run used; ``task_weights`` are the loss weights
    it trained with (the model spec's merged with overrides), not the overrides alone."""
    config = TrainingConfig.from_hparams(hparams)
    return {**config.to_dict(),
            "task_weights": config.effective_task_weights(spec.task_weights)}


def _cpu_threads() -> int:
    """Threads torch uses for CPU ops in this process (OMP_NUM_THREADS / set_num_threads)."""
    import torch

    return int(torch.get_num_threads())
