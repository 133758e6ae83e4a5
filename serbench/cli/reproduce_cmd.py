"""``serbench reproduce MODEL``: every row of a model's paper tables on one split, beside
the paper's numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from serbench.cli.experiment_options import seeds_of, seeds_option
from serbench.run.resolve import DEVICES


@click.command("reproduce")
@click.argument("model")
@click.option("--corpus", "-c", default="synthetic", show_default=True,
              help="Corpus to measure on.")
@click.option("--data", type=click.Path(path_type=Path), help="The corpus's folder or file.")
@click.option("--corpus-option", "corpus_options", multiple=True, metavar="K=V")
@click.option("--label-map", help="Label map (default: the model's preferred, else the corpus's).")
@click.option("--protocol", "-p", help="Protocol (default: the model's preferred, else the corpus's).")
@click.option("--protocol-option", "protocol_options", multiple=True, metavar="K=V",
              help="Protocol option, for every row; repeatable.")
@click.option("--max-epochs", type=click.IntRange(min=1), help="Reduced epoch budget.")
@click.option("--variants", help="Only these rows: variants / comparison systems (comma-separated).")
@click.option("--set", "overrides", multiple=True, metavar="K=V",
              help="Override a hyperparameter in every run whose model has it; repeatable.")
@click.option("--seed", type=int, default=0, show_default=True)
@seeds_option
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--folds", help="Run only these folds (comma-separated).")
@click.option("--resume", is_flag=True,
              help="Complete rows interrupted earlier (rows never started are started).")
@click.option("--threads", type=click.IntRange(min=1),
              help="CPU threads for torch (default: torch's choice); as `serbench run`.")
@click.option("--min-per-class", type=click.IntRange(min=0), default=None,
              help="Fused rows: fewest validation utterances per class to fit the fusion "
                   "(default 30); below it, the equal-weight average.")
@click.option("--runs-dir", type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(model, corpus, data, corpus_options, label_map, protocol, protocol_options,
            max_epochs, variants, overrides, seed, seeds, device, folds, resume, threads,
            min_per_class, runs_dir, quiet) -> None:
    """Run every row of MODEL's paper tables (its variants, the comparison systems its
    paper ran, their score fusions) on one corpus and one split per seed, and print the
    measured scores beside the paper's reported numbers. Rows the paper reports but
    serbench does not run are printed with the reason."""
    from rich.console import Console

    from serbench.cli.console import make_console
    from serbench.plugins import get_registry
    from serbench.reproduce.runner import reproduce
    from serbench.reproduce.table import comparison_table
    from serbench.run.config import RunConfig
    from serbench.run.options import parse_assignments
    from serbench.run.pipeline import RunInterrupted

    ctx = click.get_current_context()
    seed_list = seeds_of(ctx, {"seed": seed, "seeds": seeds})
    if threads:
        import torch

        torch.set_num_threads(threads)
    registry = get_registry()
    base = RunConfig(
        model=model, corpus=corpus, data=data,
        corpus_options=parse_assignments(corpus_options, "--corpus-option", typed=False),
        label_map=label_map, protocol=protocol,
        protocol_options=parse_assignments(protocol_options, "--protocol-option"),
        overrides=parse_assignments(overrides, "--set"), seed=seed_list[0], device=device,
        max_epochs=max_epochs, runs_dir=runs_dir, resume=resume,
        folds=[f.strip() for f in folds.split(",") if f.strip()] if folds else None,
    )
    only = [v.strip() for v in variants.split(",") if v.strip()] if variants else None
    console = make_console(stderr=True)
    try:
        result = reproduce(model, base, registry=registry, seeds=seed_list, only=only,
                           progress=not quiet, console=console, min_per_class=min_per_class)
    except RunInterrupted as exc:
        click.secho(str(exc), fg="yellow", err=True)
        sys.exit(130)
    splits = sorted(set(result.splits.values()))
    # piped into a file or a log, rich would wrap the table to 80 columns
    out = Console() if sys.stdout.isatty() else Console(width=240)
    out.print(comparison_table(model, result.plan, result.records, notes=result.notes,
                               split=", ".join(splits)))
