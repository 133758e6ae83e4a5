"""``serbench run``: one model variant x corpus x label map x protocol x feature x seed."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from serbench.cli.config_file import config_option, merged_mappings
from serbench.cli.cross_corpus_options import cross_corpus_fields, cross_corpus_options
from serbench.cli.experiment_options import (
    experiment_options,
    run_config,
    seeds_of,
    seeds_option,
)


def command_from_context(ctx: click.Context, params: Mapping[str, Any] | None = None,
                         skip: tuple[str, ...] = ("seeds",)) -> list[str]:
    """``["serbench", "run", ...]`` rebuilt from the parsed options (non-defaults only),
    for the record and for the resume hint; independent of how the CLI was invoked.

    Args:
        ctx: the command's context.
        params: values to use instead of ``ctx.params`` (e.g. one seed of ``--seeds``, the
            K=V tables merged from an experiment file); mappings become ``K=V`` flags.
        skip: options left out.
    """
    values = {**ctx.params, **(params or {})}
    parts = ["serbench", ctx.info_name or "run"]
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name not in values or param.name in skip:
            continue
        value, flag = values[param.name], param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
        if isinstance(value, Mapping):
            value = tuple(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                          for k, v in value.items())
        if value is None or value == param.default or value in ((), False, {}):
            continue
        if param.is_flag:
            parts.append(flag)
        elif param.multiple:
            for item in value:
                parts += [flag, str(item)]
        else:
            parts += [flag, str(value)]
    return parts


def _folds(value: str | None) -> list[str] | None:
    return [p.strip() for p in value.split(",") if p.strip()] if value else None


@click.command("run")
@config_option
@experiment_options("Override a hyperparameter (YAML-typed: 3, 1e-3, true, [64,32]); repeatable.")
@cross_corpus_options
@seeds_option
@click.option("--folds", "folds", help="Run only these folds (comma-separated names).")
@click.option("--resume", is_flag=True, help="Complete only the folds missing from this run.")
@click.option("--force", is_flag=True, help="Re-run even if this run is already complete.")
@click.option("--threads", type=click.IntRange(min=1),
              help="CPU threads for torch (default: torch's choice, one per core). On a "
                   "shared machine, fewer threads than cores avoids oversubscription; the "
                   "record stores the count. Not part of the run's identity.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True,
              help="Print each run's summary (run id, folder, UA/WA/F1 mean and pooled, "
                   "per-fold UA, timing) as one line of JSON on stdout; the tables go to "
                   "stderr.")
def command(folds, resume, force, threads, quiet, as_json, **options) -> None:
    """Train and test a model on every fold of a protocol and write a run record.

    Settings not given come from the model variant, the model's defaults, the model's
    preferred (paper) protocol, then the corpus's defaults. With --seeds, one run per
    seed, one after the other.
    """
    from serbench import paths
    from serbench.cli.console import make_console
    from serbench.run.pipeline import RunInterrupted, run_experiment
    from serbench.run.report import record_report

    ctx = click.get_current_context()
    options = merged_mappings(ctx, options)
    folds = _folds_of_file_kept(ctx, folds)
    seeds = seeds_of(ctx, options)
    base = run_config(options, resume=resume, force=force, folds=_folds(folds),
                      **cross_corpus_fields(options))
    runs_root = Path(options["runs_dir"]) if options["runs_dir"] else paths.runs_dir()
    if threads:
        import torch

        torch.set_num_threads(threads)
    console = make_console(stderr=True)
    report_console = make_console(stderr=as_json)  # --json: stdout holds only the JSON
    records = []
    for seed in seeds:
        config = dataclasses.replace(base, seed=seed)
        recorded = command_from_context(ctx, {**options, "seed": seed, "folds": folds,
                                              "as_json": False})  # output, not setup
        try:
            record = run_experiment(config, progress=not quiet, console=console,
                                    command=recorded)
        except RunInterrupted as exc:
            click.secho(str(exc), fg="yellow", err=True)
            sys.exit(130)
        records.append(record)
        where = runs_root / record["run_id"] / "record.json"
        report_console.print(record_report(record, str(where)))
        if as_json:
            from serbench.run.summary import record_summary

            click.echo(json.dumps(record_summary(record, where.parent)))
    if len(records) > 1:
        _print_seed_summary(records, err=as_json)


#: flags that change a run's folds: a file's fold list (a config.json's) no longer applies
_FOLD_CHANGING = ("corpus", "data", "corpus_options", "label_map", "protocol",
                  "protocol_options")


def _folds_of_file_kept(ctx: click.Context, folds: str | None) -> str | None:
    """``folds``, unless it came from an experiment file and a flag changed the protocol or
    corpus (a run folder's config.json names its folds; another protocol has others)."""
    source = click.core.ParameterSource
    if ctx.get_parameter_source("folds") == source.DEFAULT_MAP and any(
            ctx.get_parameter_source(name) == source.COMMANDLINE for name in _FOLD_CHANGING):
        return None
    return folds


def _print_seed_summary(records: list[dict[str, Any]], err: bool = False) -> None:
    """One line per seed and the mean ± std over seeds of the pooled UA (on stderr
    with ``err``)."""
    import statistics

    pooled = [r["aggregate"]["pooled"].get("ua") for r in records]
    for record, ua in zip(records, pooled, strict=True):
        click.echo(f"seed {record['training']['seed']} ({record['run_id']}): pooled UA "
                   f"{'-' if ua is None else f'{100 * ua:.1f}%'}", err=err)
    values = [float(v) for v in pooled if v is not None]
    if len(values) > 1:
        click.echo(f"pooled UA over {len(values)} seeds: {100 * statistics.fmean(values):.1f} "
                   f"± {100 * statistics.stdev(values):.1f}%", err=err)
