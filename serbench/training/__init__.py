"""Training: batching, the torch trainer, the scikit-learn runner and timing."""
