"""Corpus plugins: each turns a release on disk (or generated data) into a manifest."""
