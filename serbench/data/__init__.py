"""Data flowing into models: input specs, batches, datasets and collation."""
