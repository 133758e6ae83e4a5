"""How a stack of hidden states is stored in serbench's (T, D) feature cache.

serbench's cache and batch collation hold one 2-D array per utterance (frames (T, D) or
functionals (D,)), so a layer stack (L, T, H) is stored flattened as frames (T, L * H),
layer-major: column ``k * H + j`` is dimension ``j`` of stored layer ``k``, named
``l<n>_d<j>`` where ``n`` is the model's hidden-state index (0 = the CNN / embedding
output, 1..N the transformer layers). A head recovers (L, H) from the names alone
(:func:`layer_layout`), so nothing beyond the feature's names has to travel with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NAME = re.compile(r"^l(\d+)_d(\d+)$")


def layer_names(layers: Sequence[int], hidden_size: int) -> list[str]:
    """Column names of the flattened stack: ``l<n>_d<j>`` for each layer ``n`` (in order)
    and dimension ``j`` < ``hidden_size``; length ``len(layers) * hidden_size``."""
    return [f"l{n}_d{j}" for n in layers for j in range(hidden_size)]


def layer_layout(names: Sequence[str]) -> tuple[tuple[int, ...], int] | None:
    """``(layer indices, H)`` when ``names`` are exactly :func:`layer_names`'s output for
    some layers and H; ``None`` for any other naming (a plain feature: one "layer")."""
    parsed = [_NAME.match(n) for n in names]
    if not names or not all(parsed):
        return None
    pairs = [(int(m.group(1)), int(m.group(2))) for m in parsed if m]
    layers = tuple(dict.fromkeys(n for n, _ in pairs))
    hidden = len(names) // len(layers)
    if list(names) != layer_names(layers, hidden):
        return None
    return layers, hidden
