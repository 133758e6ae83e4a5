"""serbench's built-in models, registered through the `serbench` entry-point group."""

from serbench import hookimpl


@hookimpl
def register_models(register):
    """Register the built-in models (see serbench.hookspecs.register_models)."""
