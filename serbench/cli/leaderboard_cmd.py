"""``serbench leaderboard``: add runs, show, export, publish and list leaderboards."""

from __future__ import annotations

import json
from pathlib import Path

import click

ROOT_OPTION = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=Path("leaderboards"),
    envvar="SERBENCH_LEADERBOARDS", show_default=True, show_envvar=True,
    help="Folder holding one sub-folder per benchmark.",
)


@click.group("leaderboard")
def command() -> None:
    """Versioned leaderboards built from run records."""


@command.command("add")
@click.argument("runs", nargs=-1, required=True)
@ROOT_OPTION
@click.option("--benchmark", default=None,
              help="Benchmark name (default: <corpus>-<label_map>-<protocol> of each run).")
@click.option("--metrics", default=None,
              help="Comma-separated metric set of a NEW benchmark, primary first "
                   "(default: ua,wa,macro_f1).")
@click.option("--replace", is_flag=True,
              help="Overwrite an entry whose run id exists with a different record, or "
                   "bring back a retired one.")
def add_cmd(runs: tuple[str, ...], root: Path, benchmark: str | None, metrics: str | None,
            replace: bool) -> None:
    """Add RUNS (run folders, record.json files or run ids) to their leaderboards.

    Re-adding a run already on the leaderboard changes nothing.
    """
    from serbench.leaderboard.store import add_runs

    metric_list = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    for result in add_runs(list(runs), root, benchmark=benchmark, metrics=metric_list,
                           replace=replace):
        if result.status == "skipped":
            click.echo(f"{result.path}: skipped, not a run folder (no record.json or "
                       "config.json inside)", err=True)
            continue
        if result.status == "retired":
            click.echo(f"{result.run_id}: retired from {result.benchmark} ({result.path}); "
                       "not added back (--replace brings it back)", err=True)
            continue
        verb = "added to" if result.status == "added" else "already on"
        click.echo(f"{result.run_id}: {verb} {result.benchmark} ({result.path})")


@command.command("show")
@click.argument("benchmark")
@ROOT_OPTION
@click.option("--version", "version", type=int, default=None,
              help="A published version (default: the current, unpublished entries).")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]),
              default="table", show_default=True)
def show_cmd(benchmark: str, root: Path, version: int | None, fmt: str) -> None:
    """Print BENCHMARK's leaderboard."""
    from serbench.leaderboard.store import Leaderboard

    board = Leaderboard(root, benchmark)
    snap = board.snapshot(version) if version is not None else board.current()
    if fmt == "json":
        click.echo(json.dumps(snap["summary"], indent=2, sort_keys=True))
    elif fmt == "markdown":
        from serbench.leaderboard.render_markdown import render_markdown

        click.echo(render_markdown(snap))
    else:
        from serbench.leaderboard.render_terminal import print_leaderboard

        print_leaderboard(snap)


@command.command("export")
@click.argument("benchmark")
@ROOT_OPTION
@click.option("--format", "fmt", type=click.Choice(["csv", "latex", "bibtex", "json"]),
              required=True, help="csv (every column), latex (a booktabs table), bibtex "
                                  "(the cited models), json (ranked rows).")
@click.option("--version", "version", type=int, default=None,
              help="A published version (default: the latest published; --current for "
                   "the unpublished entries).")
@click.option("--current", is_flag=True, help="Export the current, unpublished entries.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def export_cmd(benchmark: str, root: Path, fmt: str, version: int | None, current: bool,
               output: Path | None) -> None:
    """Export BENCHMARK's leaderboard as CSV, LaTeX, BibTeX or JSON."""
    from serbench.leaderboard.export import export
    from serbench.leaderboard.store import Leaderboard

    board = Leaderboard(root, benchmark)
    snap = board.current() if current else board.snapshot(version)
    text = export(snap, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@command.command("publish")
@click.argument("benchmark")
@ROOT_OPTION
@click.option("--note", default=None, help="A line stored with this version (e.g. why).")
def publish_cmd(benchmark: str, root: Path, note: str | None) -> None:
    """Freeze BENCHMARK's entries as the next numbered version (JSON, Markdown, HTML).

    What an interrupted publish left is cleaned or completed first.
    """
    from serbench.leaderboard.store import Leaderboard

    board = Leaderboard(root, benchmark)
    for line in board.recover():
        click.echo(line)
    version, written = board.publish(note=note)
    click.echo(f"published {benchmark} v{version}:")
    for path in written:
        click.echo(f"  {path}")


@command.command("retire")
@click.argument("benchmark")
@click.argument("run_ids", nargs=-1, required=True)
@ROOT_OPTION
@click.option("--reason", required=True,
              help="Why the rows leave the board (stored, and named in the next "
                   "published version's note).")
def retire_cmd(benchmark: str, run_ids: tuple[str, ...], root: Path, reason: str) -> None:
    """Take RUN_IDS off BENCHMARK's board; nothing is deleted.

    Each entry moves to <benchmark>/retired/ with the time and reason; published
    versions keep it, `add` does not bring it back unless given --replace, and the next
    `publish` lists it in its note.
    """
    from serbench.leaderboard.store import Leaderboard

    for path in Leaderboard(root, benchmark).retire(list(run_ids), reason):
        click.echo(f"{path.stem}: retired ({path})")


@command.command("list")
@ROOT_OPTION
def list_cmd(root: Path) -> None:
    """List the benchmarks, their entries and published versions."""
    from serbench.leaderboard.retirement import read_retired
    from serbench.leaderboard.store import Leaderboard, list_benchmarks

    names = list_benchmarks(root)
    if not names:
        click.echo(f"no leaderboards under {root}; add runs with `serbench leaderboard add`.")
        return
    for name in names:
        board = Leaderboard(root, name)
        n_entries = len([p for p in board.entries_dir.glob("*.json")
                         if not p.name.startswith(".")])
        versions = board.versions()
        published = f"v{versions[-1]} latest of {len(versions)}" if versions else "unpublished"
        retired = len(read_retired(board.dir))
        click.echo(f"{name}: {n_entries} entr{'y' if n_entries == 1 else 'ies'}, {published}"
                   + (f", {retired} retired" if retired else ""))
