"""The sidecar JSON of an exported model: everything a deployment needs to feed it.

Keys: ``format``, ``file``, ``run_id``, ``fold``, ``serbench_version``, ``model`` (name,
version, variant, hyperparameters), ``classes`` (output column order), ``inputs`` and
``outputs`` (names, dtypes, shapes with ``"batch"``/``"time"`` for dynamic axes),
``feature`` (name, version, params, level, dim, names, sample_rate (null: the file's
own rate), trim_silence_db,
backend, how to compute it), ``normalisation`` (mode, mean, std, n_fit, how to apply it)
and ``check`` (the largest difference from torch found when exporting).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

HOW_FEATURES = (
    "Read the audio as float32 mono in [-1, 1] at sample_rate (null: the file's own "
    "rate); when trim_silence_db is set, "
    "trim leading and trailing silence (serbench.features.trimming); extract the feature "
    "with these params (serbench.inference.audio_features.build_extractor rebuilds it)."
)
HOW_NORMALISATION = {
    "none": "Use the features as extracted.",
    "utterance": "z-score each recording's frames with its own mean and std over time "
                 "(a std below 1e-8 counts as 1).",
    "global": "Compute (features - mean) / std with the statistics below, fitted on this "
              "fold's training utterances.",
    "speaker": "Training z-scored each speaker with that speaker's own mean and std. Where "
               "several recordings of one speaker are at hand, do the same with their joint "
               "statistics; for an unknown speaker use (features - mean) / std with the "
               "statistics below, the fold's training utterances pooled.",
}


def sidecar_document(folder: Any, config: Mapping[str, Any], record: Mapping[str, Any],
                     model: Any, fmt: str, path: Path, diff: float, registry: Any) -> dict:
    """The sidecar of ``model`` (a :class:`~serbench.inference.fold_models.FoldModel` of
    ``folder``'s run) exported as ``fmt`` to ``path``; ``diff`` is the export check's."""
    from serbench import __version__
    from serbench.inference.audio_features import build_extractor, recipe_of
    from serbench.inference.statistics import FITTED_MODES, load_fold_statistics

    recipe = recipe_of(config, registry)
    extractor, trim_db = build_extractor(recipe, registry)
    spec = model.meta["input_spec"]
    level, dim = spec["level"], int(spec["feature_dim"])
    normalisation: dict[str, Any] = {"mode": recipe.normalisation,
                                     "how": HOW_NORMALISATION[recipe.normalisation]}
    if recipe.normalisation in FITTED_MODES:
        stats_dir = folder.root / "refit" if model.fold == "refit" else folder.root
        stats = load_fold_statistics(stats_dir, model.fold, dim)
        normalisation.update(mean=stats.mean.tolist(), std=stats.std.tolist(), n_fit=stats.n_fit)
    x_shape: list[Any] = ["batch", "time", dim] if level == "frames" else ["batch", dim]
    return {
        "format": fmt,
        "file": Path(path).name,
        "run_id": folder.run_id,
        "fold": model.fold,
        "serbench_version": __version__,
        "model": {"name": record["model"]["name"], "version": record["model"]["version"],
                  "variant": record["model"].get("variant"), "hyperparameters": model.meta["hparams"]},
        "classes": list(spec.get("classes") or record["corpus"]["classes"]),
        "inputs": {
            "x": {"dtype": "float32", "shape": x_shape,
                  "note": "normalised features" + ("; frames zero-padded after each row's "
                                                   "length" if level == "frames" else "")},
            "lengths": {"dtype": "int64", "shape": ["batch"],
                        "note": ("valid frames per row" if level == "frames" else "all ones")
                        + "; an ONNX graph that never reads it has no such input"},
        },
        "outputs": {"probabilities": {"dtype": "float32", "shape": ["batch", len(spec.get(
            "classes") or record["corpus"]["classes"])], "note": "softmax over classes"}},
        "feature": {"name": recipe.name, "version": recipe.version, "params": recipe.params,
                    "level": level, "dim": dim, "names": list(extractor.names),
                    "sample_rate": extractor.sample_rate, "trim_silence_db": trim_db,
                    "backend": dict(extractor.backend), "how": HOW_FEATURES},
        "normalisation": normalisation,
        "check": {"max_abs_diff": diff, "tolerance": 1e-4,
                  "runtime": "onnxruntime" if fmt == "onnx" else "torch.jit"},
    }
