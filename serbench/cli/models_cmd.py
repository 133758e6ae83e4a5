"""``serbench models [NAME]``: the model catalogue (:mod:`serbench.catalogue`).

Without a name: every model with its variants (no torch import). With a name: its
variants and what each overrides with its parameter count, the defaults, the search
space, the paper protocol it prefers, its citation and README.
"""

from __future__ import annotations

import json
from typing import Any

import click

from serbench.catalogue import model_card, model_listing
from serbench.cli import completion
from serbench.plugins import get_registry


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _settings(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in mapping.items()) or "(the defaults)"


def _millions(count: int | None, note: str) -> str:
    if count is None:
        return note or "n/a"
    return f"{count / 1e6:.3f} M" if count >= 10_000 else f"{count:,}"


def _print_listing(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from serbench.cli.console import make_console

    table = Table(title="serbench models (serbench models NAME for one model's card)")
    for header in ("model", "variants (default first)", "input", "what it is"):
        table.add_column(header, overflow="fold")
    for row in rows:
        variants = list(row["variants"])
        if row["default_variant"] in variants:
            variants.remove(row["default_variant"])
            variants.insert(0, f"{row['default_variant']} (default)")
        table.add_row(f"{row['name']} v{row['version']}", ", ".join(variants) or "–",
                      f"{row['level']} ({row['framework']})",
                      row["description"])
    make_console().print(table)


def _print_card(card: dict[str, Any]) -> None:
    from rich.table import Table

    from serbench.cli.console import make_console

    console = make_console()
    console.print(f"[bold]{card['name']}[/bold] v{card['version']}: {card['description']}")
    console.print(f"  citation: {card['citation'] or '–'}")
    console.print(f"  plugin:   {card['plugin']} ({card['distribution']})")
    console.print(f"  README:   {card['readme'] or '–'}")
    inputs = ", ".join([card["level"], *card["inputs"]])
    console.print(f"  input:    {inputs}; default feature {card['default_feature']}")
    console.print(f"  paper protocol (preferred): {_settings(card['preferred'])}")
    if "normalisation" not in card["preferred"]:  # serbench.run.resolve.default_normalisation
        console.print("  normalisation not declared: a run uses speaker where the corpus has "
                      "several speakers, else global")
    for corpus, settings in card["preferred_per_corpus"].items():
        console.print(f"    on {corpus}: {_settings(settings)}")
    params = card.get("parameters")
    counts = {c["configuration"]: c for c in params["counts"]} if params else {}
    variants = Table(title="variants" + (
        f" (parameters at D={params['input_dim']}"
        + (f" = {params['feature']}" if params["feature"] else "")
        + f", C={params['num_classes']}"
        + (f", vocabulary {params['vocab_size']}" if params["vocab_size"] else "") + ")"
        if params else ""))
    variants.add_column("variant")
    variants.add_column("overrides the defaults", overflow="fold")
    if params:
        variants.add_column("parameters", justify="right")
    rows = ([(card["name"], {})] if card["default_variant"] is None else [])
    rows += list(card["variants"].items())
    for label, overrides in rows:
        shown = label + (" (default)" if label == card["default_variant"] else "")
        cells = [shown, _settings(overrides)]
        if params:
            count = counts.get(label, {"count": None, "note": ""})
            cells.append(_millions(count["count"], count["note"]))
        variants.add_row(*cells)
    console.print(variants)
    defaults = Table(title="defaults")
    defaults.add_column("hyperparameter")
    defaults.add_column("value", overflow="fold")
    for key, value in card["defaults"].items():
        defaults.add_row(key, _value(value))
    console.print(defaults)
    space = Table(title=f"search space ({card['search_space_source']})")
    space.add_column("hyperparameter")
    space.add_column("distribution", overflow="fold")
    for key, text in card["search_space"].items():
        space.add_row(key, text)
    console.print(space)
    for grid, values in card["grids"].items():
        console.print(f"  grid {grid!r}: {_settings(values)}")


@click.command("models")
@click.argument("name", required=False, shell_complete=completion.names("model"))
@click.option("--input-dim", type=click.IntRange(min=1), default=None,
              help="Feature dimension D to count parameters at (default: the dimension of "
                   "the model's preferred feature set).")
@click.option("--classes", "num_classes", type=click.IntRange(min=2), default=4,
              show_default=True, help="Number of classes C to count parameters at.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def command(name: str | None, input_dim: int | None, num_classes: int, as_json: bool) -> None:
    """List every model with its variants, or show one model's card."""
    registry = get_registry()
    if name is None:
        rows = model_listing(registry)
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        else:
            _print_listing(rows)
        return
    card = model_card(registry, name, input_dim=input_dim, num_classes=num_classes)
    if as_json:
        click.echo(json.dumps(card, indent=2, default=str))
    else:
        _print_card(card)
