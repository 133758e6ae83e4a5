"""Where a campaign's runs execute: ``local`` worker processes or a ``slurm`` cluster."""
