"""Search spaces as data: the model's space, overrides, named grids, JSON round trips.

A search space is ``{hyperparameter: optuna distribution}``. It comes from the model
plugin (``ModelSpec.search_space``, a lazy callable); a torch model without one gets
:func:`default_space` (learning rate, batch size, weight decay: the knobs every trainer
has), a scikit-learn model without one is an error (there is nothing generic to tune).

Overrides change, add or drop single parameters, from the command line::

    --space lr=float:1e-4:1e-2:log     --space hidden=int:16:256:log
    --space dropout=float:0:0.5:0.1    --space hidden=cat:64,128,256
    --space beta=off                   (drop it: the default value is used)

or from a YAML/TOML file mapping names to the same strings, or to tables such as
``{type = "float", low = 1e-4, high = 1e-2, log = true}`` / ``{choices = [64, 128]}``.
Every distribution is checked (non-empty, log ranges positive) before a trial runs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
    json_to_distribution,
)

from serbench.components import ModelSpec
from serbench.errors import ConfigError
from serbench.run.options import parse_value

Space = dict[str, BaseDistribution]

#: sentinel override value that removes a parameter from the search
DROP = "off"

_SYNTAX = ("NAME=float:LOW:HIGH[:log|:STEP], NAME=int:LOW:HIGH[:log|:STEP], "
           "NAME=cat:A,B,C or NAME=off")


def default_space() -> Space:
    """The generic space of a torch model that declares none: lr, batch size, weight decay."""
    return {
        "lr": FloatDistribution(1e-5, 1e-2, log=True),
        "batch_size": CategoricalDistribution((8, 16, 32, 64)),
        "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
    }


def model_space(spec: ModelSpec) -> tuple[Space, str]:
    """The model's declared space and where it came from (``"model"`` or ``"default"``)."""
    if spec.search_space is None:
        if spec.framework == "torch":
            return default_space(), "default"
        raise ConfigError(
            f"model {spec.name!r} declares no search space (ModelSpec.search_space) and is "
            "not a torch model, so there is no generic space to tune. Give one with "
            "--space NAME=... or --space-file FILE."
        )
    from serbench.lazy import resolve

    space = dict(resolve(spec.search_space)())
    for name, dist in space.items():
        if not isinstance(dist, BaseDistribution):
            raise ConfigError(
                f"model {spec.name!r}: search space entry {name!r} is "
                f"{type(dist).__name__}, not an optuna distribution; fix the plugin's "
                "search_space function"
            )
        check_distribution(name, dist, f"model {spec.name!r}'s search space")
    return space, "model"


def check_distribution(name: str, dist: BaseDistribution, where: str) -> None:
    """Raise ConfigError for a distribution that holds no value."""
    if isinstance(dist, FloatDistribution | IntDistribution) and dist.low > dist.high:
        raise ConfigError(f"{where}: {name!r} is empty (low {dist.low} > high {dist.high})")
    if isinstance(dist, CategoricalDistribution) and not dist.choices:
        raise ConfigError(f"{where}: {name!r} has no choices")


def _number(text: str, name: str, kind: str) -> float | int:
    value = parse_value(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"--space {name}: {text!r} is not a number ({_SYNTAX})")
    return int(value) if kind == "int" else float(value)


def parse_distribution(name: str, text: str) -> BaseDistribution | None:
    """One override string -> a distribution (None for ``off``); errors name the syntax."""
    text = text.strip()
    if text == DROP:
        return None
    kind, _, rest = text.partition(":")
    kind = {"categorical": "cat", "choice": "cat"}.get(kind, kind)
    where = f"--space {name}={text}"
    if kind == "cat":
        choices = tuple(parse_value(c) for c in rest.split(",") if c.strip())
        if not choices:
            raise ConfigError(f"{where}: a categorical distribution needs at least one "
                              "choice (cat:A,B,C)")
        return CategoricalDistribution(choices)
    if kind not in ("float", "int"):
        raise ConfigError(f"{where}: unknown distribution type {kind!r}; use {_SYNTAX}")
    parts = rest.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise ConfigError(f"{where}: expected {kind}:LOW:HIGH[:log|:STEP]")
    low, high = _number(parts[0], name, kind), _number(parts[1], name, kind)
    if low > high:
        raise ConfigError(f"{where}: the distribution is empty (low {low} > high {high})")
    log, step = False, None
    if len(parts) == 3:
        if parts[2] == "log":
            log = True
        else:
            step = _number(parts[2], name, kind)
            if step <= 0:
                raise ConfigError(f"{where}: the step must be > 0")
    try:
        if kind == "float":
            return FloatDistribution(low, high, log=log, step=step)
        return IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    except ValueError as exc:  # e.g. a log range that reaches 0
        raise ConfigError(f"{where}: {exc}") from None


def _from_table(name: str, table: Mapping[str, Any], source: str) -> BaseDistribution:
    where = f"{source}: {name!r}"
    if "choices" in table:
        choices = tuple(table["choices"] or ())
        if not choices:
            raise ConfigError(f"{where} has an empty 'choices' list")
        return CategoricalDistribution(choices)
    kind = table.get("type", "float")
    if kind not in ("float", "int") or "low" not in table or "high" not in table:
        raise ConfigError(f"{where}: give type (float|int), low and high, or choices")
    low, high = table["low"], table["high"]
    if low > high:
        raise ConfigError(f"{where} is empty (low {low} > high {high})")
    try:
        if kind == "float":
            return FloatDistribution(float(low), float(high), log=bool(table.get("log")),
                                     step=table.get("step"))
        return IntDistribution(int(low), int(high), log=bool(table.get("log")),
                               step=int(table.get("step") or 1))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_space_file(path: Path) -> dict[str, BaseDistribution | None]:
    """Overrides from a YAML (``.yaml``/``.yml``) or TOML (``.toml``) file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--space-file {path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            import tomllib

            doc = tomllib.loads(text)
        else:
            import yaml

            doc = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any parser error is the file's fault
        raise ConfigError(f"--space-file {path}: cannot parse it ({exc})") from None
    if isinstance(doc, Mapping) and isinstance(doc.get("space"), Mapping):
        doc = doc["space"]
    if not isinstance(doc, Mapping):
        raise ConfigError(f"--space-file {path}: expected a mapping of name -> distribution")
    out: dict[str, BaseDistribution | None] = {}
    for name, value in doc.items():
        if isinstance(value, Mapping):
            out[str(name)] = _from_table(str(name), value, f"--space-file {path}")
        elif isinstance(value, str):
            out[str(name)] = parse_distribution(str(name), value)
        else:
            raise ConfigError(f"--space-file {path}: {name!r} must be a string such as "
                              f"'float:1e-4:1e-2:log' or a table; got {value!r}")
    return out


def parse_overrides(pairs: Iterable[str]) -> dict[str, BaseDistribution | None]:
    """``["lr=float:1e-4:1e-2:log", ...]`` -> ``{name: distribution or None}``."""
    out: dict[str, BaseDistribution | None] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--space {pair!r} must look like {_SYNTAX}")
        out[name.strip()] = parse_distribution(name.strip(), text)
    return out


def apply_overrides(space: Space, overrides: Mapping[str, BaseDistribution | None],
                    known: Iterable[str], model: str) -> Space:
    """``space`` with parameters replaced, added (known hyperparameters only) or dropped."""
    known = set(known) | set(space)
    unknown = sorted(set(overrides) - known)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(
            f"--space: {', '.join(hints)} is not a hyperparameter of model {model!r}. "
            f"Tunable names: {', '.join(sorted(known))}."
        )
    out = dict(space)
    for name, dist in overrides.items():
        if dist is None:
            out.pop(name, None)
        else:
            check_distribution(name, dist, "--space")
            out[name] = dist
    if not out:
        raise ConfigError("the search space is empty after the overrides; tune at least one "
                          "parameter")
    return out


def grid_space(spec: ModelSpec, grid: str) -> dict[str, list[Any]]:
    """The named grid ``spec.grids[grid]`` as ``{param: [values]}``."""
    if grid not in spec.grids:
        known = ", ".join(sorted(spec.grids)) or "(it has none)"
        raise ConfigError(f"model {spec.name!r} has no grid {grid!r}; its grids: {known}")
    values = {name: list(choices) for name, choices in spec.grids[grid].items()}
    empty = [name for name, choices in values.items() if not choices]
    if empty:
        raise ConfigError(f"grid {grid!r} of model {spec.name!r} has no values for {empty}")
    return values


def grid_as_space(grid: Mapping[str, list[Any]]) -> Space:
    """A grid as categorical distributions (what the grid trials sample from)."""
    return {name: CategoricalDistribution(tuple(values)) for name, values in grid.items()}


def space_to_json(space: Mapping[str, BaseDistribution]) -> dict[str, str]:
    """``{name: optuna's JSON of the distribution}``: stable, comparable, replayable."""
    return {name: distribution_to_json(space[name]) for name in sorted(space)}


def space_from_json(doc: Mapping[str, str]) -> Space:
    return {name: json_to_distribution(text) for name, text in doc.items()}


def describe(dist: BaseDistribution) -> str:
    """A short human form, e.g. ``float [0.0001, 0.01] log`` or ``categorical (64, 128)``."""
    if isinstance(dist, CategoricalDistribution):
        return f"categorical {tuple(dist.choices)}"
    kind = "float" if isinstance(dist, FloatDistribution) else "int"
    extra = " log" if dist.log else (f" step {dist.step}" if dist.step not in (None, 1) else "")
    return f"{kind} [{dist.low}, {dist.high}]{extra}"


def space_differences(stored: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """Human lines naming each parameter whose distribution differs."""
    def show(text: str | None) -> str:
        return describe(json_to_distribution(text)) if text else "absent"

    lines = []
    for name in sorted(set(stored) | set(current)):
        old, new = stored.get(name), current.get(name)
        if old == new:
            continue
        lines.append(f"{name}: study has {show(old)}, now {show(new)}")
    return lines


def contains(dist: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` is a point of ``dist`` (for enqueuing the paper defaults)."""
    if isinstance(dist, CategoricalDistribution):
        return any(value == c and type(value) is type(c) for c in dist.choices) or (
            value in dist.choices and not isinstance(value, bool))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(dist, IntDistribution) and float(value) != int(value):
        return False
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


def dumps(space: Mapping[str, BaseDistribution]) -> str:
    return json.dumps(space_to_json(space), sort_keys=True)
