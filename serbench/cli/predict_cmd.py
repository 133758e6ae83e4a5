"""``serbench predict RUN AUDIO...``: emotion class probabilities of new recordings."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import click


def _table(result) -> str:
    """Plain fixed-width table: file, label, one probability column per class."""
    header = ["file", "label", *result.classes]
    rows = [[r.path, r.label, *(f"{r.probabilities[c]:.3f}" for c in result.classes)]
            for r in result.rows]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])


def render(result, fmt: str) -> str:
    """``result`` (:class:`serbench.inference.predict.Predictions`) as table, csv or json."""
    if fmt == "json":
        return json.dumps({
            "run_id": result.run_id, "models": result.models, "classes": result.classes,
            "normalisation": result.normalisation,
            "predictions": [{"file": r.path, "label": r.label, "probabilities": r.probabilities}
                            for r in result.rows],
            "failed": [{"file": f, "reason": why} for f, why in result.failed.items()],
        }, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["file", "label", *(f"p_{c}" for c in result.classes)])
        for r in result.rows:
            writer.writerow([r.path, r.label, *(f"{r.probabilities[c]:.6f}" for c in result.classes)])
        return buf.getvalue()
    return _table(result) + "\n"


@click.command("predict")
@click.argument("run")
@click.argument("audio", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the output to this file instead of standard output.")
@click.option("--fold", "folds", multiple=True,
              help="Use only this fold's model (repeatable; default: every fold, averaged).")
@click.option("--speaker-stats", type=click.Choice(["training", "files"]), default="training",
              show_default=True,
              help="Runs with speaker normalisation: the training utterances' pooled statistics, "
                   "or the given files' joint statistics (one speaker's recordings).")
@click.option("--no-refit", is_flag=True,
              help="Use the fold models even when `serbench refit` has made a refitted model.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root of run folders (default: SERBENCH_RUNS or ./runs).")
def command(run: str, audio: tuple[str, ...], fmt: str, out: Path | None, folds: tuple[str, ...],
            speaker_stats: str, no_refit: bool, runs_dir: Path | None) -> None:
    """Predict the emotion of each AUDIO file (or every audio file of a folder) with RUN.

    RUN is a run id (or unique prefix), a run folder or its record.json; it must be a
    finished torch run. Features are extracted and normalised as in the run, every
    fold's model is applied and their class probabilities are averaged (see
    docs/inference.md). A file that cannot be read is reported by name; the others are
    predicted, and the exit status is 1 when any file failed.
    """
    from serbench.inference.predict import predict_files

    result = predict_files(run, audio, runs_dir=runs_dir, folds=list(folds) or None,
                           speaker_stats=speaker_stats, use_refit=not no_refit)
    text = render(result, fmt)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    where = "; ".join(result.models)
    click.echo(f"{result.run_id}: {len(result.rows)} file(s), model(s) {where}; "
               f"normalisation: {result.normalisation}"
               + (f"; written to {out}" if out is not None else ""), err=True)
    for path, why in result.failed.items():
        click.secho(f"failed: {path}: {why}", fg="red", err=True)
    if result.failed:
        sys.exit(1)
