"""Test helpers: a registry of serbench's built-ins and this plugin only, so that these
tests do not depend on whichever other plugins happen to be installed."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata

from serbench.plugins import ENTRY_POINT_GROUP, Registry, make_plugin_manager

OWN_DISTRIBUTIONS = ("serbench", "serbench-ar-gru")


def isolated_registry(extra_plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """serbench's own entry points plus ``serbench-ar-gru``'s, attributed to their
    distributions as the real plugin manager does, plus ``extra_plugins``."""
    eps = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
           if ep.dist is not None and ep.dist.name in OWN_DISTRIBUTIONS]
    pm = make_plugin_manager(
        load_entry_points=False,
        extra_plugins=[*((ep.name, ep.load()) for ep in eps), *extra_plugins],
    )
    for ep in eps:
        pm.distributions[ep.name] = (ep.dist.name, ep.dist.version)
    return Registry(pm)
