"""serbench's reference models: ``svm`` and ``bilstm_att``."""
