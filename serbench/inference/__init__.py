"""Using a finished run: predict emotions of new recordings and export a fold's model.

- :mod:`serbench.inference.statistics`: per-fold normalisation statistics (saved by runs);
- :mod:`serbench.inference.audio_features`: the run's feature extraction on new files;
- :mod:`serbench.inference.fold_models`: the run's saved fold models, rebuilt safely;
- :mod:`serbench.inference.wrapper`: a ``(x, lengths) -> probabilities`` module for export;
- :mod:`serbench.inference.predict`: ``serbench predict`` (fold ensemble);
- :mod:`serbench.inference.refit`: ``serbench refit`` (one model on all the run's data);
- :mod:`serbench.inference.export`: ``serbench export`` (ONNX / TorchScript), with
  :mod:`serbench.inference.sidecar` describing its input.
"""
