"""releases corpora."""
