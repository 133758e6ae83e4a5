"""``serbench explain RUN UTT_ID``: draw the attention maps a trained model exposes."""

from __future__ import annotations

from pathlib import Path

import click

from serbench.cli.figure_options import figure_options
from serbench.figures import FigureStyle


@click.command("explain")
@click.argument("run")
@click.argument("utt_id")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None,
              help="Folder for the figures (default: <run folder>/explain/<UTT_ID>).")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Root of run folders (default: SERBENCH_RUNS or ./runs).")
@figure_options
def command(run: str, utt_id: str, out_dir: Path | None, runs_dir: Path | None,
            style: FigureStyle) -> None:
    """Draw the attention maps of the model that tested UTT_ID in RUN, one file per map
    (PNG, or --format pdf/svg).

    RUN is a run id (or unique prefix), a run folder or its record.json. The fold whose
    test set holds UTT_ID is found, its saved weights (model_<fold>.pt) are loaded, the
    utterance is run alone and every map the model exposes through attention_maps(batch)
    is drawn (see serbench.explain): weights over time in seconds above the utterance's
    spectrogram (or, without the audio on disk, its input features), self-attention heads
    as matrices, and attention over previous turns (AR-GRU/IAAN) as bars per turn.
    """
    from serbench.explain import draw, explain_utterance
    from serbench.run.folder import locate_run

    explanation = explain_utterance(run, utt_id, runs_dir=runs_dir)
    if out_dir is None:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in utt_id)
        out_dir = locate_run(run, runs_dir).root / "explain" / safe
    files = draw(explanation, out_dir, style=style)
    click.echo(
        f"{explanation.utt_id}: fold {explanation.fold}, label {explanation.label}, "
        f"predicted {explanation.pred} in the run, {explanation.model_pred} now ({explanation.model}"
        f"{'/' + explanation.variant if explanation.variant else ''})"
    )
    for path in files:
        click.echo(f"  {path}")
