"""Registers the synthetic corpora through the `serbench` entry-point group."""

from serbench import hookimpl


@hookimpl
def register_corpora(register):
    """Register the synthetic corpora (see serbench.hookspecs.register_corpora)."""
