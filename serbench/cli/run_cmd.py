"""``serbench run``: one model variant x corpus x label map x protocol x feature x seed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from serbench.cli.experiment_options import experiment_options, run_config


def command_from_context(ctx: click.Context) -> list[str]:
    """``["serbench", "run", ...]`` rebuilt from the parsed options (non-defaults only),
    for the record and for the resume hint; independent of how the CLI was invoked."""
    parts = ["serbench", ctx.info_name or "run"]
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name not in ctx.params:
            continue
        value, flag = ctx.params[param.name], param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
        if value is None or value == param.default or value in ((), False):
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
@experiment_options("Override a hyperparameter (YAML-typed: 3, 1e-3, true, [64,32]); repeatable.")
@click.option("--folds", "folds", help="Run only these folds (comma-separated names).")
@click.option("--resume", is_flag=True, help="Complete only the folds missing from this run.")
@click.option("--force", is_flag=True, help="Re-run even if this run is already complete.")
@click.option("--threads", type=click.IntRange(min=1),
              help="CPU threads for torch (default: torch's choice, one per core). On a "
                   "shared machine, fewer threads than cores avoids oversubscription; the "
                   "record stores the count. Not part of the run's identity.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(folds, resume, force, threads, quiet, **options) -> None:
    """Train and test a model on every fold of a protocol and write a run record.

    Settings not given come from the model variant, the model's defaults, the model's
    preferred (paper) protocol, then the corpus's defaults.
    """
    from rich.console import Console

    from serbench.run.pipeline import RunInterrupted, run_experiment
    from serbench.run.report import record_report

    config = run_config(options, resume=resume, force=force, folds=_folds(folds))
    runs_dir = options["runs_dir"]
    if threads:
        import torch

        torch.set_num_threads(threads)
    console = Console(stderr=True)
    try:
        record = run_experiment(config, progress=not quiet, console=console,
                                command=command_from_context(click.get_current_context()))
    except RunInterrupted as exc:
        click.secho(str(exc), fg="yellow", err=True)
        sys.exit(130)
    runs_root = Path(runs_dir) if runs_dir else None
    from serbench import paths

    where = (runs_root or paths.runs_dir()) / record["run_id"] / "record.json"
    Console().print(record_report(record, str(where)))
