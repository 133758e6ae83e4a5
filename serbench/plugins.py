"""The plugin manager factory and the registry of everything plugins registered.

Nothing is registered as a side effect of an import: call :func:`make_plugin_manager`
(or :func:`get_registry`, which caches one registry per process) to load the
``serbench`` entry-point group. serbench's own built-ins arrive through that same
group, declared in serbench's ``pyproject.toml``.

``SERBENCH_DISABLE_PLUGINS`` (comma-separated entry-point or distribution names)
blocks plugins before they load.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from serbench import hookspecs
from serbench.components import SPEC_TYPES, Component
from serbench.errors import PluginConflictError, SerbenchError, UnknownComponentError

ENTRY_POINT_GROUP = "serbench"
DISABLE_ENV = "SERBENCH_DISABLE_PLUGINS"


def disabled_plugins(env: str | None = None) -> set[str]:
    """Names in ``SERBENCH_DISABLE_PLUGINS`` (entry-point or distribution names)."""
    raw = os.environ.get(DISABLE_ENV, "") if env is None else env
    return {part.strip() for part in raw.split(",") if part.strip()}


class SerbenchPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers which distribution each plugin came from."""

    def __init__(self, project_name: str):
        super().__init__(project_name)
        #: plugin name -> (distribution name, distribution version)
        self.distributions: dict[str, tuple[str, str]] = {}


def make_plugin_manager(
    *,
    load_entry_points: bool = True,
    extra_plugins: Iterable[tuple[str, object]] = (),
    disable: Iterable[str] | None = None,
) -> SerbenchPluginManager:
    """Build a fresh plugin manager.

    Args:
        load_entry_points: load every plugin of the ``serbench`` entry-point group.
        extra_plugins: ``(name, module_or_object)`` pairs registered directly (tests).
        disable: names to block; defaults to ``SERBENCH_DISABLE_PLUGINS``.
    """
    pm = SerbenchPluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    blocked = disabled_plugins() if disable is None else set(disable)
    if load_entry_points:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist_name = ep.dist.name if ep.dist is not None else ""
            if ep.name in blocked or dist_name in blocked or f"{dist_name}:{ep.name}" in blocked:
                pm.set_blocked(ep.name)
                continue
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must say who it is
                raise SerbenchError(
                    f"plugin {ep.name!r} from distribution {dist_name or '?'} failed to load "
                    f"({ep.value}): {exc}. Fix or uninstall it, or disable it with "
                    f"{DISABLE_ENV}={ep.name}."
                ) from exc
            pm.register(plugin, name=ep.name)
            if ep.dist is not None:
                pm.distributions[ep.name] = (ep.dist.name, ep.dist.version)
    for name, plugin in extra_plugins:
        if name not in blocked:
            pm.register(plugin, name=name)
    return pm


@dataclass(frozen=True)
class Registered:
    """A component together with the plugin and distribution that registered it."""

    spec: Component
    plugin: str
    distribution: str
    distribution_version: str


class Registry:
    """Every component the loaded plugins registered, by kind and name.

    Built by calling each plugin's hook implementations one at a time, so that each
    component is attributed to its plugin and distribution.
    """

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self._by_kind: dict[str, dict[str, Registered]] = {kind: {} for kind in SPEC_TYPES}
        self.plugin_names: list[str] = []
        dists: dict[str, tuple[str, str]] = getattr(pm, "distributions", {})
        for hook_name, kind in hookspecs.HOOK_KINDS.items():
            caller = getattr(pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                plugin_name = impl.plugin_name
                dist, version = dists.get(plugin_name, ("(not installed)", ""))
                impl.function(register=self._register_callback(kind, plugin_name, dist, version))
        for name, plugin in pm.list_name_plugin():
            if plugin is not None:  # pluggy lists blocked names with a None plugin
                self.plugin_names.append(name)

    def _register_callback(self, kind: str, plugin: str, dist: str, version: str):
        expected = SPEC_TYPES[kind]

        def register(spec: Component) -> None:
            if not isinstance(spec, expected):
                raise SerbenchError(
                    f"plugin {plugin!r} ({dist}) registered {spec!r} through the {kind} hook; "
                    f"expected a {expected.__name__}"
                )
            problems = spec.validate()
            if problems:
                raise SerbenchError(
                    f"plugin {plugin!r} ({dist}) registered {kind} {spec.name!r} with invalid "
                    f"metadata: {'; '.join(problems)}"
                )
            existing = self._by_kind[kind].get(spec.name)
            if existing is not None:
                raise PluginConflictError(
                    f"{kind} {spec.name!r} is registered twice: by plugin {existing.plugin!r} "
                    f"(distribution {existing.distribution}) and by plugin {plugin!r} "
                    f"(distribution {dist}). A name is an identity in a leaderboard, so "
                    f"nothing is renamed: uninstall one, or disable it with "
                    f"{DISABLE_ENV}={plugin}."
                )
            self._by_kind[kind][spec.name] = Registered(spec, plugin, dist, version)

        return register

    def names(self, kind: str) -> list[str]:
        """Sorted names registered for ``kind``."""
        return sorted(self._by_kind[kind])

    def entries(self, kind: str) -> Iterator[Registered]:
        """Registered components of ``kind``, sorted by name."""
        for name in self.names(kind):
            yield self._by_kind[kind][name]

    def lookup(self, kind: str, name: str) -> Registered:
        """The registration of ``name``; unknown names get a did-you-mean error."""
        if kind not in self._by_kind:
            raise SerbenchError(f"unknown component kind {kind!r}; known: {sorted(self._by_kind)}")
        try:
            return self._by_kind[kind][name]
        except KeyError:
            raise UnknownComponentError(kind, name, self._by_kind[kind]) from None

    def get(self, kind: str, name: str) -> Any:
        """The spec registered as ``name`` (a CorpusSpec, ModelSpec, ...)."""
        return self.lookup(kind, name).spec

    def corpus(self, name: str) -> Any:
        return self.get("corpus", name)

    def protocol(self, name: str) -> Any:
        return self.get("protocol", name)

    def feature(self, name: str) -> Any:
        return self.get("feature", name)

    def model(self, name: str) -> Any:
        return self.get("model", name)

    def metric(self, name: str) -> Any:
        return self.get("metric", name)


_cached: Registry | None = None


def get_registry(*, refresh: bool = False) -> Registry:
    """The process-wide registry of installed plugins, built on first use."""
    global _cached
    if _cached is None or refresh:
        _cached = Registry(make_plugin_manager())
    return _cached


def reset_registry() -> None:
    """Forget the cached registry (tests that install or disable plugins)."""
    global _cached
    _cached = None
