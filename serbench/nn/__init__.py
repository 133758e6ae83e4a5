"""Small building blocks shared by the models: masking and attention pooling."""
