"""Meta-tests of the plugin contract: hooks documented and exercised, metadata valid,
conflicts named, plugins disableable, unknown names answered with did-you-mean."""

from __future__ import annotations

import inspect

import pytest

from serbench import hookimpl, hookspecs
from serbench.components import (
    SPEC_TYPES,
    CorpusSpec,
    FeatureSpec,
    MetricSpec,
    ModelSpec,
    ProtocolSpec,
)
from serbench.errors import PluginConflictError, SerbenchError, UnknownComponentError
from serbench.lazy import resolve
from serbench.plugins import DISABLE_ENV, Registry, make_plugin_manager

#: One valid example per kind: a new hook without an example here fails the test below.
EXAMPLES = {
    "corpus": CorpusSpec(name="demo-corpus", version=1, description="d",
                         loader="serbench.corpora.manifest_file:load", label_maps=("all",),
                         default_label_map="all", default_protocol="loso-speaker"),
    "protocol": ProtocolSpec(name="demo-protocol", version=1, description="d",
                             split="serbench.protocols.loso_speaker:split"),
    "feature": FeatureSpec(name="demo-feature", version=1, description="d",
                           extractor="builtins:dict", level="functionals"),
    "model": ModelSpec(name="demo-model", version=1, description="d", builder="builtins:dict"),
    "metric": MetricSpec(name="demo-metric", version=1, description="d",
                         fn="serbench.metrics.classification:wa"),
}

HOOK_OF_KIND = {kind: hook for hook, kind in hookspecs.HOOK_KINDS.items()}


def _hookspec_functions() -> dict[str, object]:
    return {
        name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec")
    }


def _plugin(kind: str, spec, name: str = "demo"):
    """A plugin object implementing only the hook of ``kind``."""
    hook = HOOK_OF_KIND[kind]

    def impl(register):
        register(spec)

    impl.__name__ = hook
    return type(f"Plugin_{name}", (), {hook: staticmethod(hookimpl(impl))})()


def test_every_hook_is_documented_and_mapped_to_a_kind():
    specs = _hookspec_functions()
    assert set(specs) == set(hookspecs.HOOK_KINDS)
    assert set(hookspecs.HOOK_KINDS.values()) == set(SPEC_TYPES)
    for name, fn in specs.items():
        doc = inspect.getdoc(fn) or ""
        assert len(doc) > 60, f"hook {name} needs a docstring that is its API reference"
        assert "register(" in doc, f"hook {name}'s docstring must show the register call"
        assert list(inspect.signature(fn).parameters) == ["register"]


@pytest.mark.parametrize("hook", sorted(hookspecs.HOOK_KINDS))
def test_every_hook_is_exercised(hook):
    kind = hookspecs.HOOK_KINDS[hook]
    assert set(EXAMPLES) == set(SPEC_TYPES), "add an example spec for the new kind"
    spec = EXAMPLES[kind]
    registry = Registry(make_plugin_manager(load_entry_points=False,
                                            extra_plugins=[("demo", _plugin(kind, spec))]))
    entry = registry.lookup(kind, spec.name)
    assert entry.spec is spec and entry.plugin == "demo"
    assert registry.names(kind) == [spec.name]
    assert callable(resolve(getattr(spec, {"corpus": "loader", "protocol": "split",
                                           "feature": "extractor", "model": "builder",
                                           "metric": "fn"}[kind])))
    # the wrong spec type through this hook is refused, naming the plugin
    other = next(s for k, s in EXAMPLES.items() if k != kind)
    bad = _plugin(kind, other, "bad")
    with pytest.raises(SerbenchError, match=f"plugin 'bad'.*expected a {type(spec).__name__}"):
        Registry(make_plugin_manager(load_entry_points=False, extra_plugins=[("bad", bad)]))


def test_invalid_metadata_is_refused():
    broken = MetricSpec(name="Bad Name", version=0, description="", fn="x:y")
    assert len(broken.validate()) == 3
    with pytest.raises(SerbenchError, match="invalid metadata"):
        Registry(make_plugin_manager(load_entry_points=False,
                                     extra_plugins=[("b", _plugin("metric", broken))]))


@pytest.fixture(scope="module")
def installed() -> Registry:
    pm = make_plugin_manager(disable=())
    pm.check_pending()  # every hook implementation matches a hook specification
    return Registry(pm)


def test_installed_components_have_valid_metadata_and_resolve(installed):
    refs = {"corpus": ["loader"], "protocol": ["split"], "feature": ["extractor"],
            "model": ["builder", "search_space"], "metric": ["fn"]}
    assert installed.names("protocol") and installed.names("metric")
    assert "manifest" in installed.names("corpus")
    for kind in SPEC_TYPES:
        for entry in installed.entries(kind):
            spec = entry.spec
            where = f"{kind} {spec.name!r} of plugin {entry.plugin!r} ({entry.distribution})"
            assert spec.validate() == [], where
            assert entry.distribution != "(not installed)", where
            for attr in refs[kind]:
                ref = getattr(spec, attr)
                if ref is not None:
                    assert callable(resolve(ref)), f"{where}: {attr} {ref!r} is not callable"


def test_installed_corpora_point_at_registered_components(installed):
    protocols = set(installed.names("protocol"))
    for entry in installed.entries("corpus"):
        spec = entry.spec
        assert spec.default_protocol in protocols, spec.name
        assert spec.default_label_map in spec.label_maps, spec.name


def test_two_plugins_registering_one_name_name_both_distributions():
    spec = EXAMPLES["metric"]
    pm = make_plugin_manager(load_entry_points=False, extra_plugins=[
        ("first", _plugin("metric", spec, "first")),
        ("second", _plugin("metric", spec, "second")),
    ])
    pm.distributions.update({"first": ("serbench-first", "1.0"),
                             "second": ("serbench-second", "2.0")})
    with pytest.raises(PluginConflictError) as info:
        Registry(pm)
    message = str(info.value)
    assert "serbench-first" in message and "serbench-second" in message
    assert "demo-metric" in message and DISABLE_ENV in message


def test_one_name_in_two_kinds_is_not_a_conflict():
    pm = make_plugin_manager(load_entry_points=False, extra_plugins=[
        ("a", _plugin("metric", MetricSpec(name="same", version=1, description="d",
                                           fn="serbench.metrics.classification:wa"), "a")),
        ("b", _plugin("model", ModelSpec(name="same", version=1, description="d",
                                         builder="builtins:dict"), "b")),
    ])
    registry = Registry(pm)
    assert registry.names("metric") == ["same"] == registry.names("model")


def test_disable_env_blocks_a_plugin(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "metrics, demo")
    pm = make_plugin_manager(extra_plugins=[("demo", _plugin("metric", EXAMPLES["metric"]))])
    registry = Registry(pm)
    assert "metrics" not in registry.plugin_names and "demo" not in registry.plugin_names
    assert "ua" not in registry.names("metric")
    assert "protocols" in registry.plugin_names
    monkeypatch.setenv(DISABLE_ENV, "")
    assert "ua" in Registry(make_plugin_manager()).names("metric")


@pytest.mark.parametrize(("kind", "typo", "suggestion"), [
    ("protocol", "loso_speaker", "loso-speaker"),
    ("metric", "macro_f2", "macro_f1"),
    ("corpus", "manifst", "manifest"),
])
def test_unknown_names_get_did_you_mean(installed, kind, typo, suggestion):
    with pytest.raises(UnknownComponentError) as info:
        installed.get(kind, typo)
    message = str(info.value)
    assert f"Did you mean {suggestion!r}?" in message
    assert all(name in message for name in installed.names(kind))
