"""``serbench plot``: figures from run records (matplotlib, Agg backend: no display)."""

from __future__ import annotations

from pathlib import Path

import click

from serbench.cli.figure_options import figure_options
from serbench.figures import FigureStyle


@click.group("plot")
def command() -> None:
    """Plot figures from run records (PDF, SVG or PNG by the output's suffix)."""


def _complete(ref: str, runs_dir: Path | None):  # -> RunFolder
    from serbench.run.folder import locate_run

    folder = locate_run(ref, runs_dir)
    if not folder.is_complete():
        raise click.ClickException(
            f"run {folder.run_id} has no record.json yet; finish it with --resume first"
        )
    return folder


@command.command("curves")
@click.argument("runs", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("curves.png"),
              show_default=True, help="File to write (.pdf, .svg or .png).")
@click.option("--runs-dir", type=click.Path(path_type=Path),
              help="Where run ids are looked up (default: SERBENCH_RUNS or ./runs).")
@click.option("--metric", default="valid_ua", show_default=True,
              help="Curve column to plot (valid_ua, valid_loss, train_loss).")
@figure_options
def curves(runs: tuple[str, ...], output: Path, runs_dir: Path | None, metric: str,
           style: FigureStyle) -> None:
    """Validation UA per epoch of each RUN (a run folder, record.json or run id): the mean
    over folds as a bold line, each fold as a light line with its best epoch starred, and
    chance (1 / classes) dashed."""
    from serbench.run.curves import plot_curves

    records = [_complete(ref, runs_dir).read_record() for ref in runs]
    written = plot_curves(records, output, metric=metric, style=style)
    click.echo(f"wrote {written}")


@command.command("confusion")
@click.argument("run")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="File to write (.pdf, .svg or .png; default: <run folder>/confusion.png).")
@click.option("--runs-dir", type=click.Path(path_type=Path),
              help="Where run ids are looked up (default: SERBENCH_RUNS or ./runs).")
@click.option("--normalise/--counts", default=True, show_default=True,
              help="Colour by the share of each true class (row-normalised) or by counts.")
@figure_options
def confusion(run: str, output: Path | None, runs_dir: Path | None, normalise: bool,
              style: FigureStyle) -> None:
    """The pooled confusion matrix of RUN's test predictions (every fold), with the
    count in each cell and a colour bar."""
    import polars as pl

    from serbench.run.confusion_plot import plot_confusion

    folder = _complete(run, runs_dir)
    if not folder.predictions_path.is_file():
        raise click.ClickException(f"run {folder.run_id} has no {folder.predictions_path.name}")
    written = plot_confusion(folder.read_record(), pl.read_parquet(folder.predictions_path),
                             output or folder.root / "confusion", normalise=normalise,
                             style=style)
    click.echo(f"wrote {written}")
