"""``serbench plot``: figures from run records (matplotlib, Agg backend: no display)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("plot")
def command() -> None:
    """Plot figures from run records."""


@command.command("curves")
@click.argument("runs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("curves.png"),
              show_default=True, help="PNG file to write.")
@click.option("--runs-dir", type=click.Path(path_type=Path),
              help="Where run ids are looked up (default: SERBENCH_RUNS or ./runs).")
@click.option("--metric", default="valid_ua", show_default=True,
              help="Curve column to plot (valid_ua, valid_loss, train_loss).")
def curves(runs: tuple[str, ...], output: Path, runs_dir: Path | None, metric: str) -> None:
    """Validation UA per epoch of each RUN (a run folder, record.json or run id): the mean
    over folds as a bold line, each fold as a light line."""
    from serbench.run.curves import plot_curves
    from serbench.run.folder import locate_run

    records = []
    for ref in runs:
        folder = locate_run(ref, runs_dir)
        if not folder.is_complete():
            raise click.ClickException(
                f"run {folder.run_id} has no record.json yet; finish it with --resume first"
            )
        records.append(folder.read_record())
    written = plot_curves(records, output, metric=metric)
    click.echo(f"wrote {written}")
