"""serbench's exceptions. Each message says what was wrong, where, and what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SerbenchError(Exception):
    """Base class: an error the user can act on (the CLI prints it without a traceback)."""


class PluginConflictError(SerbenchError):
    """Two plugins registered the same component name."""


class UnknownComponentError(SerbenchError, KeyError):
    """A name that no plugin registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(known) if known else "(none registered)"
        kinds = "corpora" if kind == "corpus" else f"{kind}s"
        super().__init__(f"unknown {kind} {name!r}.{hint} Known {kinds}: {listing}.")
        self.kind, self.name, self.known = kind, name, known

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ManifestError(SerbenchError):
    """A manifest with bad rows; ``problems`` lists every one, not only the first."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        shown = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{source}: {len(problems)} problem(s) in the manifest:\n{shown}{more}")


class DataNotFoundError(SerbenchError):
    """A corpus whose data is not on disk; the message says where to get it."""


class ConfigError(SerbenchError):
    """A bad argument, option, hyperparameter or combination of them."""


class SchemaError(SerbenchError):
    """A file that does not match its schema (or has an unknown schema version).

    ``path`` is the file and ``field`` the dotted field that is wrong (``""``: the whole
    document), so the message can say exactly what to fix.
    """

    def __init__(self, path: str, field: str, message: str):
        self.path, self.field = path, field
        where = f"field {field!r}" if field else "the document"
        super().__init__(f"{path}: {where}: {message}")
