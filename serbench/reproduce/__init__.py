"""``serbench reproduce MODEL``: every row of a model's paper tables, run on one split and
set beside the paper's numbers.

- :mod:`serbench.reproduce.plan`: which runs, fusions and not-run rows a paper has;
- :mod:`serbench.reproduce.splits`: the settings every row shares, the split-hash check;
- :mod:`serbench.reproduce.runner`: runs the rows seed by seed (:func:`reproduce`);
- :mod:`serbench.reproduce.table`: the comparison table.
"""
