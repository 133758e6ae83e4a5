"""The model catalogue: what ``serbench models`` shows, as plain data.

A newcomer should not have to mistype a variant to learn the variants exist. For every
registered model this gathers, without any corpus on disk: its variants and what each
overrides, its defaults, its declared search space, the paper protocol it prefers
(feature set, label map, protocol, normalisation), its citation, where its README is,
and its parameter count for a given input size (the preferred feature's dimension unless
the caller names one). Building a model to count its parameters imports torch, so the
listing (:func:`model_listing`) never does; only :func:`model_card` does.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serbench.components import FeatureSpec, ModelSpec
from serbench.errors import ConfigError
from serbench.lazy import resolve
from serbench.plugins import Registry

#: the token vocabulary assumed when counting a lexical model's parameters (the
#: embedding table grows with the corpus's vocabulary; the count says which size it used)
DEFAULT_VOCAB = 1000


@dataclass(frozen=True)
class ParameterCount:
    """Parameters of one configuration at one input size, or why it could not be built."""

    configuration: str
    count: int | None
    note: str = ""


def model_listing(registry: Registry) -> list[dict[str, Any]]:
    """One row per registered model: name, version, variants, paper, plugin.

    Never imports torch (it reads the registered specs only)."""
    rows = []
    for entry in registry.entries("model"):
        spec: ModelSpec = entry.spec
        rows.append({
            "name": spec.name,
            "version": spec.version,
            "framework": spec.framework,
            "level": spec.level,
            "variants": list(spec.variants),
            "default_variant": spec.default_variant,
            "description": spec.description,
            "citation": spec.citation,
            "plugin": entry.plugin,
            "distribution": entry.distribution,
        })
    return sorted(rows, key=lambda row: row["name"])


def _unknown_model(registry: Registry, name: str) -> ConfigError:
    import difflib

    known = registry.names("model")
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"no model {name!r}.{hint} Known models: {', '.join(sorted(known))}.")


def readme_path(spec: ModelSpec) -> Path | None:
    """The README of the distribution that holds the model's builder, if there is one.

    Plugins under ``plugins/<name>/`` keep it beside their package; serbench's own
    models are documented in the top-level README."""
    builder = spec.builder if isinstance(spec.builder, str) else spec.builder.__module__
    module = builder.split(":")[0]
    found = importlib.util.find_spec(module.split(".")[0])
    if found is None or found.origin is None:
        return None
    package_dir = Path(found.origin).parent
    for folder in (package_dir.parent, package_dir.parent.parent):
        candidate = folder / "README.md"
        if candidate.is_file():
            return candidate
    return None


def feature_dimension(spec: FeatureSpec) -> int | None:
    """D of a frame or functionals feature (its extractor's dimension names); ``None``
    for token features. Builds the extractor (no audio is read)."""
    if spec.level == "tokens":
        return None
    extractor = resolve(spec.extractor)(dict(spec.default_params))
    return len(extractor.names)


def _input_dim(registry: Registry, spec: ModelSpec, feature: str | None) -> tuple[int, str]:
    name = feature or str(spec.preferred.get("feature") or spec.default_feature)
    try:
        feature_spec = registry.feature(name)
    except Exception as exc:  # noqa: BLE001 - reported as the reason, not raised
        raise ConfigError(f"model {spec.name!r} prefers feature {name!r}, which is not "
                          f"registered ({exc}); pass --input-dim") from exc
    dim = feature_dimension(feature_spec)
    if dim is None:
        raise ConfigError(f"feature {name!r} has no fixed dimension; pass --input-dim")
    return dim, name


def parameter_counts(spec: ModelSpec, *, input_dim: int, num_classes: int,
                     vocab_size: int = DEFAULT_VOCAB) -> list[ParameterCount]:
    """Trainable parameters of the defaults (when no default variant) and every variant,
    built for ``input_dim`` features and ``num_classes`` classes.

    A configuration that cannot be built at that size is reported with the builder's
    message instead of a count."""
    if spec.framework != "torch":
        return [ParameterCount(spec.name, None, "scikit-learn estimator: no parameters "
                                                "before fitting")]
    from serbench.data.batch import InputSpec
    from serbench.nn.sizing import count_parameters

    configurations: list[tuple[str, Mapping[str, Any]]] = []
    if spec.default_variant is None:
        configurations.append((spec.name, {}))
    configurations += list(spec.variants.items())
    level = spec.level if spec.level in ("functionals", "waveform") else "frames"
    input_spec = InputSpec(
        feature_dim=input_dim, num_classes=num_classes, level=level,
        vocab_size=vocab_size if "tokens" in spec.inputs else None,
        sample_rate=int(spec.defaults.get("sample_rate", 16000)) if level == "waveform" else None,
    )
    builder = resolve(spec.builder)
    counts = []
    for label, overrides in configurations:
        try:
            model = builder(input_spec, {**spec.defaults, **overrides})
            counts.append(ParameterCount(label, count_parameters(model)))
        except Exception as exc:  # noqa: BLE001 - one bad configuration must not hide the rest
            counts.append(ParameterCount(label, None, f"{type(exc).__name__}: {exc}"))
    return counts


def model_card(registry: Registry, name: str, *, input_dim: int | None = None,
               num_classes: int = 4, with_parameters: bool = True) -> dict[str, Any]:
    """Everything ``serbench models NAME`` prints, as plain data.

    Args:
        registry: the plugin registry.
        name: a registered model name.
        input_dim: D to count parameters at; default: the dimension of the model's
            preferred feature set.
        num_classes: C to count parameters at (4: the usual IEMOCAP classes).
        with_parameters: build every configuration to count parameters (imports torch).
    """
    if name not in registry.names("model"):
        raise _unknown_model(registry, name)
    entry = registry.lookup("model", name)
    spec: ModelSpec = entry.spec
    preferred = {k: v for k, v in spec.preferred.items() if not isinstance(v, Mapping)}
    per_corpus = {k: dict(v) for k, v in spec.preferred.items() if isinstance(v, Mapping)}
    space: dict[str, str] = {}
    space_source = "none declared"
    if spec.search_space is not None or spec.framework == "torch":
        from serbench.tuning.space import describe, model_space

        declared, source = model_space(spec)
        space = {key: describe(dist) for key, dist in declared.items()}
        space_source = ("declared by the model" if source == "model"
                        else "serbench's generic torch space (the model declares none)")
    card: dict[str, Any] = {
        "name": spec.name,
        "version": spec.version,
        "description": spec.description,
        "citation": spec.citation,
        "framework": spec.framework,
        "level": spec.level,
        "inputs": list(spec.inputs),
        "plugin": entry.plugin,
        "distribution": entry.distribution,
        "readme": str(readme_path(spec) or ""),
        "default_feature": spec.default_feature,
        "preferred": preferred,
        "preferred_per_corpus": per_corpus,
        "defaults": dict(spec.defaults),
        "default_variant": spec.default_variant,
        "variants": {variant: dict(overrides) for variant, overrides in spec.variants.items()},
        "search_space": space,
        "search_space_source": space_source,
        "grids": {grid: {k: list(v) for k, v in values.items()}
                  for grid, values in spec.grids.items()},
        "paper_results": [
            {"variant": r.variant, "corpus": r.corpus, "metrics": dict(r.metrics),
             "label": r.label} for r in spec.paper_results
        ],
    }
    if with_parameters:
        feature_name = None
        if input_dim is None:
            input_dim, feature_name = _input_dim(registry, spec, None)
        counts = parameter_counts(spec, input_dim=input_dim, num_classes=num_classes)
        card["parameters"] = {
            "input_dim": input_dim,
            "feature": feature_name,
            "num_classes": num_classes,
            "vocab_size": DEFAULT_VOCAB if "tokens" in spec.inputs else None,
            "counts": [{"configuration": c.configuration, "count": c.count, "note": c.note}
                       for c in counts],
        }
    return card
