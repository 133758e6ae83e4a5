"""From :class:`RunConfig` to everything a run needs, checked before any training.

Resolution order for each setting (first hit wins):

1. the explicit value (CLI flag / ``RunConfig`` field),
2. the model variant (``ModelSpec.variants[variant]``),
3. the model defaults (``ModelSpec.defaults``),
4. the model's ``preferred`` paper protocol (``feature``, ``feature_params``,
   ``label_map``, ``protocol``, ``protocol_options``, ``normalisation``; a nested
   ``preferred[<corpus name>]`` mapping wins over the flat keys for that corpus),
5. the corpus's defaults (label map, protocol, per-protocol options),
6. serbench's defaults (feature: ``ModelSpec.default_feature``; normalisation:
   ``speaker`` where the experiment's manifest has several speakers, else ``global``:
   :func:`default_normalisation`).

A preferred label map the corpus does not define, or a preferred protocol no plugin
registers, is skipped (it is a preference, not a demand); an explicit one is an error.

Every bad input stops here with a message naming the cause: unknown names (with a
did-you-mean), a missing ``--data`` path, bad manifest rows, a label map leaving a class
empty, a fold with no test utterances, a dialogue-context model on a corpus without
dialogues (:func:`serbench.data.context.require_context_columns`), an unknown variant, an unknown ``--set`` key or
a ``--set`` value outside the hyperparameter's declared type and range
(:mod:`serbench.hyperparameters`), an unknown ``--feature-param`` name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from serbench.components import ModelSpec
from serbench.corpora.base import Corpus
from serbench.errors import ConfigError
from serbench.plugins import Registered, Registry
from serbench.protocols.base import Fold, split_hash
from serbench.run.config import RunConfig
from serbench.run.fold_checks import check_folds
from serbench.run.model_hparams import (
    inner_folds_fallback,
    resolve_hparams,
    resolve_variant,
)
from serbench.training.config import TrainingConfig

NORMALISATIONS = ("none", "utterance", "speaker", "global")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class Resolved:
    """A fully resolved, checked run (no training has happened yet).

    ``sources`` says where each setting came from (``"--protocol"``, ``"variant"``,
    ``"model defaults"``, ``"model preferred"``, ``"corpus default"``, ``"serbench default"``).
    """

    config: RunConfig
    model: Registered
    variant: str | None
    hparams: dict[str, Any]
    corpus_entry: Registered
    corpus: Corpus
    data: Path | None
    corpus_options: dict[str, Any]
    label_map: str
    classes: list[str]
    manifest: pl.DataFrame
    fingerprint: str
    protocol_entry: Registered
    protocol_options: dict[str, Any]
    folds: list[Fold]
    all_fold_names: list[str]
    split_hash: str
    feature_entry: Registered
    feature_params: dict[str, Any]
    normalisation: str
    device: str
    sources: dict[str, str] = field(default_factory=dict)
    #: what shifts results without being an error (rows left out, tiny test folds)
    warnings: list[str] = field(default_factory=list)
    #: a cross-corpus run's corpora (``--test-corpus``; :mod:`serbench.crosscorpus`), else None
    cross_corpus: Any = None

    @property
    def spec(self) -> ModelSpec:
        return self.model.spec


def _model_layers(spec: ModelSpec, variant: str | None, corpus: str) -> list[tuple[str, Mapping]]:
    """The settings layers below the explicit config, highest priority first."""
    preferred = dict(spec.preferred)
    per_corpus = preferred.pop(corpus, None)
    layers: list[tuple[str, Mapping]] = []
    if variant is not None:
        layers.append((f"variant {variant!r}", spec.variants[variant]))
    layers.append(("model defaults", spec.defaults))
    if isinstance(per_corpus, Mapping):
        layers.append((f"model preferred ({corpus})", per_corpus))
    layers.append(("model preferred", preferred))
    return layers


def _pick(
    name: str,
    explicit: Any,
    flag: str,
    layers: list[tuple[str, Mapping]],
    sources: dict[str, str],
    accept=lambda value: True,
) -> Any:
    """The first value for ``name`` among explicit > layers that ``accept`` allows."""
    if explicit is not None:
        sources[name] = flag
        return explicit
    for where, layer in layers:
        if layer.get(name) is not None and accept(layer[name]):
            sources[name] = where
            return layer[name]
    return None


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available else ``cpu``; ``cuda`` without a GPU is an error
    (:func:`serbench.training.device.resolve_device`, as a device type name)."""
    if device not in DEVICES:
        raise ConfigError(f"--device {device!r}: choose one of {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"  # without importing torch
    from serbench.training.device import resolve_device as torch_device

    return torch_device(device).type


def default_normalisation(manifest: pl.DataFrame) -> tuple[str, str]:
    """``(normalisation, source)`` for a model that declares none: per-speaker statistics
    where the experiment has several speakers (worth far more than global statistics on
    real speech, where speaker differences dominate the features), else ``global``."""
    speakers = manifest["speaker"].drop_nulls().n_unique() if "speaker" in manifest.columns else 0
    if speakers > 1:
        return "speaker", f"serbench default (the model declares none; {speakers} speakers)"
    return "global", "serbench default (the model declares none; one speaker)"


def resolve_run(config: RunConfig, registry: Registry) -> Resolved:
    """Check names, load the corpus, build the manifest and folds; raise on bad input."""
    from serbench.corpora.api import corpus_fingerprint, experiment_manifest, load_corpus
    from serbench.data.context import require_context_columns
    from serbench.features.params import check_feature_params
    from serbench.protocols._common import small_fold_warnings
    from serbench.protocols.api import make_folds

    model = registry.lookup("model", config.model)
    spec: ModelSpec = model.spec
    if config.corpus == "synthetic" and "synthetic" not in registry.names("corpus"):
        raise ConfigError(
            "the default corpus 'synthetic' is not registered (is the synthetic corpus "
            "plugin installed, or disabled by SERBENCH_DISABLE_PLUGINS?). Run on your own "
            "data instead: --corpus manifest --data manifest.csv. Known corpora: "
            + ", ".join(registry.names("corpus"))
        )
    corpus_entry = registry.lookup("corpus", config.corpus)
    variant = resolve_variant(spec, config.variant)
    hparams = resolve_hparams(spec, variant, config.overrides, config.max_epochs)
    device = resolve_device(config.device)
    if spec.framework == "torch":  # an unusable --precision stops here, before any work
        import torch

        from serbench.training.precision import check_precision

        check_precision(TrainingConfig.from_hparams(hparams).precision, torch.device(device))
    from serbench.crosscorpus.resolve import check_cross_config

    check_cross_config(config, spec)  # before any corpus is loaded
    layers = _model_layers(spec, variant, config.corpus)
    sources: dict[str, str] = {}

    feature = _pick("feature", config.feature, "--feature", layers, sources,
                    accept=lambda f: f in registry.names("feature"))
    if feature is None:
        feature, sources["feature"] = spec.default_feature, "model default_feature"
    feature_entry = registry.lookup("feature", feature)
    feature_params = dict(getattr(feature_entry.spec, "default_params", {}) or {})
    if config.feature is None or config.feature == feature:
        for where, layer in reversed(layers):
            if isinstance(layer.get("feature_params"), Mapping) and (
                layer.get("feature") in (None, feature)
            ):
                feature_params.update(layer["feature_params"])
                sources["feature_params"] = where
    check_feature_params(feature_entry.spec, config.feature_params)  # before any loading
    feature_params.update(config.feature_params)
    from serbench.features.waveform import waveform_feature_params

    # a waveform model's audio is resampled to its own rate; other pairings are refused
    feature_params = waveform_feature_params(spec, hparams, feature_entry.spec, feature_params,
                                             config.feature_params)

    normalisation = _pick("normalisation", config.normalisation, "--normalisation", layers, sources)
    if normalisation is not None and normalisation not in NORMALISATIONS:
        raise ConfigError(
            f"normalisation {normalisation!r} (from {sources['normalisation']}): "
            f"choose one of {', '.join(NORMALISATIONS)}"
        )

    protocol_name = _pick("protocol", config.protocol, "--protocol", layers, sources,
                          accept=lambda p: p in registry.names("protocol"))
    if config.protocol is not None:
        registry.lookup("protocol", config.protocol)  # unknown -> did-you-mean, before loading

    data = Path(config.data).expanduser().resolve() if config.data is not None else None
    if data is not None and not data.exists():
        raise ConfigError(
            f"--data {config.data}: no such file or folder. Give the path of the "
            f"{config.corpus!r} corpus (its manifest file or its folder)."
        )
    corpus_options = dict(config.corpus_options)
    # SERBENCH_AUDIO_CHECK=0: the audio is not on this machine, only the manifest and the
    # feature cache (the GPU machine, docs/gpu.md); every other manifest check still runs
    check_audio = os.environ.get("SERBENCH_AUDIO_CHECK", "1").strip().lower() not in {
        "0", "false", "no", "off"}
    corpus = load_corpus(config.corpus, data, corpus_options, registry=registry,
                         check_audio=check_audio)

    label_map = _pick("label_map", config.label_map, "--label-map", layers, sources,
                      accept=lambda m: m in corpus.label_maps)
    if label_map is None:
        label_map, sources["label_map"] = corpus.default_label_map, "corpus default"
    if label_map not in corpus.label_maps:
        raise ConfigError(
            f"corpus {config.corpus!r} has no label map {label_map!r} "
            f"(from {sources['label_map']}); its label maps: {', '.join(sorted(corpus.label_maps))}"
        )
    classes = list(corpus.label_maps[label_map].classes)
    # a dialogue-context model on a corpus without dialogues stops before any extraction
    require_context_columns(spec, hparams, config.corpus, corpus.manifest)
    manifest = experiment_manifest(corpus, label_map)
    fingerprint = corpus_fingerprint(corpus)
    cross = None
    if config.test_corpus is not None:  # train on this corpus, test on another
        from serbench.crosscorpus.resolve import PROTOCOL, join_corpora

        cross = join_corpora(config, corpus, label_map, sources["label_map"], data, registry,
                             check_audio=check_audio)
        manifest, classes, fingerprint = cross.manifest, cross.classes, cross.fingerprint
        protocol_name, sources["protocol"] = PROTOCOL, "--test-corpus"
    if normalisation is None:
        normalisation, sources["normalisation"] = default_normalisation(manifest)

    if protocol_name is None:
        protocol_name, sources["protocol"] = corpus.default_protocol, "corpus default"
    protocol_entry = registry.lookup("protocol", protocol_name)
    protocol_options = dict(corpus.protocol_options.get(protocol_name, {}))
    for where, layer in reversed(layers):
        if isinstance(layer.get("protocol_options"), Mapping) and (
            layer.get("protocol") in (None, protocol_name)
        ):
            protocol_options.update(layer["protocol_options"])
            sources["protocol_options"] = where
    protocol_options.update(config.protocol_options)
    try:
        folds = make_folds(manifest, protocol_name, seed=config.seed, options=protocol_options,
                           registry=registry)
    except ConfigError as exc:
        if not sources["protocol"].startswith("model preferred"):
            raise ConfigError(
                f"protocol {protocol_name!r} (from {sources['protocol']}): {exc}"
            ) from exc
        # The paper's protocol may not fit this corpus (e.g. `loso` needs sessions, which
        # EmoDB lacks): the corpus's own default is the fair choice, said in the record.
        unusable = protocol_name
        protocol_name = corpus.default_protocol
        sources["protocol"] = f"corpus default ({sources['protocol']}'s {unusable!r}: {exc})"
        protocol_entry = registry.lookup("protocol", protocol_name)
        protocol_options = {**corpus.protocol_options.get(protocol_name, {}),
                            **config.protocol_options}
        folds = make_folds(manifest, protocol_name, seed=config.seed, options=protocol_options,
                           registry=registry)
    all_names = [f.name for f in folds]
    if config.folds:
        unknown = [n for n in config.folds if n not in all_names]
        if unknown:
            raise ConfigError(
                f"--folds {', '.join(unknown)}: protocol {protocol_name!r} has no such fold; "
                f"its folds: {', '.join(all_names)}"
            )
        folds = [f for f in folds if f.name in set(config.folds)]
    fallback = inner_folds_fallback(spec, hparams, config, folds, manifest)
    check_folds(folds, manifest, protocol_name, needs_valid=spec.framework == "torch",
                inner_folds=int(hparams.get("inner_folds") or 0)
                if spec.framework == "torch" else 0)
    warnings = [*corpus.warnings, *(cross.warnings if cross else []), *fallback,
                *small_fold_warnings(manifest, folds, classes)]

    return Resolved(
        config=config, model=model, variant=variant, hparams=hparams,
        corpus_entry=corpus_entry, corpus=corpus, data=data, corpus_options=corpus_options,
        label_map=label_map, classes=classes, manifest=manifest, fingerprint=fingerprint,
        protocol_entry=protocol_entry, protocol_options=protocol_options, folds=folds,
        all_fold_names=all_names, split_hash=split_hash(folds), feature_entry=feature_entry,
        feature_params=feature_params, normalisation=normalisation, device=device,
        sources=sources, warnings=warnings, cross_corpus=cross,
    )
