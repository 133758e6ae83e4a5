"""serbench's built-in protocols, registered through the `serbench` entry-point group."""

from serbench import hookimpl


@hookimpl
def register_protocols(register):
    """Register the built-in protocols (see serbench.hookspecs.register_protocols)."""
