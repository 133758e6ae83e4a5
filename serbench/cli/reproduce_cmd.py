"""``serbench reproduce MODEL``: every variant of a model beside the paper's numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from serbench.run.resolve import DEVICES


@click.command("reproduce")
@click.argument("model")
@click.option("--corpus", "-c", default="synthetic", show_default=True,
              help="Corpus to measure on.")
@click.option("--data", type=click.Path(path_type=Path), help="The corpus's folder or file.")
@click.option("--corpus-option", "corpus_options", multiple=True, metavar="K=V")
@click.option("--label-map", help="Label map (default: the model's preferred, else the corpus's).")
@click.option("--protocol", "-p", help="Protocol (default: the model's preferred, else the corpus's).")
@click.option("--max-epochs", type=click.IntRange(min=1), help="Reduced epoch budget.")
@click.option("--variants", help="Only these variants / baselines (comma-separated).")
@click.option("--set", "overrides", multiple=True, metavar="K=V",
              help="Override a hyperparameter in every run whose model has it; repeatable.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--folds", help="Run only these folds (comma-separated).")
@click.option("--resume", is_flag=True, help="Complete runs interrupted earlier.")
@click.option("--runs-dir", type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(model, corpus, data, corpus_options, label_map, protocol, max_epochs, variants,
            overrides, seed, device, folds, resume, runs_dir, quiet) -> None:
    """Run every variant of MODEL (and the baselines its paper compares with) on one
    corpus and print the measured UA/WA beside the paper's reported numbers."""
    from rich.console import Console

    from serbench.plugins import get_registry
    from serbench.run.options import parse_assignments
    from serbench.run.pipeline import RunConfig, RunInterrupted, run_experiment
    from serbench.run.reproduce import comparison_table, plan_fusions, plan_runs
    from serbench.run.resolve import known_hyperparameters

    registry = get_registry()
    spec = registry.model(model)
    only = [v.strip() for v in variants.split(",") if v.strip()] if variants else None
    plans = plan_runs(spec, registry, only)
    sets = parse_assignments(overrides, "--set")
    known = {p.model: known_hyperparameters(registry.model(p.model)) for p in plans}
    unused = sorted(k for k in sets if not any(k in names for names in known.values()))
    if unused:
        raise click.BadParameter(
            f"{', '.join(unused)}: no model of this reproduction has such a hyperparameter; "
            f"known: {', '.join(sorted(set().union(*known.values())))}", param_hint="--set")
    console = Console(stderr=True)
    records = {}
    for plan in plans:
        console.rule(plan.model + (f" · variant {plan.variant}" if plan.variant else ""))
        first = next(iter(records.values()), None)
        baseline = plan.model != spec.name and first is not None
        config = RunConfig(
            model=plan.model, variant=plan.variant, corpus=corpus, data=data,
            corpus_options=parse_assignments(corpus_options, "--corpus-option", typed=False),
            label_map=label_map or (first["corpus"]["label_map"] if baseline else None),
            protocol=protocol or (first["protocol"]["name"] if baseline else None),
            overrides={k: v for k, v in sets.items() if k in known[plan.model]},
            seed=seed, device=device,
            max_epochs=max_epochs, runs_dir=runs_dir, resume=resume,
            folds=[f.strip() for f in folds.split(",")] if folds else None,
        )
        try:
            records[plan.label] = run_experiment(config, registry=registry,
                                                 progress=not quiet, console=console)
        except RunInterrupted as exc:
            click.secho(str(exc), fg="yellow", err=True)
            sys.exit(130)
    fusions = plan_fusions(spec, plans)
    for fusion in fusions:  # paper rows "A+B": score fusion of two runs made above
        from serbench import paths
        from serbench.run.folder import RunFolder
        from serbench.run.fusion import fuse_runs

        console.rule(f"fusion · {fusion.label}")
        root = Path(runs_dir) if runs_dir else paths.runs_dir()
        a, b = (records[label] for label in fusion.label.split("+"))
        records[fusion.label] = fuse_runs(RunFolder(root / a["run_id"]),
                                          RunFolder(root / b["run_id"]), runs_dir=root,
                                          force=True)
    # piped into a file or a log, rich would wrap the table to 80 columns
    out = Console() if sys.stdout.isatty() else Console(width=160)
    out.print(comparison_table(spec, [*plans, *fusions], records))
