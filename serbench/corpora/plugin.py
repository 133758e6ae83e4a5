"""serbench's built-in corpora, registered through the `serbench` entry-point group."""

from serbench import hookimpl


@hookimpl
def register_corpora(register):
    """Register the built-in corpora (see serbench.hookspecs.register_corpora)."""
