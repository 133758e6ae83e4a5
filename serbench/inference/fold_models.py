"""The trained models of a finished run, rebuilt from their safe checkpoints.

Each fold's model is rebuilt from ``model_<fold>.pt`` (a plain state dict, read with
``torch.load(weights_only=True)`` through :func:`serbench.training.checkpoint.load_checkpoint`,
so a file holding any other pickled object is refused, never run) and
``model_<fold>.json`` (model, version, input spec, hyperparameters). A model refitted on
all the run's data (``refit/model.pt``) is the same kind of checkpoint.

scikit-learn runs keep no estimator: its only serialisation is pickle, which would make
opening a shared run folder run code, so they cannot predict (their scores are in the
run's predictions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError

#: inputs a model may read beyond the acoustic features, and what they need
AUDIO_ONLY_REFUSALS = {
    "tokens": "a transcript of each recording (its 'tokens' input)",
    "context": "the previous turns of the dialogue (its 'context' input)",
}


@dataclass
class FoldModel:
    """One rebuilt model in ``eval()`` mode.

    Attributes:
        fold: the fold's name (``"refit"`` for a refitted model).
        net: the torch module; ``net(batch)`` gives (B, C) logits or ``{"emotion": ...}``.
        meta: the checkpoint's JSON (model, version, input_spec, hparams).
        weights: the ``.pt`` file it was read from.
    """

    fold: str
    net: Any
    meta: dict[str, Any]
    weights: Path


def run_summary(run: str | Path, runs_dir: Path | None = None) -> tuple[Any, dict, dict]:
    """(RunFolder, config.json, record.json) of a finished run.

    Raises:
        ConfigError: no such run, or the run has not finished (no record.json).
    """
    from serbench.run.folder import locate_run

    folder = locate_run(run, runs_dir)
    if not folder.is_complete():
        raise ConfigError(f"run {folder.run_id} has not finished (no {folder.record_path.name} "
                          f"in {folder.root}); complete it with `serbench run ... --resume`")
    return folder, folder.read_config(), folder.read_record()


def check_usable(record: Mapping[str, Any], registry: Any) -> Any:
    """The run's registered model spec, once its model can be used on audio files alone.

    Raises:
        ConfigError: a scikit-learn model (no stored estimator), a fused run, a model
            reading transcripts or dialogue context, or a model version other than the
            installed one.
    """
    model = record["model"]
    if model["name"] == "fusion":
        raise ConfigError(f"run {record['run_id']} is a score fusion of two runs; predict with "
                          "each of them instead")
    if model.get("framework") == "sklearn":
        raise ConfigError(
            f"run {record['run_id']} trained the scikit-learn model {model['name']!r}, whose "
            "fitted estimators are not kept: scikit-learn can only save them with pickle, and "
            "opening a run folder must never run code. Use a torch model's run, or its scores "
            "in predictions.parquet."
        )
    spec = registry.model(model["name"])
    if spec.version != model["version"]:
        raise ConfigError(f"run {record['run_id']} used {spec.name} version {model['version']}, "
                          f"but version {spec.version} is installed; install that version")
    needs = [AUDIO_ONLY_REFUSALS[i] for i in spec.inputs if i in AUDIO_ONLY_REFUSALS]
    if needs:
        raise ConfigError(f"model {spec.name!r} needs {' and '.join(needs)}, which audio files "
                          "alone do not give; predict/export handle acoustic-only models")
    return spec


def build_model(weights: Path, spec: Any, fold: str) -> FoldModel:
    """Rebuild one checkpoint as a :class:`FoldModel` (CPU, ``eval()`` mode).

    Raises:
        ConfigError: a missing or unsafe checkpoint, or one of another model or version.
    """
    from serbench.data.batch import InputSpec
    from serbench.lazy import resolve
    from serbench.training.checkpoint import load_checkpoint

    if not Path(weights).is_file():
        raise ConfigError(f"{weights} is missing: the run kept no weights for fold {fold!r}. "
                          "Re-run it with this serbench to save model_<fold>.pt files.")
    state, meta = load_checkpoint(weights)  # weights_only=True: never unpickles code
    if meta["model"] != spec.name or meta.get("version", spec.version) != spec.version:
        raise ConfigError(f"{weights} holds {meta['model']} version {meta.get('version')}, not "
                          f"the run's {spec.name} version {spec.version}")
    # JSON turned the spec's tuples into lists
    input_spec = InputSpec(**{k: tuple(v) if isinstance(v, list) else v
                              for k, v in meta["input_spec"].items()})
    net = resolve(spec.builder)(input_spec, meta["hparams"])
    net.load_state_dict(state)
    net.eval()
    return FoldModel(fold, net, meta, Path(weights))


def load_models(folder: Any, record: Mapping[str, Any], spec: Any,
                folds: Sequence[str] | None = None, *, use_refit: bool = True) -> list[FoldModel]:
    """The models to predict with: the refitted model when ``use_refit`` and the run has
    one (``refit/model.pt``), else every fold's model (or those named in ``folds``).

    Raises:
        ConfigError: a fold name the run does not have, or a missing checkpoint.
    """
    refit = folder.root / "refit" / "model.pt"
    if use_refit and folds is None and refit.is_file():
        return [build_model(refit, spec, "refit")]
    names = [f["name"] for f in record["folds"]]
    chosen = list(folds) if folds else names
    unknown = [f for f in chosen if f not in names]
    if unknown:
        raise ConfigError(f"run {folder.run_id} has no fold {unknown[0]!r}; its folds are "
                          f"{', '.join(names)}")
    return [build_model(folder.checkpoint_path(f), spec, f) for f in chosen]
