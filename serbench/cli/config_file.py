"""Experiment files: ``serbench run --config exp.toml`` (TOML, YAML or JSON).

A file holds any of ``run``'s settings under the option's name (``max_epochs`` or
``max-epochs``; ``set`` / ``overrides`` for hyperparameters)::

    model = "ar_gru"
    max_epochs = 10
    seeds = [0, 1, 2]
    [set]
    lr = 1e-3
    hidden_size = 64

A run folder's ``config.json`` is itself a valid file: its ``identity`` is turned back
into settings, so running it again gives the same run id.

Flags given on the command line win over the file (click's ``default_map`` supplies the
file's values only to options that were not given). The ``K=V`` options (``set``,
``corpus_options``, ``protocol_options``, ``feature_params``) may be tables; a flag
overrides the file's value of its key only. Relative paths in a file are relative to the
file's folder.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from serbench.errors import ConfigError

#: option name -> flag, for the K=V options whose file value may be a table
MAPPING_OPTIONS = {"corpus_options": "--corpus-option", "protocol_options": "--protocol-option",
                   "feature_params": "--feature-param", "overrides": "--set"}
#: other spellings accepted in a file
ALIASES = {"set": "overrides", "corpus_option": "corpus_options",
           "protocol_option": "protocol_options", "feature_param": "feature_params"}
#: where :func:`load_into_context` leaves the file's tables for :func:`merged_mappings`
META_KEY = "serbench.config_mappings"
PATH_OPTIONS = ("data", "runs_dir", "test_data")


def read_settings_file(path: Path) -> dict[str, Any]:
    """A TOML/YAML/JSON file's top-level mapping (a run folder's ``config.json`` is
    translated by :func:`settings_from_run_config`).

    Raises:
        ConfigError: unreadable or not a mapping, naming the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror})") from exc
    try:
        if path.suffix == ".toml":
            doc = tomllib.loads(text)
        elif path.suffix == ".json":
            doc = json.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            doc = yaml.safe_load(text)
        else:
            raise ConfigError(f"--config {path}: give a .toml, .yaml, .yml or .json file")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ConfigError(f"--config {path}: not valid {path.suffix[1:].upper()}: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise ConfigError(f"--config {path}: the file must hold a mapping of settings")
    if "identity" in doc and "run_id" in doc:
        return settings_from_run_config(doc, path)
    return dict(doc)


def settings_from_run_config(doc: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """A run folder's ``config.json`` as run settings that resolve to the same identity
    (hence the same run id): the resolved hyperparameters become ``set``, the resolved
    corpus/protocol/feature settings become explicit ones."""
    try:
        ident = doc["identity"]
        model, corpus = ident["model"], ident["corpus"]
        protocol, feature = ident["protocol"], ident["feature"]
        settings = {
            "model": model["name"], "variant": model.get("variant"),
            "corpus": corpus["name"], "data": doc.get("data"),
            "corpus_options": dict(corpus.get("options") or {}),
            "label_map": corpus["label_map"],
            "protocol": protocol["name"], "protocol_options": dict(protocol.get("options") or {}),
            "feature": feature["name"], "feature_params": dict(feature.get("params") or {}),
            "normalisation": feature["normalisation"],
            "overrides": dict(ident.get("hyperparameters") or {}),
            "seed": ident["seed"], "max_epochs": doc.get("max_epochs_override"),
            "device": doc.get("device_requested"),
            "folds": ",".join(protocol["folds"]) if protocol.get("folds") else None,
        }
        if ident.get("cross_corpus"):  # a cross-corpus run: its test corpus and extras
            test = ident["cross_corpus"]["parts"][-1]
            where = doc.get("cross_corpus_data") or {}
            settings.update(
                test_corpus=test["name"], test_label_map=test["label_map"],
                test_corpus_options=[f"{k}={v}" for k, v in (test.get("options") or {}).items()],
                test_data=where.get("test_data"), extra_corpora=where.get("extra_corpora") or None)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"--config {path}: a run config.json without {exc} in its identity; "
                          "is it from an older serbench? Give the run's settings instead.") from exc
    return {k: v for k, v in settings.items() if v is not None}


def _name(key: str) -> str:
    key = key.replace("-", "_")
    return ALIASES.get(key, key)


def _pairs_text(name: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """A file's table for a K=V option; corpus options are strings, as on the command line
    (so a file and a flag give the same run id)."""
    if name != "corpus_options":
        return dict(table)
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in table.items()}


def load_into_context(ctx: click.Context, path: Path, skip: tuple[str, ...] = ("config",)
                      ) -> None:
    """Read ``path`` and make its settings the defaults of ``ctx``'s command.

    Raises:
        ConfigError: an unknown key (naming it, the file and the known keys) or a value
            the option refuses (naming the key and the file).
    """
    settings = read_settings_file(path)
    params = {p.name: p for p in ctx.command.params
              if isinstance(p, click.Option) and p.name not in skip and p.name != "help"}
    unknown = sorted(k for k in settings if _name(k) not in params)
    if unknown:
        known = sorted(set(params) - {"overrides"} | {"set"})
        raise ConfigError(
            f"--config {path}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)}. Known keys: {', '.join(known)}.")
    defaults: dict[str, Any] = dict(ctx.default_map or {})
    tables: dict[str, dict[str, Any]] = {}
    for key, value in settings.items():
        name, param = _name(key), params[_name(key)]
        if name in MAPPING_OPTIONS:
            if isinstance(value, Mapping):
                tables[name] = _pairs_text(name, value)
                continue
            value = [value] if isinstance(value, str) else list(value)
        if name in PATH_OPTIONS and value is not None:
            value = str(path.parent / Path(str(value)).expanduser())
        if name == "seeds" and isinstance(value, list):
            value = ",".join(str(v) for v in value)
        try:
            param.type_cast_value(ctx, value)
        except click.BadParameter as exc:
            raise ConfigError(f"--config {path}: key {key!r}: {exc.message}") from exc
        defaults[name] = value
    ctx.default_map = defaults
    ctx.meta[META_KEY] = tables


def merged_mappings(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with each K=V option as a dict: the file's table, then the flags
    (a flag wins for its key)."""
    from serbench.run.options import parse_assignments

    tables = ctx.meta.get(META_KEY, {})
    out = dict(options)
    for name, flag in MAPPING_OPTIONS.items():
        if name not in out:
            continue
        given = parse_assignments(out[name] or (), flag, typed=name != "corpus_options")
        out[name] = {**tables.get(name, {}), **given}
    return out


def config_option(command: Any) -> Any:
    """Decorator: ``--config FILE``, read before the other options are parsed."""

    def callback(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
        if value is not None:
            load_into_context(ctx, value)

    return click.option(
        "--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
        is_eager=True, expose_value=False, callback=callback,
        help="TOML/YAML/JSON file of this command's settings (a run folder's config.json "
             "works too); flags given here win over the file.")(command)
