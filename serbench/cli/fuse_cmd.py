"""``serbench fuse RUN_A RUN_B``: score-level fusion of two runs, fitted on validation data."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("fuse")
@click.argument("run_a")
@click.argument("run_b")
@click.option("-o", "--output", "out", type=click.Path(path_type=Path),
              help="Folder of the fused run (default: <runs dir>/<fused run id>).")
@click.option("--runs-dir", type=click.Path(path_type=Path),
              help="Where run ids are looked up and written (default: SERBENCH_RUNS or ./runs).")
@click.option("--C", "c", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Inverse L2 strength of the logistic regression.")
@click.option("--method", type=click.Choice(["linear", "logreg", "average"]), default="linear",
              show_default=True,
              help="linear: FoCal's linear fusion (a weight per run, an offset per class); "
                   "logreg: a full multinomial logistic regression on every run x class "
                   "score; average: the equal-weight average, nothing fitted.")
@click.option("--min-per-class", type=click.IntRange(min=0), default=30, show_default=True,
              help="Fewest validation utterances of each class a fold needs to fit the "
                   "fusion (why 30: serbench.run.fusion_fit).")
@click.option("--on-small", type=click.Choice(["average", "error"]), default="average",
              show_default=True,
              help="Below --min-per-class: fall back to the equal-weight average, or refuse.")
@click.option("--force", is_flag=True, help="Replace an existing fused run.")
def command(run_a: str, run_b: str, out: Path | None, runs_dir: Path | None, c: float,
            method: str, min_per_class: int, on_small: str, force: bool) -> None:
    """Fuse the per-utterance scores of RUN_A and RUN_B (run folders, record.json files
    or run ids) with a calibrated logistic regression fitted, fold by fold, on the two
    runs' validation predictions only, and write the result as a run of its own (model
    'fusion'), ready for `serbench leaderboard` and `serbench plot`."""
    import sys

    from rich.table import Table

    from serbench.cli.console import make_console
    from serbench.run.folder import locate_run
    from serbench.run.fusion import fuse_runs

    folder_a, folder_b = locate_run(run_a, runs_dir), locate_run(run_b, runs_dir)
    record = fuse_runs(folder_a, folder_b, out=out, runs_dir=runs_dir, C=c, method=method,
                       min_per_class=min_per_class, on_small=on_small, force=force,
                       command=["serbench", *sys.argv[1:]])
    table = Table(title=f"fused run {record['run_id']}", title_justify="left")
    table.add_column("run")
    metrics = ("ua", "wa", "macro_f1", "macro_precision")
    for name in metrics:
        table.add_column(f"{name} %", justify="right")
    for folder in (folder_a, folder_b):
        rec = folder.read_record()
        mean = rec["aggregate"]["mean"]
        table.add_row(rec["run_id"], *(_pct(mean.get(m)) for m in metrics))
    mean = record["aggregate"]["mean"]
    table.add_row(f"[bold]{record['model']['variant']}[/]", *(_pct(mean.get(m)) for m in metrics))
    console = make_console()
    console.print(table)
    for fold in record["folds"]:  # what each fold's fusion was fitted on, and how
        info = fold["fusion"]
        counts = ", ".join(f"{k} {n}" for k, n in info["n_fit_per_class"].items())
        line = (f"fold {fold['name']}: {info['method']} fusion, validation set of "
                f"{info['n_fit']} ({counts})")
        console.print(line + (f" [yellow]fallback: {info['fallback']}[/]"
                              if info["fallback"] else ""))
    from serbench import paths

    root = out if out is not None else Path(runs_dir or paths.runs_dir()) / record["run_id"]
    console.print(f"wrote {root}")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"
