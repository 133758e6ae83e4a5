"""Cross-corpus evaluation: train (and validate) on one or more corpora, test on another.

``classes`` maps each corpus's label map onto shared class names, ``pair`` joins the
corpora into one experiment manifest, ``resolve`` loads them from a run configuration,
``features`` joins their feature caches, ``record`` writes what a run record says about
the pair. The fold itself comes from the ``cross-corpus`` protocol
(:mod:`serbench.protocols.cross_corpus`).
"""
