"""``serbench features``: list feature sets, extract them into the cache, inspect a cache.

    serbench features list [--json]
    serbench features extract FEATURE --corpus C [--data D] [--corpus-option K=V] [--param K=V]
    serbench features info FEATURE --corpus C [--data D] [--corpus-option K=V] [--param K=V]

``list`` shows each set's dimension D, from its extractor built with the default
parameters (no audio is read; a set whose dimension depends on a parameter it needs, such
as ``ssl``'s ``model``, says so). ``extract`` fills the cache for every utterance of the corpus (a second call extracts
nothing); ``info`` reads the cache without extracting and prints its key, dimensions,
sizes and the per-file bad-input report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from serbench.cli import completion
from serbench.run.options import parse_assignments


def _params(pairs: Iterable[str]) -> dict[str, Any]:
    """``--param K=V``: V is read as JSON where it parses (numbers, booleans), else text."""
    out: dict[str, Any] = {}
    for key, value in parse_assignments(pairs, "--param", typed=False).items():
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _checked_params(feature: str, pairs: Iterable[str]) -> dict[str, Any]:
    """``--param`` pairs checked against FEATURE's declared parameters before any work."""
    from serbench.features.params import check_feature_params
    from serbench.plugins import get_registry

    params = _params(pairs)
    check_feature_params(get_registry().feature(feature), params, "--param")
    return params


def _corpus(name: str, data: str | None, options: tuple[str, ...]):
    from serbench.corpora.api import corpus_fingerprint, load_corpus

    corpus = load_corpus(name, Path(data) if data else None, parse_assignments(options, "--corpus-option", typed=False))
    return corpus, corpus_fingerprint(corpus)


_corpus_options = [
    click.option("--corpus", "corpus_name", required=True,
                 shell_complete=completion.names("corpus"), help="corpus name (serbench plugins)"),
    click.option("--data", type=click.Path(), default=None, help="the corpus's data folder or manifest file"),
    click.option("--corpus-option", "corpus_options", multiple=True, metavar="K=V",
                 help="corpus option, repeatable"),
    click.option("--param", "params", multiple=True, metavar="K=V",
                 help="feature parameter overriding its default, repeatable"),
]


def _with_corpus_options(fn):
    for option in reversed(_corpus_options):
        fn = option(fn)
    return fn


@click.group(name="features")
def command() -> None:
    """Feature sets and the feature cache."""


def feature_rows() -> list[dict[str, Any]]:
    """One row per registered feature set, with its dimension (``dim``: an int, ``None``
    for tokens) or, where the extractor cannot be built without a parameter, ``dim_note``."""
    from serbench.catalogue import feature_dimension
    from serbench.errors import SerbenchError
    from serbench.plugins import get_registry

    rows = []
    for entry in get_registry().entries("feature"):
        spec = entry.spec
        dim: int | None = None
        note = ""
        try:
            dim = feature_dimension(spec)
            note = "" if dim is not None else "vocabulary of the corpus"
        except SerbenchError:  # e.g. ssl: D is the upstream model's, named by a --param
            note = "set by a required parameter"
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not hide the list
            note = f"extractor fails without audio ({type(exc).__name__})"
        rows.append({"name": spec.name, "level": spec.level, "dim": dim, "dim_note": note,
                     "version": spec.version, "plugin": entry.plugin,
                     "description": spec.description})
    return rows


@command.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="print the list as JSON")
def list_features(as_json: bool) -> None:
    """List every registered feature set with its dimension (without importing torch)."""
    from rich.table import Table

    from serbench.cli.console import make_console

    rows = feature_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    table = Table()
    table.add_column("name", no_wrap=True)
    table.add_column("level")
    table.add_column("D", justify="right")
    for column in ("v", "plugin", "description"):
        table.add_column(column)
    for row in rows:
        dim = str(row["dim"]) if row["dim"] is not None else row["dim_note"]
        table.add_row(row["name"], row["level"], dim, str(row["version"]), row["plugin"],
                      row["description"])
    make_console().print(table)


@command.command()
@click.argument("feature", shell_complete=completion.names("feature"))
@_with_corpus_options
@click.option("--workers", type=int, default=None, help="extraction processes (default: CPU cores)")
def extract(feature: str, corpus_name: str, data: str | None, corpus_options: tuple[str, ...],
            params: tuple[str, ...], workers: int | None) -> None:
    """Extract FEATURE for every utterance of a corpus into the cache."""
    from serbench.features.cache import ExtractionInterrupted, load_features

    checked = _checked_params(feature, params)
    corpus, fingerprint = _corpus(corpus_name, data, corpus_options)
    try:
        table = load_features(corpus.manifest, feature, params=checked,
                              fingerprint=fingerprint, workers=workers, progress=True)
    except ExtractionInterrupted as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(130) from None
    info = table.info()
    click.echo(
        f"{feature}: {len(table)} utterances, {table.dim} dims ({table.level}); "
        f"extracted now: {info['extracted_now']}, excluded: {len(info['excluded'])}; "
        f"cache {info['cache']}"
    )


@command.command()
@click.argument("feature", shell_complete=completion.names("feature"))
@_with_corpus_options
@click.option("--json", "as_json", is_flag=True, help="print the status as JSON")
def info(feature: str, corpus_name: str, data: str | None, corpus_options: tuple[str, ...],
         params: tuple[str, ...], as_json: bool) -> None:
    """Show what the cache holds for FEATURE on a corpus (extracts nothing)."""
    from serbench.cli.console import make_console
    from serbench.features.cache import cache_status

    checked = _checked_params(feature, params)
    corpus, fingerprint = _corpus(corpus_name, data, corpus_options)
    status = cache_status(feature, params=checked, fingerprint=fingerprint)
    if as_json:
        click.echo(json.dumps(status, indent=1, default=str))
        return
    console = make_console()
    console.print(f"[bold]{feature}[/bold] on corpus {corpus.name} (fingerprint {fingerprint})")
    console.print(f"  level {status['level']}, {status['dim']} dims, params {status['params']}")
    console.print(f"  backend {status['key']['backend']}, key {status['digest']}")
    console.print(f"  cache {status['folder']}")
    if status.get("problem"):  # a checksum mismatch, a truncated or unreadable file
        hit = status.get("damaged")
        console.print(f"  [red]damaged[/red]: {status['problem']}"
                      + (f" ({len(hit)} utterance(s))" if hit else "") + "; "
                      f"`serbench features extract {feature} --corpus {corpus_name} ...` "
                      "extracts them again")
        return
    if not status["complete"]:
        pending = status["pending_chunks"]
        console.print(f"  [yellow]not extracted yet[/yellow]{f' ({pending} finished chunks kept)' if pending else ''}: "
                      f"run `serbench features extract {feature} --corpus {corpus_name} ...`")
        return
    if status.get("verified") is None:
        console.print("  written before checksums: the next `serbench features extract` adds them")
    n_corpus = corpus.manifest.height
    console.print(f"  {status['n_utterances']} of {n_corpus} utterances cached, "
                  f"{len(status['excluded'])} excluded, {status['frames_total']} rows, "
                  f"{status['bytes'] / 1e6:.1f} MB")
    if status.get("frames_per_utterance"):
        f = status["frames_per_utterance"]
        console.print(f"  rows per utterance: min {f['min']}, mean {f['mean']:.1f}, max {f['max']}")
    if status["report"]:
        console.print(f"  [yellow]per-file report ({len(status['report'])})[/yellow]:")
        for r in status["report"]:
            console.print(f"    {r['utt_id']} ({r['path']}): {r['issue']} -> {r['action']}")
