"""``serbench plugins``: every plugin, its distribution and version, and what it registers.

Lists registrations only: component code is named lazily, so this never imports torch
(a test runs it in a subprocess and checks).
"""

from __future__ import annotations

import json
from typing import Any

import click

from serbench.components import SPEC_TYPES
from serbench.plugins import Registry, get_registry


def plugin_listing(registry: Registry) -> dict[str, Any]:
    """Plugins and components of ``registry`` as plain data (what ``--json`` prints)."""
    dists: dict[str, tuple[str, str]] = getattr(registry.pm, "distributions", {})
    registers: dict[str, dict[str, list[str]]] = {name: {} for name in registry.plugin_names}
    components = []
    for kind in SPEC_TYPES:
        for entry in registry.entries(kind):
            registers.setdefault(entry.plugin, {}).setdefault(kind, []).append(entry.spec.name)
            components.append({
                "kind": kind,
                "name": entry.spec.name,
                "version": entry.spec.version,
                "description": entry.spec.description,
                "citation": entry.spec.citation,
                "plugin": entry.plugin,
                "distribution": entry.distribution,
                "distribution_version": entry.distribution_version,
            })
    plugins = []
    for name in sorted(registers):
        dist, version = dists.get(name, ("(not installed)", ""))
        plugins.append({"name": name, "distribution": dist, "version": version,
                        "registers": registers[name]})
    return {"plugins": plugins, "components": components}


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list every component with its version and description.")
def command(as_json: bool, verbose: bool) -> None:
    """List installed plugins, their distributions and what they register."""
    listing = plugin_listing(get_registry())
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    from rich.table import Table

    from serbench.cli.console import make_console

    table = Table(title="serbench plugins")
    for header in ("plugin", "distribution", "version", "registers"):
        table.add_column(header)
    for plugin in listing["plugins"]:
        registers = "\n".join(
            f"{kind}: {', '.join(names)}" for kind, names in plugin["registers"].items()
        ) or "(nothing)"
        table.add_row(plugin["name"], plugin["distribution"], plugin["version"], registers)
    console = make_console()
    console.print(table)
    if verbose:
        detail = Table(title="components")
        for header in ("kind", "name", "version", "plugin", "description"):
            detail.add_column(header)
        for c in listing["components"]:
            detail.add_row(c["kind"], c["name"], str(c["version"]), c["plugin"],
                           c["description"])
        console.print(detail)
