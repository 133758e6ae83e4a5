"""``serbench explain``: what a trained model attends to, for one test utterance.

The interface a model implements
--------------------------------
A torch model exposes attention through one method (the same interface as
:mod:`serbench.nn.pooling`'s docstring; :func:`serbench.nn.pooling.has_attention_maps`
tests for it)::

    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        '''Map name -> tensor whose first axis is the batch (B).'''

called under ``torch.no_grad()`` in ``eval()`` mode. The shape says what a map is:

- ``(B, T)``: weights over time (an attention-pooling layer's ``alpha_t``), one curve;
- ``(B, K, T)``: K curves over time, e.g. GCA-LSTM's informativeness per iteration
  (RLC Fig. 5b);
- ``(B, H, T, T)``: H square matrices (query step x key step), e.g. the heads of a
  self-attention layer (RLC Fig. 5a); a single head is ``(B, 1, T, T)``.

The last axis of every map spans the whole utterance at the map's own resolution: a
model that downsamples time (RLC's front end strides by 2 five times) returns fewer steps
than the input has frames, and step ``n`` of ``N`` covers input frames
``[n T_in / N, (n + 1) T_in / N)``. Values are zero on padded steps. Names are free-form
(``"frames"``, ``"self_attention/g3u1"``, ``"gca_informativeness"``); ``/`` groups them.
One prefix is reserved: ``"context/prev_self"`` and ``"context/prev_other"`` are ``(B, Ts)``
weights over the frames of that *previous turn* (the batch's ``prev_self_x`` /
``prev_other_x``), not of the current utterance, e.g. IAAN's attention over the speaker's
and the interlocutor's previous turns; ``explain`` labels them with the turn's utt_id.

What ``explain`` does
---------------------
:func:`explain_utterance` finds the fold whose test set holds the utterance (from the
run's predictions), rebuilds that fold's model from ``runs/<run_id>/model_<fold>.pt``
(a plain state dict, loaded with ``weights_only=True``, so a checkpoint carrying any
other pickled object is refused, not run) and ``model_<fold>.json`` (model, version,
input spec, hyperparameters; :mod:`serbench.training.checkpoint`), reads the utterance's features exactly as training did (same feature,
parameters and normalisation fitted on the fold's training utterances; transcript
tokens with the fold's training vocabulary; dialogue context), runs it alone (B = 1) and
returns the maps with what draws them on a time axis: the feature's frame step
(:mod:`serbench.features.frame_step`), the dimension names and, when the audio is on
disk, the utterance's signal (cut and silence-trimmed as the features were).
:func:`draw` (:mod:`serbench.explain_figures`) writes one figure per map.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import ConfigError


@dataclass
class Explanation:
    """The maps of one utterance, with what is needed to draw them."""

    run_id: str
    utt_id: str
    fold: str
    model: str
    variant: str | None
    label: str
    pred: str
    model_pred: str  # the rebuilt model's prediction now (equals ``pred`` when faithful)
    features: np.ndarray  # (T_in, D), as the model read them
    frame_step: float | None  # seconds between input frames, when the feature says
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # batch axis removed
    feature_names: list[str] | None = None  # the D dimension names
    audio: np.ndarray | None = None  # (N,) the utterance's signal, when on disk
    sample_rate: int | None = None
    #: "context/<turn>" map -> (previous turn's utt_id, its input frames (Ts, D))
    context: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)


def _find_fold(folder: Any, utt_id: str) -> dict[str, Any]:
    import polars as pl

    if folder.predictions_path.is_file():
        frame = pl.read_parquet(folder.predictions_path)
    else:
        parts = sorted(folder.folds_dir.glob("*.parquet")) if folder.folds_dir.is_dir() else []
        if not parts:
            raise ConfigError(f"run {folder.run_id} has no finished fold yet; wait for one to finish")
        frame = pl.concat([pl.read_parquet(p) for p in parts])
    rows = frame.filter(pl.col("utt_id") == utt_id)
    if rows.height == 0:
        examples = ", ".join(frame["utt_id"].head(5).to_list())
        raise ConfigError(
            f"utterance {utt_id!r} is in no finished fold's test set of run {folder.run_id}; "
            f"test utterances are e.g. {examples}"
        )
    return rows.row(0, named=True)


def _run_config(config: Mapping[str, Any], fold: str) -> Any:
    from serbench.run.config import RunConfig

    ident = config["identity"]
    return RunConfig(
        model=ident["model"]["name"], variant=ident["model"]["variant"],
        corpus=ident["corpus"]["name"], data=config.get("data"),
        corpus_options=ident["corpus"]["options"], label_map=ident["corpus"]["label_map"],
        protocol=ident["protocol"]["name"], protocol_options=ident["protocol"]["options"],
        feature=ident["feature"]["name"], feature_params=ident["feature"]["params"],
        normalisation=ident["feature"]["normalisation"], seed=ident["seed"], device="cpu",
        folds=[fold],
    )


def _item(res: Any, fold: Any, table: Any, utt_id: str, spec: Any, hparams: Mapping) -> dict:
    """The dataset item of ``utt_id`` as :class:`serbench.data.dataset.UtteranceDataset`
    builds it during training (plus ``context_ids``: previous turn -> its utt_id)."""
    index = {c: i for i, c in enumerate(res.classes)}
    label = res.manifest.filter(res.manifest["utt_id"] == utt_id)["label"].item()
    item: dict[str, Any] = {"utt_id": utt_id, "x": np.asarray(table[utt_id], dtype=np.float32),
                            "targets": {"emotion": index[label]}}
    if "tokens" in spec.inputs:
        # the same vocabulary as training: fitted on the fold's training transcripts
        from serbench.training.fold import _tokens

        item["tokens"] = _tokens(res.manifest, fold, [utt_id], hparams)[0][utt_id]
    if "context" in spec.inputs:
        from serbench.data.context import context_lookup

        ref = context_lookup(res.corpus.manifest, [utt_id], model=spec.name,
                             allow_empty_context=bool(hparams.get("allow_empty_context", False)))[utt_id]
        item["context_ids"] = {}
        for name, other in (("prev_self", ref.prev_self), ("prev_other", ref.prev_other)):
            item[name] = (np.asarray(table[other], dtype=np.float32)
                          if other is not None and other in table else None)
            if item[name] is not None:
                item["context_ids"][name] = str(other)
    return item


def _audio(manifest: Any, utt_id: str, params: Mapping[str, Any],
           feature: str) -> tuple[np.ndarray | None, int | None]:
    """The utterance's signal as the features saw it (segment cut, silence trimmed), or
    (None, None) when the file is not on disk or unreadable: the figure then shows the
    input features instead of a spectrogram."""
    from serbench.audio import read_audio
    from serbench.errors import SerbenchError
    from serbench.features.trimming import trim_silence, trim_threshold

    row = manifest.filter(manifest["utt_id"] == utt_id).row(0, named=True)
    if not row.get("path") or not Path(str(row["path"])).is_file():
        return None, None

    def seconds(value: Any) -> float | None:
        return None if value is None or value != value else float(value)  # NaN: not set

    try:
        signal, rate = read_audio(row["path"], start=seconds(row.get("start")),
                                  end=seconds(row.get("end")))
    except SerbenchError:
        return None, None
    trim_db = trim_threshold(params, feature)
    return (trim_silence(signal, rate, trim_db) if trim_db is not None else signal), rate


def _input_spec(doc: Mapping[str, Any]) -> Any:
    """The :class:`InputSpec` of a checkpoint's JSON (lists back to tuples)."""
    from serbench.data.batch import InputSpec

    return InputSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in doc.items()})


def explain_utterance(run: str | Path, utt_id: str, *, runs_dir: Path | None = None,
                      registry: Any = None, features: Any = None) -> Explanation:
    """Rebuild the model that tested ``utt_id`` in ``run`` and collect its attention maps.

    Args:
        run: a run id (or unique prefix) under ``runs_dir``, a run folder or its record.json.
        utt_id: an utterance of one of the run's test sets.
        runs_dir: root of run folders (default ``SERBENCH_RUNS`` or ``./runs``).
        registry: the installed plugins (default: :func:`serbench.plugins.get_registry`).
        features: the run's feature table, already loaded (as ``run_experiment``'s
            ``features``); default: read through the feature cache.
    Raises:
        ConfigError: unknown run or utterance, missing weights, or a model without maps.
    """
    import torch

    from serbench.data.dataset import collate
    from serbench.features.cache import load_features
    from serbench.features.frame_step import frame_step
    from serbench.features.normalise import normalise
    from serbench.lazy import resolve
    from serbench.nn.pooling import has_attention_maps
    from serbench.plugins import get_registry
    from serbench.run.folder import locate_run
    from serbench.run.resolve import resolve_run
    from serbench.training.checkpoint import load_checkpoint

    registry = registry or get_registry()
    folder = locate_run(run, runs_dir)
    row = _find_fold(folder, utt_id)
    fold_name = str(row["fold"])
    weights = folder.checkpoint_path(fold_name)
    if not weights.is_file():
        raise ConfigError(
            f"run {folder.run_id} has no weights for fold {fold_name!r} ({weights}); only torch "
            "models save them. Re-run it with this serbench to get model_<fold>.pt files."
        )
    # weights_only: a received run folder must never run code (a pickled payload is refused)
    state_dict, checkpoint = load_checkpoint(weights)
    spec = registry.model(checkpoint["model"])
    if spec.version != checkpoint.get("version", spec.version):
        raise ConfigError(
            f"{weights} holds {spec.name} version {checkpoint.get('version')}, but version "
            f"{spec.version} is installed; install the version the run used"
        )
    config = folder.read_json(folder.config_path)
    res = resolve_run(_run_config(config, fold_name), registry)
    if res.fingerprint != config["identity"]["corpus"]["fingerprint"]:
        raise ConfigError(
            f"the corpus {res.corpus_entry.spec.name!r} on disk differs from the one run "
            f"{folder.run_id} used (fingerprint {res.fingerprint} != "
            f"{config['identity']['corpus']['fingerprint']}); point --data at the original"
        )
    fold = next(f for f in res.folds if f.name == fold_name)
    manifest = res.corpus.manifest if "context" in spec.inputs else res.manifest
    if features is None:
        features = load_features(manifest, res.feature_entry.spec.name,
                                 params=res.feature_params, fingerprint=res.fingerprint,
                                 registry=registry, progress=False)
    table = normalise(features, manifest, res.normalisation, fold.train)
    hparams = checkpoint["hparams"]
    item = _item(res, fold, table, utt_id, spec, hparams)
    net = resolve(spec.builder)(_input_spec(checkpoint["input_spec"]), hparams)
    net.load_state_dict(state_dict)
    net.eval()
    if not has_attention_maps(net):
        raise ConfigError(
            f"model {spec.name!r} exposes no attention maps: it has no "
            "attention_maps(batch) method (see serbench.explain)"
        )
    context_ids = item.pop("context_ids", {})
    batch = collate([item], table.level)
    with torch.no_grad():
        maps = net.attention_maps(batch)
        out = net(batch)
    logits = out["emotion"] if isinstance(out, Mapping) else out
    params = {**dict(res.feature_entry.spec.default_params), **dict(res.feature_params)}
    step = frame_step(res.feature_entry.spec, params)
    audio, rate = _audio(manifest, utt_id, params, res.feature_entry.spec.name)
    return Explanation(
        run_id=folder.run_id, utt_id=utt_id, fold=fold_name, model=spec.name,
        variant=res.variant, label=str(row["label"]), pred=str(row["pred"]),
        model_pred=res.classes[int(logits.argmax(-1)[0])],
        features=item["x"], frame_step=step,
        maps={name: m.detach().cpu().numpy()[0] for name, m in maps.items()},
        feature_names=list(table.names), audio=audio, sample_rate=rate,
        context={f"context/{turn}": (other, item[turn]) for turn, other in context_ids.items()},
    )


def draw(e: Explanation, out_dir: Path, *, style: Any = None) -> list[Path]:
    """One figure per map of ``e`` in ``out_dir`` (see
    :func:`serbench.explain_figures.draw`); returns the files written."""
    from serbench.explain_figures import draw as draw_figures

    return draw_figures(e, out_dir, style=style)
