"""Resolve ``"package.module:attribute"`` references at the moment they are needed."""

from __future__ import annotations

import importlib
from typing import Any

from serbench.errors import SerbenchError


def resolve(ref: Any) -> Any:
    """Return the object a lazy reference names; non-strings are returned unchanged.

    >>> resolve("os.path:join")  # doctest: +ELLIPSIS
    <function join at ...>
    """
    if not isinstance(ref, str):
        return ref
    module_name, sep, attribute = ref.partition(":")
    if not sep or not module_name or not attribute:
        raise SerbenchError(f"lazy reference {ref!r} must look like 'package.module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SerbenchError(f"cannot import {module_name!r} for {ref!r}: {exc}") from exc
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise SerbenchError(f"{module_name!r} has no attribute {attribute!r} ({ref!r})") from exc
    return obj
