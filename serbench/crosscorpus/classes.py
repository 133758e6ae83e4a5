"""Shared class names of a cross-corpus pair, and the label map chosen for each corpus.

serbench's corpora name their classes from one vocabulary (docs/corpora.md: ``angry``,
``happy``, ``neutral``, ``sad``, ``fear``, ...), so classes are matched by name: the
experiment's classes are those every corpus's label map has, in the training map's order
(so the four-class maps of two corpora meet on angry, happy, neutral, sad). A class only
one side has is left out of both, and the run says so. Fewer than two shared classes is
no classification task: refused, naming every map and its classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from serbench.components import LabelMap
from serbench.errors import ConfigError

#: fewest shared classes a cross-corpus experiment accepts
MIN_SHARED_CLASSES = 2


def pick_label_map(corpus: str, maps: Mapping[str, LabelMap], default: str,
                   wanted: str | None, explicit: str | None, flag: str) -> tuple[str, str]:
    """``(label map, where it came from)`` for one corpus of the pair.

    ``explicit`` (the corpus's own flag) must exist; else the training corpus's map name
    (``wanted``) when this corpus has a map of that name; else the corpus's default.
    """
    if explicit is not None:
        if explicit not in maps:
            raise ConfigError(
                f"{flag} {explicit!r}: corpus {corpus!r} has no such label map; its label "
                f"maps: {', '.join(sorted(maps))}")
        return explicit, flag
    if wanted is not None and wanted in maps:
        return wanted, "same name as the training corpus's label map"
    return default, f"corpus {corpus!r} default (it has no label map {wanted!r})"


def shared_classes(maps: Sequence[tuple[str, LabelMap]]) -> tuple[list[str], dict[str, list[str]]]:
    """The classes every ``(corpus, label map)`` has, in the first map's order, and per
    corpus the classes left out.

    Raises:
        ConfigError: fewer than :data:`MIN_SHARED_CLASSES` shared classes, naming each
            corpus's map and its classes.
    """
    first = list(maps[0][1].classes)
    common = [c for c in first if all(c in m.classes for _, m in maps[1:])]
    if len(common) < MIN_SHARED_CLASSES:
        listing = "; ".join(f"{corpus} label map {m.name!r}: {', '.join(m.classes)}"
                            for corpus, m in maps)
        raise ConfigError(
            f"cross-corpus: the label maps share {len(common)} class name(s) "
            f"({', '.join(common) or 'none'}), at least {MIN_SHARED_CLASSES} are needed "
            f"({listing}). Choose label maps with common classes, e.g. --label-map 4class "
            "(angry, happy, neutral, sad) where both corpora have it, or --test-label-map.")
    dropped = {corpus: [c for c in m.classes if c not in common] for corpus, m in maps}
    return common, dropped
