"""serbench plugin: the comparison systems of the RLC and DRN papers (xia_dnn, poria_cnn, poria_lstm)."""
