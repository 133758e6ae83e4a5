"""Checking ``--feature-param`` names and values before anything is extracted.

A feature declares its parameters as ``FeatureSpec.default_params`` (with their defaults,
part of the cache key) and ``FeatureSpec.optional_params`` (read when given, absent by
default); every feature also takes ``trim_silence`` (:mod:`serbench.features.trimming`).
A value must have its default's type, by the rules of :mod:`serbench.hyperparameters`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from serbench.components import FeatureSpec
from serbench.hyperparameters import derive_param


def check_feature_params(spec: FeatureSpec, params: Mapping[str, Any],
                         option: str = "--feature-param") -> None:
    """Check user-given feature parameters against ``spec`` (a FeatureSpec), before any
    work: every name must be one of its ``default_params``, ``optional_params`` or
    ``trim_silence``, and a value must have its default's type.

    Raises:
        ConfigError: one message listing every unknown name (with the known ones) and
            every bad value.
    """
    import difflib

    from serbench.errors import ConfigError
    from serbench.features.trimming import TRIM_PARAM, trim_threshold

    defaults = dict(spec.default_params)
    known = sorted({*defaults, *spec.optional_params, TRIM_PARAM})
    problems = []
    for name, value in params.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{name!r}{hint}: not a parameter of feature {spec.name!r}; its "
                            f"parameters: {', '.join(known)}")
        elif name == TRIM_PARAM:
            try:
                trim_threshold({name: value}, spec.name)
            except ConfigError as exc:
                problems.append(str(exc))
        elif name in defaults:
            rule = derive_param(name, [defaults[name]])
            if not rule.check(value)[1]:
                problems.append(f"{name}={value!r}: expected {rule.describe()} (the type of "
                                f"its default {defaults[name]!r})")
    if problems:
        raise ConfigError(f"{option}: " + "\n  ".join(problems)
                          + "\nNothing was extracted; fix the parameter(s).")

