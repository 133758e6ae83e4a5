"""What values a model's hyperparameters may take, derived in one place.

A model does not list the type and range of each hyperparameter by hand: they follow
from what it already declares, by these rules (:func:`declarations`):

- **type**: the types of its ``defaults`` and ``variants`` values, of its search-space
  distribution (``FloatDistribution`` -> float, ``IntDistribution`` -> int, a
  categorical -> the types of its choices) and, for the training keys of torch models,
  of :class:`~serbench.training.config.TrainingConfig`'s defaults. ``None`` among them
  makes ``null`` allowed. An int is accepted (as a float) where a float is expected; a
  float is never accepted where only an int is (``hidden_size=1.5`` is refused). A list
  of ints also accepts one int or a ``"64,32"`` string (:func:`serbench.run.options.int_list`).
- **lower bound**, from the distribution: a log scale -> ``> 0`` (ints ``>= 1``), a range
  starting at or above 0 -> ``>= 0`` (ints starting at 1 -> ``>= 1``), categorical numbers
  all positive -> ``> 0`` (ints ``>= 1``). A search range is where tuning looks, not
  what is valid, so its upper end and its exact lower end are not bounds.
- **choices**: a categorical of identifier-like strings (``("feature", "time")``) is a
  closed set, together with the preset values; ``Literal`` training keys (``optimizer``,
  ``precision``) take their literal values.
- **conventions** (:data:`CONVENTIONS`), the same for every model: ``lr > 0``,
  ``batch_size >= 1``, any ``dropout``/``*_dropout`` in ``[0, 1)``, ...

A derived rule that a model's own defaults or variants break is relaxed (a bound) or
dropped (a convention), so a declaration never refuses a preset. Whatever cannot be
derived is declared explicitly with :class:`Param` in ``ModelSpec.hyperparameters``,
which replaces the derived rule of that name.

``--set`` values are checked by :func:`check_values` in
:func:`serbench.run.model_hparams.resolve_hparams`, before any corpus is loaded.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serbench.components import ModelSpec

__all__ = ["CONVENTIONS", "Param", "check_values", "declarations", "derive_param"]

#: value kinds a :class:`Param` can allow
KINDS = ("bool", "int", "float", "str", "list", "mapping", "any")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_INT_LIST = re.compile(r"^\s*[+-]?\d+(\s*,\s*[+-]?\d+)*\s*$")


@dataclass(frozen=True)
class Param:
    """The allowed values of one hyperparameter.

    Attributes:
        types: allowed kinds (:data:`KINDS`); ``"any"`` turns the check off. ``"str"``
            without ``choices`` also admits numbers (e.g. ``params="9M"`` or ``9000000``).
        low, high: numeric bounds (None: unbounded); ``low_open``/``high_open`` exclude
            the bound itself. For a list they apply to each item.
        choices: the only strings allowed (empty: any string).
        nullable: ``null``/``None`` allowed.
        item: the kind of a list's items (``"int"``, ``"float"``; None: unchecked).
        origin: where the rule comes from, for messages and docs.
    """

    types: tuple[str, ...]
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False
    choices: tuple[str, ...] = ()
    nullable: bool = False
    item: str | None = None
    origin: str = "model spec"

    def __post_init__(self) -> None:
        unknown = set(self.types) - set(KINDS)
        if unknown or not self.types:
            raise ValueError(f"Param types {self.types!r}: choose from {', '.join(KINDS)}")

    def describe(self) -> str:
        """A short human form, e.g. ``float > 0``, ``float in [0, 1)``, ``one of 'a', 'b'``."""
        if "any" in self.types:
            return "any value"
        parts = []
        numeric = [t for t in self.types if t in ("int", "float")]
        if numeric:
            parts.append(" or ".join(numeric) + self._range())
        if "list" in self.types:
            of = f" of {self.item}{self._range()}" if self.item else ""
            also = f" (or one {self.item}, or 'a,b')" if self.item == "int" else ""
            parts.append(f"a list{of}{also}")
        for kind in ("bool", "mapping"):
            if kind in self.types:
                parts.append(kind)
        if "str" in self.types:
            parts.append("one of " + ", ".join(repr(c) for c in self.choices)
                         if self.choices else "text")
        if self.nullable:
            parts.append("null")
        return " or ".join(parts)

    def _range(self) -> str:
        low, high = _show(self.low), _show(self.high)
        if self.low is not None and self.high is not None:
            return (f" in {'(' if self.low_open else '['}{low}, {high}"
                    f"{')' if self.high_open else ']'}")
        if self.low is not None:
            return f" {'>' if self.low_open else '>='} {low}"
        if self.high is not None:
            return f" {'<' if self.high_open else '<='} {high}"
        return ""

    def _in_range(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        return not (self.high is not None
                    and (x > self.high or (self.high_open and x == self.high)))

    def check(self, value: Any) -> tuple[Any, bool]:
        """``(value as it will be used, allowed?)``; an int becomes a float where only a
        float is expected."""
        if "any" in self.types:
            return value, True
        if value is None:
            return value, self.nullable
        if isinstance(value, bool):
            return value, "bool" in self.types
        if isinstance(value, int | float):
            if "int" in self.types and isinstance(value, int):
                return value, self._in_range(value)
            if "float" in self.types:
                return float(value), self._in_range(float(value))
            if "list" in self.types and self.item in ("int", "float"):
                return value, _is_kind(value, self.item) and self._in_range(value)
            return value, "str" in self.types and not self.choices
        if isinstance(value, str):
            if "str" in self.types:
                return value, not self.choices or value in self.choices
            if "list" in self.types and self.item == "int":  # "64,32"
                items = [v.strip() for v in value.split(",") if v.strip()]
                ok = bool(_INT_LIST.match(value))
                return value, ok and all(self._in_range(int(v)) for v in items)
            return value, False
        if isinstance(value, list | tuple):
            if "list" not in self.types:
                return value, False
            if self.item is None:
                return value, True
            return value, all(_is_kind(v, self.item) and self._in_range(v) for v in value)
        if isinstance(value, Mapping):
            return value, "mapping" in self.types
        return value, False


def _show(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else repr(x))


def _is_kind(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if kind == "int" else isinstance(value, int | float)


def _dropout() -> Param:
    return Param(types=("float",), low=0.0, high=1.0, high_open=True, origin="convention")


#: rules by name, the same for every model that has the name (see the module docstring)
CONVENTIONS: dict[str, Param] = {
    "lr": Param(types=("float",), low=0.0, low_open=True, origin="convention"),
    "batch_size": Param(types=("int",), low=1, origin="convention"),
    "max_epochs": Param(types=("int",), low=1, origin="convention"),
    "min_epochs": Param(types=("int",), low=0, origin="convention"),
    "patience": Param(types=("int",), low=1, origin="convention"),
    "weight_decay": Param(types=("float",), low=0.0, origin="convention"),
    "grad_clip": Param(types=("float",), low=0.0, origin="convention"),
    "label_smoothing": Param(types=("float",), low=0.0, high=1.0, high_open=True,
                             origin="convention"),
    "momentum": Param(types=("float",), low=0.0, high=1.0, origin="convention"),
    "betas": Param(types=("list",), item="float", low=0.0, high=1.0, high_open=True,
                   origin="convention"),
    "dropout": _dropout(),
}


def _convention(name: str) -> Param | None:
    if name in CONVENTIONS:
        return CONVENTIONS[name]
    if name.endswith("_dropout"):
        return _dropout()
    return None


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    return "any"


def _item_kind(lists: Iterable[Any]) -> str | None:
    items = [v for lst in lists for v in lst]
    if items and all(_is_kind(v, "int") for v in items):
        return "int"
    if items and all(_is_kind(v, "float") for v in items):
        return "float"
    return None


def _training_evidence() -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """TrainingConfig's default per key, and the values of its ``Literal`` keys."""
    from serbench.training.config import TrainingConfig

    defaults = dataclasses.asdict(TrainingConfig())
    literals = {}
    for name, hint in typing.get_type_hints(TrainingConfig).items():
        if typing.get_origin(hint) is typing.Literal:
            literals[name] = tuple(str(a) for a in typing.get_args(hint))
    return defaults, literals


def _space(spec: ModelSpec) -> dict[str, Any]:
    if spec.search_space is None:
        return {}
    from serbench.lazy import resolve

    try:
        return dict(resolve(spec.search_space)())
    except Exception:  # noqa: BLE001 - a broken space is reported by tune, not here
        return {}


def _distribution_rule(dist: Any) -> tuple[set[str], float | None, bool, tuple[str, ...], bool]:
    """(kinds, lower bound, bound open?, closed string choices, None allowed?)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(dist, FloatDistribution):
        if dist.log:
            return {"float"}, 0.0, True, (), False
        return {"float"}, (0.0 if dist.low >= 0 else None), False, (), False
    if isinstance(dist, IntDistribution):
        if dist.log or dist.low >= 1:
            return {"int"}, 1, False, (), False
        return {"int"}, (0 if dist.low >= 0 else None), False, (), False
    if isinstance(dist, CategoricalDistribution):
        kinds = {k for k in map(_kind, dist.choices) if k}
        numbers = [c for c in dist.choices if _kind(c) in ("int", "float")]
        low, open_ = None, False
        if numbers and min(numbers) > 0:
            low, open_ = (1, False) if kinds & {"int", "float"} == {"int"} else (0.0, True)
        elif numbers and min(numbers) >= 0:
            low = 0
        strings = [c for c in dist.choices if isinstance(c, str)]
        if strings and all(_INT_LIST.match(s) for s in strings):
            kinds = (kinds - {"str"}) | {"list"}  # "64,32": a list of ints, written as text
        closed = tuple(strings) if strings and all(_IDENTIFIER.match(s) for s in strings) else ()
        return kinds, low, open_, closed, None in dist.choices
    return {"any"}, None, False, (), False


def _derive(name: str, presets: list[Any], dist: Any, training: Any,
            literal: tuple[str, ...] | None) -> Param:
    """One hyperparameter's rule from its preset values, distribution and training default."""
    values = [*presets, *([training] if training is not ... else [])]
    kinds = {k for k in map(_kind, values) if k}
    nullable = any(v is None for v in values)
    low, low_open, choices, origin = None, False, (), "defaults"
    if dist is not None:
        d_kinds, low, low_open, choices, d_null = _distribution_rule(dist)
        kinds |= d_kinds
        nullable = nullable or d_null
        origin = "search space"
    if literal:
        choices, origin = literal, "training config"
    if choices:
        choices = tuple(dict.fromkeys([*choices, *(v for v in values if isinstance(v, str))]))
    numbers = [v for v in presets if _kind(v) in ("int", "float")]
    if low is not None and not all(v > low or (v == low and not low_open) for v in numbers):
        # a preset below the derived bound: keep only ">= 0" when every preset meets it
        low, low_open = (0, False) if all(v >= 0 for v in numbers) else (None, False)
    if "float" in kinds and "int" in kinds and not any(_kind(v) == "int" for v in presets):
        kinds.discard("int")  # an int search choice of a float parameter
    if not kinds:
        return Param(types=("any",), origin="defaults (null only)")
    item = _item_kind(v for v in values if _kind(v) == "list") if "list" in kinds else None
    if "list" in kinds and item is None and not any(_kind(v) == "list" for v in values):
        item = "int"  # only the text form of the space ("64,32") is known
    derived = Param(types=tuple(k for k in KINDS if k in kinds), low=low, low_open=low_open,
                    choices=choices, nullable=nullable, item=item, origin=origin)
    convention = _convention(name)
    if convention is not None and all(convention.check(v)[1] for v in values):
        return dataclasses.replace(convention, nullable=convention.nullable or nullable)
    return derived


def derive_param(name: str, presets: list[Any]) -> Param:
    """The rule of a value known only by its preset(s), e.g. a feature parameter."""
    return _derive(name, presets, None, ..., None)


def declarations(spec: ModelSpec) -> dict[str, Param]:
    """``{hyperparameter: Param}`` for every name ``--set`` may give ``spec``.

    Derived from the spec's defaults, variants and search space (and TrainingConfig for
    torch models), with ``spec.hyperparameters`` replacing the derived rule of its names.
    """
    from serbench.run.model_hparams import RUN_SETTING_KEYS

    presets: dict[str, list[Any]] = {}
    for layer in (spec.defaults, *spec.variants.values()):
        for key, value in layer.items():
            presets.setdefault(key, []).append(value)
    space = _space(spec)
    training, literals = _training_evidence() if spec.framework == "torch" else ({}, {})
    names = (set(presets) | set(space) | set(training)) - set(RUN_SETTING_KEYS)
    out = {name: _derive(name, presets.get(name, []), space.get(name),
                         training.get(name, ...), literals.get(name))
           for name in sorted(names)}
    out.update(dict(getattr(spec, "hyperparameters", {}) or {}))
    return out


def check_values(spec: ModelSpec, values: Mapping[str, Any],
                 decls: Mapping[str, Param] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Check ``values`` (e.g. the ``--set`` overrides) against ``spec``'s declarations.

    Returns:
        ``(values as they will be used, problems)``: one line per bad value, naming the
        hyperparameter, the value and what is allowed; names without a declaration are
        left to the caller (they are unknown names, not bad values).
    """
    decls = declarations(spec) if decls is None else decls
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in values.items():
        rule = decls.get(name)
        if rule is None:
            out[name] = value
            continue
        used, ok = rule.check(value)
        out[name] = used
        if not ok:
            problems.append(f"{name}={value!r}: expected {rule.describe()} ({rule.origin})")
    return out, problems


def check_presets(spec: ModelSpec) -> list[str]:
    """Preset values that break the spec's own declarations (empty if none): only an
    explicit ``Param`` can do that, the derived rules admit every preset."""
    decls = declarations(spec)
    problems = []
    for where, layer in (("defaults", spec.defaults),
                         *((f"variant {v!r}", o) for v, o in spec.variants.items())):
        _, bad = check_values(spec, {k: v for k, v in layer.items() if k in decls}, decls)
        problems += [f"{where}: {p}" for p in bad]
    return problems


def describe_all(spec: ModelSpec) -> dict[str, str]:
    """``{name: "float > 0 (convention)"}``, for listings and docs."""
    return {n: f"{p.describe()} ({p.origin})" for n, p in declarations(spec).items()}


def space_problems(spec: ModelSpec, space: Mapping[str, Any]) -> list[str]:
    """Search-space entries (``--space`` overrides) that reach values the hyperparameter
    cannot take: a range's ends, or a categorical's choices, checked like ``--set``."""
    from optuna.distributions import CategoricalDistribution

    decls = declarations(spec)
    problems = []
    for name, dist in space.items():
        rule = decls.get(name)
        if rule is None or dist is None:
            continue
        points = (list(dist.choices) if isinstance(dist, CategoricalDistribution)
                  else [dist.low, dist.high])
        bad = [p for p in points if not rule.check(p)[1]]
        if bad:
            problems.append(f"{name}: reaches {', '.join(map(repr, bad))}; expected "
                            f"{rule.describe()} ({rule.origin})")
    return problems
