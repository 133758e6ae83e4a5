"""Registers the real-corpus loaders (one module per release) through the `serbench`
entry-point group. Importing the modules is cheap: they import polars only when loading.
"""

from serbench import hookimpl
from serbench.corpora.releases import cremad, emodb, enterface, iemocap, msp_podcast, nemo, ravdess

RELEASES = (iemocap, enterface, emodb, ravdess, cremad, msp_podcast, nemo)


@hookimpl
def register_corpora(register):
    """Register the releases corpora (see serbench.hookspecs.register_corpora)."""
    for module in RELEASES:
        register(module.SPEC)
