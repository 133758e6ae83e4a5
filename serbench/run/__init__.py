"""The run pipeline: configuration, folds, training, predictions and the run record."""
