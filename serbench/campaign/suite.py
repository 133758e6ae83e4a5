"""A suite file (docs/sweeps.md): benchmarks x models x variants x features x seeds.

:func:`load_suite` reads a TOML (or YAML) file and checks it against the installed
components before anything runs: every unknown key, model, variant, feature, corpus,
protocol or hyperparameter is reported at once, each with its key path
(``models[1].variants[0]``) and the known names. Label maps and data folders are checked
when the plan resolves each run (:mod:`serbench.campaign.plan`), still before any run.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError
from serbench.plugins import Registry
from serbench.run.resolve import DEVICES, NORMALISATIONS

CAMPAIGN_KEYS = {"name", "description", "seeds", "device"}
BENCHMARK_KEYS = {"name", "corpus", "data", "corpus_options", "label_map", "protocol",
                  "protocol_options"}
MODEL_KEYS = {"name", "variants", "features", "feature_params", "normalisation", "set", "sets",
              "max_epochs", "seeds", "resources"}
RESOURCE_KEYS = {"cpus", "gpus", "mem_gb", "time_min", "partition", "sbatch"}
TOP_KEYS = {"campaign", "resources", "benchmarks", "models"}


class SuiteError(ConfigError):
    """A suite file with one or more bad entries (all listed)."""


@dataclass(frozen=True)
class Resources:
    """What one run asks a Slurm cluster for (the local executor uses none of it)."""

    cpus: int = 1
    gpus: int = 0
    mem_gb: float | None = None
    time_min: int = 60
    partition: str | None = None
    #: further ``sbatch`` options, e.g. ``["--qos=short", "--account=lab"]``
    sbatch: tuple[str, ...] = ()

    def merged(self, over: Mapping[str, Any]) -> Resources:
        """These resources with ``over``'s keys replaced."""
        values = {**self.__dict__, **over}
        values["sbatch"] = tuple(values.get("sbatch") or ())
        return Resources(**values)


@dataclass(frozen=True)
class Benchmark:
    """Corpus x label map x protocol: one leaderboard."""

    corpus: str
    data: Path | None = None
    corpus_options: Mapping[str, str] = field(default_factory=dict)
    label_map: str | None = None
    protocol: str | None = None
    protocol_options: Mapping[str, Any] = field(default_factory=dict)
    #: the leaderboard's name (None: ``<corpus>-<label_map>-<protocol>`` of its runs)
    name: str | None = None


@dataclass(frozen=True)
class ModelEntry:
    """One ``[[models]]`` table: a model and the axes it is run over."""

    name: str
    variants: tuple[str | None, ...] = (None,)
    features: tuple[str | None, ...] = (None,)
    feature_params: Mapping[str, Any] = field(default_factory=dict)
    normalisation: str | None = None
    #: one run configuration per mapping of hyperparameter overrides
    sets: tuple[Mapping[str, Any], ...] = ({},)
    max_epochs: int | None = None
    seeds: tuple[int, ...] | None = None
    resources: Resources = Resources()


@dataclass(frozen=True)
class Suite:
    """A parsed, checked suite file."""

    path: Path
    name: str
    description: str
    seeds: tuple[int, ...]
    benchmarks: tuple[Benchmark, ...]
    models: tuple[ModelEntry, ...]
    device: str = "auto"


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"suite {path}: cannot read it ({exc.strerror})") from exc
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            doc = yaml.safe_load(text)
        else:
            doc = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise SuiteError(f"suite {path}: not valid {'YAML' if path.suffix != '.toml' else 'TOML'}: "
                         f"{exc}") from exc
    if not isinstance(doc, dict):
        raise SuiteError(f"suite {path}: the file must hold a mapping")
    return doc


def _known(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}known: {', '.join(known) or '(none)'}"


class _Checker:
    """Collects every problem of a suite, each with its key path."""

    def __init__(self, path: Path):
        self.path, self.problems = path, []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def keys(self, where: str, table: Any, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(table, Mapping):
            self.add(where, f"must be a table, got {type(table).__name__}")
            return {}
        for key in sorted(set(table) - allowed):
            self.add(f"{where}.{key}" if where else key,
                     f"unknown key; {_known(key, sorted(allowed))}")
        return dict(table)

    def seeds(self, where: str, value: Any) -> tuple[int, ...] | None:
        if value is None:
            return None
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                or len(set(value)) != len(value)):
            self.add(where, f"give a list of distinct integer seeds, e.g. [0, 1, 2], not {value!r}")
            return None
        return tuple(value)

    def listed(self, where: str, value: Any) -> tuple[Any, ...]:
        if value is None:
            return (None,)
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not value:
            self.add(where, f"give a name or a non-empty list of names, not {value!r}")
            return (None,)
        return tuple(value)

    def raise_if_any(self) -> None:
        if self.problems:
            raise SuiteError(f"suite {self.path}: {len(self.problems)} problem(s); nothing was "
                             "run:\n  " + "\n  ".join(self.problems))


def _benchmark(check: _Checker, where: str, table: Any, base: Path,
               registry: Registry) -> Benchmark | None:
    table = check.keys(where, table, BENCHMARK_KEYS)
    corpus = table.get("corpus")
    if not isinstance(corpus, str):
        check.add(f"{where}.corpus", f"required; {_known('', registry.names('corpus'))}")
        return None
    if corpus not in registry.names("corpus"):
        check.add(f"{where}.corpus", f"unknown corpus {corpus!r}; "
                  f"{_known(corpus, registry.names('corpus'))}")
    protocol = table.get("protocol")
    if protocol is not None and protocol not in registry.names("protocol"):
        check.add(f"{where}.protocol", f"unknown protocol {protocol!r}; "
                  f"{_known(str(protocol), registry.names('protocol'))}")
    name = table.get("name")
    if name is not None and (not isinstance(name, str) or not re.fullmatch(r"[\w.-]+", name)):
        check.add(f"{where}.name", f"{name!r} is not a leaderboard name (letters, digits, . _ -)")
    data = table.get("data")
    options = table.get("corpus_options") or {}
    return Benchmark(
        corpus=corpus, data=(base / Path(data).expanduser()) if data else None,
        corpus_options={k: v if isinstance(v, str) else str(v).lower() if isinstance(v, bool)
                        else str(v) for k, v in dict(options).items()},
        label_map=table.get("label_map"), protocol=protocol,
        protocol_options=dict(table.get("protocol_options") or {}), name=name)


def _model(check: _Checker, where: str, table: Any, defaults: Resources,
           registry: Registry) -> ModelEntry | None:
    from serbench.run.model_hparams import known_hyperparameters

    table = check.keys(where, table, MODEL_KEYS)
    name = table.get("name")
    if not isinstance(name, str) or name not in registry.names("model"):
        check.add(f"{where}.name", f"unknown model {name!r}; "
                  f"{_known(str(name), registry.names('model'))}")
        return None
    spec = registry.lookup("model", name).spec
    variants = check.listed(f"{where}.variants", table.get("variants"))
    for i, variant in enumerate(variants):
        if variant is not None and variant not in spec.variants:
            check.add(f"{where}.variants[{i}]", f"model {name!r} has no variant {variant!r}; "
                      f"{_known(str(variant), sorted(spec.variants))}")
    features = check.listed(f"{where}.features", table.get("features"))
    for i, feature in enumerate(features):
        if feature is not None and feature not in registry.names("feature"):
            check.add(f"{where}.features[{i}]", f"unknown feature {feature!r}; "
                      f"{_known(str(feature), registry.names('feature'))}")
    if "set" in table and "sets" in table:
        check.add(where, "give either set (one table) or sets (a list of tables), not both")
    sets = table.get("sets") or [table.get("set") or {}]
    known = known_hyperparameters(spec)
    for i, overrides in enumerate(sets):
        at = f"{where}.sets[{i}]" if "sets" in table else f"{where}.set"
        if not isinstance(overrides, Mapping):
            check.add(at, "must be a table of hyperparameter = value")
            continue
        for key in sorted(set(overrides) - known):
            check.add(f"{at}.{key}", f"not a hyperparameter of {name!r}; "
                      f"{_known(key, sorted(known))}")
    if table.get("normalisation") not in (None, *NORMALISATIONS):
        check.add(f"{where}.normalisation", f"{table['normalisation']!r}; "
                  f"known: {', '.join(NORMALISATIONS)}")
    max_epochs = table.get("max_epochs")
    if max_epochs is not None and (not isinstance(max_epochs, int) or max_epochs < 1):
        check.add(f"{where}.max_epochs", f"give a positive integer, not {max_epochs!r}")
    resources = _resources(check, f"{where}.resources", table.get("resources"), defaults)
    return ModelEntry(
        name=name, variants=variants, features=features,
        feature_params=dict(table.get("feature_params") or {}),
        normalisation=table.get("normalisation"), sets=tuple(dict(s) for s in sets
                                                            if isinstance(s, Mapping)) or ({},),
        max_epochs=max_epochs, seeds=check.seeds(f"{where}.seeds", table.get("seeds")),
        resources=resources)


def _resources(check: _Checker, where: str, table: Any, base: Resources) -> Resources:
    if table is None:
        return base
    table = check.keys(where, table, RESOURCE_KEYS)
    for key in ("cpus", "gpus", "time_min"):
        value = table.get(key)
        if value is not None and (not isinstance(value, int) or value < (key != "gpus")):
            check.add(f"{where}.{key}", f"give a {'non-negative' if key == 'gpus' else 'positive'}"
                      f" integer, not {value!r}")
            table.pop(key)
    sbatch = table.get("sbatch")
    if sbatch is not None and (not isinstance(sbatch, list)
                               or not all(isinstance(s, str) and s.startswith("--")
                                          for s in sbatch)):
        check.add(f"{where}.sbatch", f"give a list of sbatch options like ['--qos=short'], "
                  f"not {sbatch!r}")
        table.pop("sbatch")
    return base.merged(table)


def load_suite(path: Path, registry: Registry) -> Suite:
    """Parse and check a suite file against ``registry``.

    Raises:
        SuiteError: every bad entry at once (key path, what is wrong, the known names).
    """
    path = Path(path)
    doc = _read(path)
    check = _Checker(path)
    check.keys("", doc, TOP_KEYS)
    campaign = check.keys("campaign", doc.get("campaign", {}), CAMPAIGN_KEYS)
    name = campaign.get("name") or path.stem
    if not re.fullmatch(r"[\w.-]+", str(name)):
        check.add("campaign.name", f"{name!r}: use letters, digits, '.', '_' or '-'")
    seeds = check.seeds("campaign.seeds", campaign.get("seeds", [0])) or (0,)
    if campaign.get("device", "auto") not in DEVICES:
        check.add("campaign.device", f"{campaign['device']!r}; known: {', '.join(DEVICES)}")
    defaults = _resources(check, "resources", doc.get("resources", {}), Resources())
    benchmarks_doc = doc.get("benchmarks")
    if not isinstance(benchmarks_doc, list) or not benchmarks_doc:
        check.add("benchmarks", "required: at least one [[benchmarks]] table with a corpus")
        benchmarks_doc = []
    models_doc = doc.get("models")
    if not isinstance(models_doc, list) or not models_doc:
        check.add("models", "required: at least one [[models]] table with a name")
        models_doc = []
    benchmarks = [_benchmark(check, f"benchmarks[{i}]", t, path.resolve().parent, registry)
                  for i, t in enumerate(benchmarks_doc)]
    models = [_model(check, f"models[{i}]", t, defaults, registry)
              for i, t in enumerate(models_doc)]
    check.raise_if_any()
    return Suite(path=path, name=str(name), description=str(campaign.get("description") or ""),
                 seeds=seeds, benchmarks=tuple(b for b in benchmarks if b is not None),
                 models=tuple(m for m in models if m is not None),
                 device=str(campaign.get("device") or "auto"))
