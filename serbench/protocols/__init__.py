"""Protocols: deterministic train/validation/test folds from a manifest."""
