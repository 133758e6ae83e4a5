"""Choosing between a fast recurrence and the reference loop (``implementation`` flags).

``"auto"`` (the plugins' default) takes the fast path and, if it cannot be loaded, warns
once, in one line, and runs the reference instead: a missing fast path never stops a
run. ``"fast"`` insists (errors propagate); ``"reference"`` forces the reference loop.
Both paths compute the same function (tested), so the choice never changes a result
beyond float rounding.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from serbench.errors import ConfigError
from serbench.lazy import resolve

IMPLEMENTATIONS = ("auto", "fast", "reference")
_warned: set[str] = set()


def choose(implementation: str, fast: str | Callable[..., Any], reference: Callable[..., Any],
           *, what: str) -> Callable[..., Any]:
    """The function to run.

    Args:
        implementation: ``"auto"``, ``"fast"`` or ``"reference"``.
        fast: the fast path, a callable or a lazy ``"package.module:attr"`` reference.
        reference: the reference implementation.
        what: a name for messages, e.g. ``"A-LSTM recurrence"``.
    Raises:
        ConfigError: an unknown ``implementation``.
    """
    if implementation == "reference":
        return reference
    if implementation == "fast":
        return resolve(fast)
    if implementation != "auto":
        raise ConfigError(
            f"unknown {what} implementation {implementation!r}; choose one of "
            f"{', '.join(IMPLEMENTATIONS)}"
        )
    try:
        return resolve(fast)
    except Exception as exc:  # e.g. an older serbench without this fast path
        if what not in _warned:
            _warned.add(what)
            warnings.warn(f"{what}: fast path unavailable ({exc}); using the reference "
                          "implementation", RuntimeWarning, stacklevel=2)
        return reference
