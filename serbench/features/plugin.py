"""serbench's built-in features, registered through the `serbench` entry-point group."""

from serbench import hookimpl


@hookimpl
def register_features(register):
    """Register the built-in features (see serbench.hookspecs.register_features)."""
