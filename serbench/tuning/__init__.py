"""Optuna studies over a model's declarative search space (``serbench tune``).

Where things are: ``space.py`` (search spaces, overrides, grids), ``inner.py`` (inner
validation splits inside each outer fold's training part: no test leakage),
``objective.py`` (one trial), ``storage.py`` (SQLite / database URLs, heartbeats),
``samplers.py`` (samplers and pruners), ``study.py`` (``tune()``), ``report.py``
(best trials, Pareto front, importances), ``plots.py`` (PNG plots), ``evaluate.py``
(``--evaluate-best``). The command line is ``serbench/cli/tune_cmd.py``.
"""
