"""serbench's built-in metrics, registered through the `serbench` entry-point group."""

from serbench import hookimpl


@hookimpl
def register_metrics(register):
    """Register the built-in metrics (see serbench.hookspecs.register_metrics)."""
