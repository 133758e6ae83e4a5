"""``serbench run``: one model variant x corpus x label map x protocol x feature x seed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from serbench.run.resolve import DEVICES, NORMALISATIONS


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
@click.option("--model", "-m", required=True, help="Registered model name (see `serbench plugins`).")
@click.option("--variant", help="One of the model's variants (ablations / table rows).")
@click.option("--corpus", "-c", default="synthetic", show_default=True,
              help="Registered corpus name.")
@click.option("--data", type=click.Path(path_type=Path),
              help="The corpus's folder or manifest file (default: SERBENCH_DATA/<corpus>).")
@click.option("--corpus-option", "corpus_options", multiple=True, metavar="K=V",
              help="Option for the corpus loader; repeatable.")
@click.option("--label-map", help="One of the corpus's label maps.")
@click.option("--protocol", "-p", help="Registered protocol name.")
@click.option("--protocol-option", "protocol_options", multiple=True, metavar="K=V",
              help="Protocol option; repeatable.")
@click.option("--feature", "-f", help="Registered feature name.")
@click.option("--feature-param", "feature_params", multiple=True, metavar="K=V",
              help="Feature extractor parameter; repeatable.")
@click.option("--normalisation", type=click.Choice(NORMALISATIONS),
              help="Feature normalisation, fitted on each fold's training part.")
@click.option("--set", "overrides", multiple=True, metavar="K=V",
              help="Override a hyperparameter (YAML-typed: 3, 1e-3, true, [64,32]); repeatable.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--max-epochs", type=click.IntRange(min=1),
              help="Reduced epoch budget (overrides the model's max_epochs).")
@click.option("--folds", "folds", help="Run only these folds (comma-separated names).")
@click.option("--resume", is_flag=True, help="Complete only the folds missing from this run.")
@click.option("--force", is_flag=True, help="Re-run even if this run is already complete.")
@click.option("--runs-dir", type=click.Path(path_type=Path),
              help="Root of run folders (default: SERBENCH_RUNS or ./runs).")
@click.option("--threads", type=click.IntRange(min=1),
              help="CPU threads for torch (default: torch's choice, one per core). On a "
                   "shared machine, fewer threads than cores avoids oversubscription; the "
                   "record stores the count. Not part of the run's identity.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(model, variant, corpus, data, corpus_options, label_map, protocol,
            protocol_options, feature, feature_params, normalisation, overrides, seed, device,
            max_epochs, folds, resume, force, runs_dir, threads, quiet) -> None:
    """Train and test a model on every fold of a protocol and write a run record.

    Settings not given come from the model variant, the model's defaults, the model's
    preferred (paper) protocol, then the corpus's defaults.
    """
    from rich.console import Console

    from serbench.run.options import parse_assignments
    from serbench.run.pipeline import RunConfig, RunInterrupted, run_experiment
    from serbench.run.report import record_report

    config = RunConfig(
        model=model, variant=variant, corpus=corpus, data=data,
        corpus_options=parse_assignments(corpus_options, "--corpus-option", typed=False),
        label_map=label_map, protocol=protocol,
        protocol_options=parse_assignments(protocol_options, "--protocol-option"),
        feature=feature, feature_params=parse_assignments(feature_params, "--feature-param"),
        normalisation=normalisation, overrides=parse_assignments(overrides, "--set"),
        seed=seed, device=device, runs_dir=runs_dir, resume=resume, max_epochs=max_epochs,
        force=force, folds=_folds(folds),
    )
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
