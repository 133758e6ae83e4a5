"""A model's hyperparameters for one run, checked before anything is loaded.

:func:`resolve_hparams` merges the model's defaults, its variant and the ``--set``
overrides (each checked against the declared types and ranges of
:mod:`serbench.hyperparameters`), and ``--max-epochs``; :func:`known_hyperparameters`
is what ``--set`` may name; :func:`inner_folds_fallback` is the one setting that depends
on the folds. :mod:`serbench.run.resolve` uses them for the run as a whole.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from serbench.components import ModelSpec
from serbench.errors import ConfigError
from serbench.run.config import RunConfig
from serbench.training.config import TrainingConfig

#: keys of a model's defaults/variants/preferred that choose run settings, not weights
RUN_SETTING_KEYS = (
    "feature",
    "feature_params",
    "label_map",
    "protocol",
    "protocol_options",
    "normalisation",
)


def resolve_variant(spec: ModelSpec, variant: str | None) -> str | None:
    """The variant to run; an unknown one lists the model's variants."""
    if variant is None:
        return spec.default_variant
    if variant not in spec.variants:
        known = sorted(spec.variants)
        close = difflib.get_close_matches(variant, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(known) if known else "(it has none)"
        raise ConfigError(
            f"model {spec.name!r} has no variant {variant!r}.{hint} Its variants: {listing}."
        )
    return variant


def known_hyperparameters(spec: ModelSpec) -> set[str]:
    """Names ``--set`` may override: the model's defaults and variant keys, the
    training keys (torch models) and its search space."""
    known = set(spec.defaults)
    for overrides in spec.variants.values():
        known |= set(overrides)
    if spec.framework == "torch":
        known |= TrainingConfig.keys()
    if spec.search_space is not None:
        try:
            from serbench.lazy import resolve

            known |= set(resolve(spec.search_space)())
        except Exception:  # noqa: BLE001 - a broken search space must not block a run
            pass
    known |= set(spec.hyperparameters)
    if "context" in spec.inputs:  # serbench.data.context.require_context_columns
        known.add("allow_empty_context")
    return known - set(RUN_SETTING_KEYS)


def resolve_hparams(
    spec: ModelSpec, variant: str | None, overrides: Mapping[str, Any], max_epochs: int | None
) -> dict[str, Any]:
    """defaults < variant < ``--set`` overrides < ``max_epochs``; run-setting keys removed.

    Every override is checked against the model's declared types and ranges
    (:mod:`serbench.hyperparameters`); unknown names and bad values are reported together
    in one ConfigError, before anything is loaded.
    """
    from serbench.hyperparameters import check_values

    known = known_hyperparameters(spec)
    unknown = sorted(set(overrides) - known)
    problems = []
    if unknown:
        lower = {k.lower(): k for k in known}
        close = {
            k: [lower[k.lower()]] if k.lower() in lower
            else difflib.get_close_matches(k, sorted(known), n=1)
            for k in unknown
        }
        hints = "; ".join(f"{k!r} (did you mean {c[0]!r}?)" for k, c in close.items() if c)
        problems.append(
            f"{', '.join(unknown)}: not a hyperparameter of model {spec.name!r}."
            + (f" {hints}." if hints else "")
            + f" Known: {', '.join(sorted(known))}."
        )
    # "--set lr=1" becomes 1.0 where a float is expected
    checked, bad = check_values(spec, {k: v for k, v in overrides.items() if k in known})
    problems += bad
    if problems:
        head = "--set " if len(problems) == 1 else f"--set: {len(problems)} problems:\n  "
        raise ConfigError(head + "\n  ".join(problems) + (
            "" if unknown and len(problems) == 1 else
            "\nGive values of the allowed type and range (nothing was run)."))
    hparams = dict(spec.defaults)
    if variant is not None:
        hparams.update(spec.variants[variant])
    hparams.update(checked)
    if max_epochs is not None:
        if max_epochs < 1:
            raise ConfigError(f"--max-epochs must be >= 1, got {max_epochs}")
        if spec.framework == "torch":
            hparams["max_epochs"] = int(max_epochs)
    for key in RUN_SETTING_KEYS:
        hparams.pop(key, None)
    return hparams


def inner_folds_fallback(spec: ModelSpec, hparams: dict[str, Any], config: RunConfig,
                          folds: list, manifest: Any) -> list[str]:
    """A model whose *defaults* (or variant) choose epochs by ``inner_folds`` falls back to
    its validation split (``inner_folds=0``, in ``hparams``, so in the run id) where a fold
    has fewer than two development speakers; a warning says so. ``--set inner_folds=K``
    is the user's explicit choice: :func:`check_folds` refuses it there instead."""
    from serbench.run.fold_checks import folds_short_of_speakers

    k = int(hparams.get("inner_folds") or 0)
    if spec.framework != "torch" or not k or "inner_folds" in config.overrides:
        return []
    short = folds_short_of_speakers(folds, manifest)
    if not short:
        return []
    hparams["inner_folds"] = 0
    return [f"model {spec.name!r} chooses its epochs by cross-validation over the development "
            f"speakers (inner_folds={k}), but fold(s) {', '.join(short[:5])} have fewer than 2; "
            "every fold chooses on its validation split instead (inner_folds=0)"]
