"""serbench: a benchmarking harness for speech emotion recognition."""

from serbench.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
