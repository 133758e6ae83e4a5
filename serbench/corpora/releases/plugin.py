"""Registers the releases corpora through the `serbench` entry-point group."""

from serbench import hookimpl


@hookimpl
def register_corpora(register):
    """Register the releases corpora (see serbench.hookspecs.register_corpora)."""
