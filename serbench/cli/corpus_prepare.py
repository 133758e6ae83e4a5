"""``serbench corpus prepare NAME --layout iemocap DIR``: write a corpus in a release layout.

Today one layout: ``iemocap`` (the IEMOCAP release's folders and file formats), for the
``synthetic`` corpus, so the ``iemocap`` reader can be run end to end without the licensed
data: ``serbench run --corpus iemocap --data DIR --corpus-option check_counts=false``.
"""

from __future__ import annotations

from pathlib import Path

import click

from serbench.run.options import parse_assignments

LAYOUTS = ("iemocap",)


@click.command("prepare")
@click.argument("name")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--layout", type=click.Choice(LAYOUTS), required=True,
              help="The release layout to write.")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The corpus folder (default: SERBENCH_DATA/NAME).")
@click.option("--corpus-option", "corpus_options", multiple=True, metavar="KEY=VALUE",
              help="Option for the corpus loader (e.g. size=full); repeatable.")
@click.option("--copy", is_flag=True, help="Copy WAVs instead of hard-linking them.")
@click.option("--dialog-wavs", is_flag=True,
              help="Also write whole-dialogue recordings (Session*/dialog/wav/).")
def command(name: str, out: Path, layout: str, data: Path | None,
            corpus_options: tuple[str, ...], copy: bool, dialog_wavs: bool) -> None:
    """Write corpus NAME into OUT in the release layout LAYOUT."""
    from serbench.corpora.api import load_corpus
    from serbench.corpora.synthetic.iemocap_layout import write_iemocap_layout

    corpus = load_corpus(name, data, parse_assignments(corpus_options, "--corpus-option", typed=False))
    write_iemocap_layout(corpus.manifest, out, copy=copy, dialog_wavs=dialog_wavs)
    sessions = corpus.manifest["session"].n_unique()
    click.echo(f"wrote {corpus.manifest.height} utterances of {name!r} in {sessions} sessions "
               f"as an IEMOCAP release into {out}")
