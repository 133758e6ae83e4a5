"""``serbench export RUN --format onnx|torchscript``: one fold's model for deployment."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export")
@click.argument("run")
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), default="onnx",
              show_default=True, help="ONNX (needs serbench[export]) or TorchScript.")
@click.option("--fold", default=None,
              help="The fold whose model to export (default: the run's first fold; 'refit' "
                   "for a refitted model).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The model file (default: <run folder>/export/<fold>.onnx or .pt).")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root of run folders (default: SERBENCH_RUNS or ./runs).")
def command(run: str, fmt: str, fold: str | None, out: Path | None,
            runs_dir: Path | None) -> None:
    """Export a fold's model of RUN, with a sidecar JSON describing its input.

    The model takes x (batch, time, D) float32 normalised features and lengths (batch,)
    int64, and returns class probabilities (batch, C). The sidecar (<file>.json) names the
    feature, its parameters and sample rate, the normalisation statistics and the class
    names. The export is checked against torch on inputs of several shapes before it is
    kept (see docs/inference.md).
    """
    from serbench.inference.export import export_run

    done = export_run(run, fmt=fmt, fold=fold, out=out, runs_dir=runs_dir)
    click.echo(f"fold {done.fold} exported to {done.path} (max difference from torch "
               f"{done.max_abs_diff:.1e})")
    click.echo(f"sidecar: {done.sidecar}")
