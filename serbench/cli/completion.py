"""Shell completion of registered names: models, variants, corpora, features, protocols.

click completes sub-commands and options itself; these callbacks (click's
``shell_complete=``) add the names a plugin registers, read from the registry, which
never imports torch. Enable it once per shell::

    eval "$(_SERBENCH_COMPLETE=bash_source serbench)"     # zsh: zsh_source; fish: fish_source

A completion must never fail the shell: an unloadable registry completes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from click.shell_completion import CompletionItem

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _registered(kind: str) -> list[tuple[str, str]]:
    """``(name, description)`` of every registered component of ``kind``."""
    from serbench.plugins import get_registry

    try:
        return [(e.spec.name, e.spec.description) for e in get_registry().entries(kind)]
    except Exception:  # noqa: BLE001 - a broken plugin must not break the user's shell
        return []


def names(kind: str) -> Completer:
    """A completer of the registered names of ``kind`` (``model``, ``corpus``, ...)."""

    def complete(ctx: click.Context, param: click.Parameter,
                 incomplete: str) -> list[CompletionItem]:
        return [CompletionItem(name, help=help_text) for name, help_text in _registered(kind)
                if name.startswith(incomplete)]

    return complete


def variants(ctx: click.Context, param: click.Parameter,
             incomplete: str) -> list[CompletionItem]:
    """The variants of the model already on the command line (``--model NAME``)."""
    from serbench.plugins import get_registry

    model = ctx.params.get("model")
    if not model:
        return []
    try:
        spec = get_registry().lookup("model", model).spec
    except Exception:  # noqa: BLE001 - an unknown model completes nothing
        return []
    return [CompletionItem(variant) for variant in spec.variants if variant.startswith(incomplete)]


def label_maps(ctx: click.Context, param: click.Parameter,
               incomplete: str) -> list[CompletionItem]:
    """The label maps the corpus on the command line declares (``--corpus``, default
    ``synthetic``), read without its data (:mod:`serbench.corpora.label_maps`)."""
    from serbench.corpora.label_maps import declared_label_maps
    from serbench.plugins import get_registry

    try:
        spec = get_registry().lookup("corpus", ctx.params.get("corpus") or "synthetic").spec
        declared = declared_label_maps(spec)
    except Exception:  # noqa: BLE001 - an unknown corpus completes nothing
        return []
    names = list(declared.maps) if declared.maps is not None else list(spec.label_maps)
    return [CompletionItem(name, help=declared.maps[name].description if declared.maps else "")
            for name in names if name.startswith(incomplete)]
