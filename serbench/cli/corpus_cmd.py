"""``serbench corpus``: look at a corpus before running anything on it.

``serbench corpus info NAME`` loads any corpus plugin, validates its manifest and prints
counts per label, speaker and session and the folds of a protocol. ``--label-maps``
prints each label map's raw-label -> class table instead, without the data on disk
(:mod:`serbench.corpora.label_maps`).

The group is extensible: other modules add sub-commands through :data:`SUBCOMMANDS`
(``name -> "module:attribute"``, imported only when invoked), or call
``corpus.add_command(...)`` on the importable group object.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import polars as pl

from serbench.cli import completion
from serbench.plugins import Registry, get_registry
from serbench.run.options import parse_assignments

#: Lazily imported sub-commands besides ``info``: name -> "module:attribute".
SUBCOMMANDS: dict[str, str] = {"prepare": "serbench.cli.corpus_prepare:command"}


class _LazyCorpusGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [n for n, ref in SUBCOMMANDS.items()
                if importlib.util.find_spec(ref.split(":")[0]) is not None]
        return sorted(set(super().list_commands(ctx)) | set(lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in SUBCOMMANDS:
            module_name, attr = SUBCOMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return None


def _counts(df: pl.DataFrame, column: str) -> list[dict[str, Any]]:
    return [
        {column: str(value), "n": int(n)}
        for value, n in df.group_by(column).len().sort(column).iter_rows()
    ]


def corpus_summary(
    name: str,
    *,
    data: Path | None = None,
    options: Mapping[str, str] | None = None,
    label_map: str | None = None,
    protocol: str | None = None,
    protocol_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    check_audio: bool = True,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """Everything ``corpus info`` prints, as plain data."""
    from serbench.corpora.api import corpus_fingerprint, experiment_manifest, load_corpus
    from serbench.protocols.api import fold_speakers, is_speaker_independent, make_folds
    from serbench.protocols.base import split_hash

    registry = registry or get_registry()
    corpus = load_corpus(name, data, options or {}, registry=registry, check_audio=check_audio)
    chosen_map = label_map or corpus.default_label_map
    df = experiment_manifest(corpus, chosen_map)
    chosen_protocol = protocol or corpus.default_protocol
    merged = {**dict(corpus.protocol_options.get(chosen_protocol, {})),
              **dict(protocol_options or {})}
    folds = make_folds(df, chosen_protocol, seed=seed, options=merged, registry=registry)
    label_map_obj = corpus.label_maps[chosen_map]
    per_speaker = (
        df.group_by("speaker", "label").len()
        .pivot(on="label", index="speaker", values="len").fill_null(0).sort("speaker")
    )
    fold_rows = []
    for fold in folds:
        speakers = fold_speakers(df, fold)
        fold_rows.append({
            "name": fold.name, "n_train": len(fold.train), "n_valid": len(fold.valid),
            "n_test": len(fold.test), "test_speakers": speakers["test"],
            "valid_speakers": speakers["valid"], "note": fold.note,
        })
    return {
        "corpus": corpus.name,
        "root": str(corpus.root) if corpus.root else None,
        "fingerprint": corpus_fingerprint(corpus),
        "n_utterances_raw": corpus.manifest.height,
        "label_map": chosen_map,
        "label_maps": sorted(corpus.label_maps),
        "classes": list(label_map_obj.classes),
        "n_utterances": df.height,
        "n_speakers": df["speaker"].n_unique(),
        "raw_labels": _counts(corpus.manifest, "label"),
        "labels": [
            {"label": c, "n": int(df.filter(pl.col("label") == c).height)}
            for c in label_map_obj.classes
        ],
        "speakers": [
            {"speaker": str(row["speaker"]),
             "n": int(sum(v for k, v in row.items() if k != "speaker")),
             **{c: int(row.get(c, 0) or 0) for c in label_map_obj.classes}}
            for row in per_speaker.iter_rows(named=True)
        ],
        "sessions": _counts(df, "session") if "session" in df.columns else [],
        "protocol": chosen_protocol,
        "protocol_options": merged,
        "seed": seed,
        "split_hash": split_hash(folds),
        "speaker_independent": is_speaker_independent(df, folds),
        "folds": fold_rows,
    }


def label_maps_summary(name: str, registry: Registry | None = None) -> dict[str, Any]:
    """What ``corpus info NAME --label-maps`` prints: every declared label map (no data read).

    Raises:
        ConfigError: ``name`` is not a registered corpus (with a did-you-mean), or the
            corpus's label maps exist only once its data is loaded.
    """
    from serbench.corpora.label_maps import declared_label_maps, label_map_table
    from serbench.errors import ConfigError

    spec = (registry or get_registry()).lookup("corpus", name).spec
    declared = declared_label_maps(spec)
    if declared.maps is None:
        raise ConfigError(f"--label-maps: {declared.reason}")
    return {"corpus": spec.name, "default_label_map": spec.default_label_map,
            "label_maps": [label_map_table(m) for m in declared.maps.values()]}


def _print_label_maps(summary: Mapping[str, Any]) -> None:
    from rich.table import Table

    from serbench.cli.console import make_console

    console = make_console()
    for label_map in summary["label_maps"]:
        default = " (default)" if label_map["name"] == summary["default_label_map"] else ""
        console.print(f"[bold]{summary['corpus']}: label map {label_map['name']}{default}[/bold]"
                      f" - {label_map['description']}")
        table = Table()
        table.add_column("raw label")
        table.add_column("class")
        for raw, target in label_map["mapping"].items():
            table.add_row(raw, target)
        console.print(table)
        console.print(f"  classes (in confusion-matrix order): {', '.join(label_map['classes'])}"
                      "; raw labels not listed are dropped")
        for column, values in label_map["where"].items():
            console.print(f"  keeps only rows whose {column} is one of: "
                          f"{', '.join(map(str, values))}")


def _print_summary(summary: Mapping[str, Any]) -> None:
    from rich.table import Table

    from serbench.cli.console import make_console

    console = make_console()
    console.print(
        f"[bold]{summary['corpus']}[/bold]  root: {summary['root']}  "
        f"fingerprint: {summary['fingerprint']}\n"
        f"{summary['n_utterances']} utterances ({summary['n_utterances_raw']} before label "
        f"map {summary['label_map']!r}; maps: {', '.join(summary['label_maps'])}), "
        f"{summary['n_speakers']} speakers, classes: {', '.join(summary['classes'])}"
    )
    labels = Table(title="labels")
    labels.add_column("class")
    labels.add_column("n", justify="right")
    for row in summary["labels"]:
        labels.add_row(row["label"], str(row["n"]))
    console.print(labels)
    speakers = Table(title="speakers")
    for header in ("speaker", "n", *summary["classes"]):
        speakers.add_column(header, justify="left" if header == "speaker" else "right")
    for row in summary["speakers"]:
        speakers.add_row(row["speaker"], str(row["n"]), *(str(row[c]) for c in summary["classes"]))
    console.print(speakers)
    if summary["sessions"]:
        sessions = Table(title="sessions")
        sessions.add_column("session")
        sessions.add_column("n", justify="right")
        for row in summary["sessions"]:
            sessions.add_row(row["session"], str(row["n"]))
        console.print(sessions)
    folds = Table(
        title=f"protocol {summary['protocol']} (seed {summary['seed']}, split hash "
        f"{summary['split_hash']}, speaker-independent: {summary['speaker_independent']})"
    )
    for header in ("fold", "train", "valid", "test", "test speakers", "valid speakers"):
        folds.add_column(header, justify="right" if header in ("train", "valid", "test") else "left")
    for row in summary["folds"]:
        folds.add_row(row["name"], str(row["n_train"]), str(row["n_valid"]), str(row["n_test"]),
                      ", ".join(row["test_speakers"]), ", ".join(row["valid_speakers"]))
    console.print(folds)
    for row in summary["folds"]:
        if row["note"]:
            console.print(f"note ({row['name']}): {row['note']}")


@click.group("corpus", cls=_LazyCorpusGroup)
def corpus() -> None:
    """Inspect corpora (any corpus plugin)."""


@corpus.command("info")
@click.argument("name", shell_complete=completion.names("corpus"))
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The corpus folder or manifest file (default: SERBENCH_DATA/NAME).")
@click.option("--label-map", default=None, help="Label map (default: the corpus's).")
@click.option("--protocol", default=None, shell_complete=completion.names("protocol"),
              help="Protocol whose folds to show (default: the corpus's).")
@click.option("--corpus-option", "corpus_options", multiple=True, metavar="KEY=VALUE",
              help="Option for the corpus loader; repeatable.")
@click.option("--protocol-option", "protocol_options", multiple=True, metavar="KEY=VALUE",
              help="Option for the protocol (e.g. k=5); repeatable.")
@click.option("--seed", default=0, show_default=True, help="Seed of the folds.")
@click.option("--no-audio-check", is_flag=True, help="Skip opening every audio file's header.")
@click.option("--label-maps", "label_maps", is_flag=True,
              help="Show each label map's raw-label -> class table (no data needed).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def info(name: str, data: Path | None, label_map: str | None, protocol: str | None,
         corpus_options: tuple[str, ...], protocol_options: tuple[str, ...], seed: int,
         no_audio_check: bool, label_maps: bool, as_json: bool) -> None:
    """Counts per label, speaker, session and fold of corpus NAME."""
    if label_maps:
        maps = label_maps_summary(name)
        if as_json:
            click.echo(json.dumps(maps, indent=2))
        else:
            _print_label_maps(maps)
        return
    summary = corpus_summary(
        name, data=data, options=parse_assignments(corpus_options, "--corpus-option", typed=False),
        label_map=label_map, protocol=protocol,
        protocol_options=parse_assignments(protocol_options, "--protocol-option", typed=False),
        seed=seed, check_audio=not no_audio_check,
    )
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)


#: what ``serbench.cli.COMMANDS`` imports
command = corpus
