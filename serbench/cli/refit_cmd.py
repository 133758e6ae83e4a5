"""``serbench refit RUN``: train the run's configuration once on all of its data."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("refit")
@click.argument("run")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Where to train.")
@click.option("--force", is_flag=True, help="Train again over an existing refit/.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root of run folders (default: SERBENCH_RUNS or ./runs).")
def command(run: str, device: str, force: bool, runs_dir: Path | None) -> None:
    """Train RUN's model on every utterance the run used, for `serbench predict`.

    The epoch count is the median of the folds' best epochs (no validation split is left
    to stop on); the model goes to <run folder>/refit/ and predict uses it from then on
    (see docs/inference.md).
    """
    from serbench.inference.refit import refit_run

    doc = refit_run(run, runs_dir=runs_dir, device=device, force=force)
    click.echo(f"{doc['run_id']}: refitted on {doc['n_train']} utterances for {doc['epochs']} "
               f"epoch(s) ({doc['rule']}: {doc['best_epochs']})")
