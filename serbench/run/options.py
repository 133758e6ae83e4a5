"""``KEY=VALUE`` options from the command line, typed the YAML way.

``--set lr=1e-3 --set hidden=[64,32] --set bidirectional=false`` gives
``{"lr": 0.001, "hidden": [64, 32], "bidirectional": False}``: ints, floats, bools,
``null`` and lists/mappings are recognised, anything else stays a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from serbench.errors import ConfigError

# YAML 1.1 would read "1e-3" as a string; these catch plain scientific notation.
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)$")


def parse_value(text: str) -> Any:
    """Type one option value: ``"3"`` -> 3, ``"1e-3"`` -> 0.001, ``"true"`` -> True,
    ``"[1, 2]"`` -> [1, 2]; anything YAML cannot read is returned as the string."""
    stripped = text.strip()
    if _FLOAT.match(stripped):
        return float(stripped)
    try:
        value = yaml.safe_load(stripped)
    except yaml.YAMLError:
        return text
    if isinstance(value, list):
        return [parse_value(v) if isinstance(v, str) else v for v in value]
    if value is None and stripped.lower() not in {"null", "none", "~"}:
        return text  # an empty value stays an empty string
    if isinstance(value, str) and stripped.lower() == "none":
        return None
    return value


def parse_assignments(pairs: Iterable[str], option: str, *, typed: bool = True) -> dict[str, Any]:
    """Turn ``["k=v", ...]`` into a dict, values typed by :func:`parse_value` (or kept
    as strings with ``typed=False``); ``option`` (e.g. ``"--set"``) names the flag in
    errors."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{option} {pair!r} must look like KEY=VALUE (e.g. {option} lr=0.001)")
        out[key] = parse_value(value) if typed else value.strip()
    return out


def int_list(value: Any, *, name: str, example: str) -> list[int]:
    """A list of ints from a list, an int or a ``"256,256"`` string.

    Hyperparameters such as layer sizes arrive in all three forms: from a preset (list),
    ``--set cells=256`` (int) or an Optuna categorical choice (string).

    Raises:
        ConfigError: naming ``name`` and showing ``example`` when ``value`` is not one.
    """
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{name} {value!r}: give a list ([{example}]) or a string ('{example}')"
        ) from exc
