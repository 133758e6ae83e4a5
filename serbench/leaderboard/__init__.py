"""Leaderboards: versioned files under ``leaderboards/`` derived from run records.

Where things are:

- ``schema.py``: the file formats (JSON Schema) and their validation;
  ``migrations.py``: upgrading older files in order.
- ``records.py``: run record -> entry; ``store.py``: the benchmark folder (add, read,
  publish); ``atomic.py``: crash-safe writes; ``recovery.py``: cleaning or completing
  what an interrupted publish left.
- ``grouping.py`` (seeds grouped, labels told apart), ``significance.py`` (paired test,
  bootstrap CI), ``diagnostics.py`` (chance, single-class rows, superseded versions,
  per-class recall), ``paper.py`` (the paper's number), ``summary.py`` (the ranked table).
- ``table.py`` (columns), ``render_terminal.py``, ``render_markdown.py``,
  ``render_html.py`` + ``html_details.py`` + ``charts.py`` + ``page.css``/``page.js``.

The command line is ``serbench leaderboard`` (``serbench/cli/leaderboard_cmd.py``).
"""
