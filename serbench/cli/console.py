"""One rich console for the command line.

Rich sizes its output to the terminal; written to a file or a pipe it falls back to 80
columns and wraps every wide table onto several lines. A console that is not a terminal
gets a wide layout instead (``SERBENCH_WIDTH`` overrides it), so a log or a redirected
table reads like the screen.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

#: width for output that is not a terminal
PIPE_WIDTH = 160


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): the terminal's width on a terminal,
    ``SERBENCH_WIDTH`` or :data:`PIPE_WIDTH` columns otherwise."""
    stream = sys.stderr if stderr else sys.stdout
    env = os.environ.get("SERBENCH_WIDTH", "")
    if env.isdigit() and int(env) > 0:
        return Console(stderr=stderr, width=int(env))
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPE_WIDTH)
