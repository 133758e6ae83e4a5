"""synthetic corpora."""
