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

What ``explain`` does
---------------------
:func:`explain_utterance` finds the fold whose test set holds the utterance (from the
run's predictions), rebuilds that fold's model from ``runs/<run_id>/model_<fold>.pt``
(a plain state dict, loaded with ``weights_only=True``, so a checkpoint carrying any
other pickled object is refused, not run) and ``model_<fold>.json`` (model, version,
input spec, hyperparameters; :mod:`serbench.training.checkpoint`), reads the utterance's features exactly as training did (same feature,
parameters and normalisation fitted on the fold's training utterances; transcript
tokens with the fold's training vocabulary; dialogue context), runs it alone (B = 1) and
returns the maps; :func:`draw` writes one PNG per map (matplotlib, Agg backend).
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
    builds it during training."""
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
        for name, other in (("prev_self", ref.prev_self), ("prev_other", ref.prev_other)):
            item[name] = (np.asarray(table[other], dtype=np.float32)
                          if other is not None and other in table else None)
    return item


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
    batch = collate([item], table.level)
    with torch.no_grad():
        maps = net.attention_maps(batch)
        out = net(batch)
    logits = out["emotion"] if isinstance(out, Mapping) else out
    params = {**dict(res.feature_entry.spec.default_params), **dict(res.feature_params)}
    step = params.get("frame_step")
    return Explanation(
        run_id=folder.run_id, utt_id=utt_id, fold=fold_name, model=spec.name,
        variant=res.variant, label=str(row["label"]), pred=str(row["pred"]),
        model_pred=res.classes[int(logits.argmax(-1)[0])],
        features=item["x"], frame_step=float(step) if step else None,
        maps={name: m.detach().cpu().numpy()[0] for name, m in maps.items()},
    )


def _extent(e: Explanation) -> tuple[float, str]:
    frames = e.features.shape[0] if e.features.ndim == 2 else 1
    return (frames * e.frame_step, "time (s)") if e.frame_step else (float(frames), "input frame")


def _curves_axis(ax: Any, values: np.ndarray, extent: float, label_fmt: str) -> None:
    n = values.shape[-1]
    t = (np.arange(n) + 0.5) * extent / n
    for k, row in enumerate(np.atleast_2d(values)):
        ax.plot(t, row, marker="o" if n <= 60 else None, ms=3, label=label_fmt.format(k + 1))
    ax.set_xlim(0, extent)
    ax.grid(alpha=0.3)


def draw(e: Explanation, out_dir: Path) -> list[Path]:
    """One PNG per map in ``out_dir``: curves under the input features, or a grid of
    head matrices. Returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    extent, unit = _extent(e)
    title = (f"{e.model}{'/' + e.variant if e.variant else ''} · {e.utt_id} · fold {e.fold} · "
             f"label {e.label}, predicted {e.pred}")
    written = []
    for name, values in e.maps.items():
        path = out_dir / f"{name.replace('/', '_')}.png"
        if values.ndim == 3:  # (H, T, T): one matrix per head
            heads = values.shape[0]
            fig, axes = plt.subplots(1, heads, figsize=(3.6 * heads + 0.6, 4), squeeze=False)
            for h, ax in enumerate(axes[0]):
                # one colour scale over the heads, from the data (near-uniform weights
                # would look flat on a 0-based scale); brighter = more attention (Fig. 5a)
                im = ax.imshow(values[h], origin="lower", cmap="magma", aspect="equal",
                               extent=(0, extent, 0, extent), vmin=float(values.min()),
                               vmax=float(values.max()))
                ax.set_title(f"head {h + 1}")
                ax.set_xlabel(f"key {unit}")
                ax.set_ylabel(f"query {unit}" if h == 0 else "")
            fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="attention weight")
        else:  # (T,) or (K, T): curves over time, under the input features
            fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True,
                                              gridspec_kw={"height_ratios": [1, 1.2]})
            feats = e.features if e.features.ndim == 2 else e.features[None]
            top.imshow(feats.T, origin="lower", aspect="auto", cmap="viridis",
                       extent=(0, extent, 0, feats.shape[1]))
            top.set_ylabel("feature dim")
            top.set_title("input features (normalised)")
            is_gca = "informativeness" in name
            _curves_axis(bottom, values, extent, "iteration {}" if is_gca else "row {}")
            bottom.set_xlabel(unit)
            bottom.set_ylabel("informativeness r_n" if is_gca else "weight")
            if values.ndim == 2 and values.shape[0] > 1:
                bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        fig.suptitle(f"{name}\n{title}", fontsize=9)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written
