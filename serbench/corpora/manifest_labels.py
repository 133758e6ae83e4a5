"""The labels a user's manifest file may hold, and the rows whose label is outside them.

A mistyped label must not become a class of its own, and a row a label map cannot place
must not vanish without a word. The labels a file may hold are, first hit wins:

1. ``--corpus-option labels=a,b,c`` (declared by the user);
2. the raw labels of the user's label maps (``map=`` / ``map.NAME=``);
3. every label in the file, except one that looks like a typo of a more frequent label
   (the same letters up to case and spaces, or a :func:`difflib.get_close_matches` match
   at ``TYPO_CUTOFF``): ``angyr`` in 1 row beside ``angry`` in 120.

A row with another label is an error naming its row, utt_id and label, unless
``--corpus-option drop_unknown_labels=true``: then the rows are left out and a warning
saying how many (which ends in the run record) replaces the error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

import polars as pl

from serbench.errors import ConfigError, ManifestError

#: similarity (difflib ratio, case-folded) at which a rarer label counts as a typo
TYPO_CUTOFF = 0.8
#: rows named per unknown label in an error or warning
ROWS_SHOWN = 10
DROP_OPTION = "drop_unknown_labels"
LABELS_OPTION = "labels"


def flag_option(options: Mapping[str, str], key: str) -> bool:
    """A ``true``/``false`` corpus option (default false)."""
    raw = str(options.get(key, "false")).strip().lower()
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise ConfigError(f"corpus 'manifest': option {key}={options[key]!r} must be true or false")


def declared_labels(options: Mapping[str, str]) -> list[str] | None:
    """The ``labels=a,b,c`` option as a list, or None when not given."""
    if LABELS_OPTION not in options:
        return None
    labels = [p.strip() for p in str(options[LABELS_OPTION]).split(",") if p.strip()]
    if not labels:
        raise ConfigError("corpus 'manifest': option labels= is empty; write e.g. "
                          "labels=angry,happy,neutral,sad")
    return labels


def suspected_typos(counts: Mapping[str, int]) -> dict[str, str]:
    """Rarer labels that look like a typo of another label: ``{typo: likely label}``.

    Of two similar labels the rarer one is suspect (ties: the later name), so exactly
    one of each pair is reported.
    """
    suspects: dict[str, str] = {}
    for label, n in counts.items():
        folded = " ".join(label.casefold().split())
        bigger = [other for other, m in counts.items()
                  if other != label and (m, other) > (n, label)]
        same = [o for o in bigger if " ".join(o.casefold().split()) == folded]
        close = same or difflib.get_close_matches(
            folded, [o.casefold() for o in bigger], n=1, cutoff=TYPO_CUTOFF)
        if close:
            match = same[0] if same else next(o for o in bigger if o.casefold() == close[0])
            suspects[label] = match
    return suspects


def _rows(df: pl.DataFrame, label: str) -> tuple[int, str]:
    """How many rows carry ``label`` and the first ``ROWS_SHOWN`` as ``row N (utt_id 'x')``."""
    hits = df.with_row_index("_row").filter(pl.col("label") == label)
    shown = ", ".join(f"row {r + 1} (utt_id {u!r})"
                      for r, u in zip(hits["_row"].head(ROWS_SHOWN).to_list(),
                                      hits["utt_id"].head(ROWS_SHOWN).to_list(), strict=True))
    more = f" and {hits.height - ROWS_SHOWN} more" if hits.height > ROWS_SHOWN else ""
    return hits.height, shown + more


def check_labels(df: pl.DataFrame, source: str, options: Mapping[str, str],
                 map_labels: Iterable[str] | None) -> tuple[pl.DataFrame, list[str], list[str]]:
    """Rows outside the allowed labels: an error, or left out with ``drop_unknown_labels``.

    Args:
        df: the manifest file's rows (``utt_id``, ``label``, ...).
        source: the file, for messages.
        options: the corpus options (``labels``, ``drop_unknown_labels``).
        map_labels: the raw labels of the user's label maps, None when there are none.

    Returns:
        (the rows kept, the allowed labels present in them, sorted; warnings).

    Raises:
        ManifestError: one problem per unknown label with its rows, then what to do.
    """
    drop = flag_option(options, DROP_OPTION)
    declared = declared_labels(options)
    counts = dict(df.filter(pl.col("label").is_not_null())["label"].value_counts()
                  .iter_rows())
    if declared is not None:
        allowed, why = set(declared), f"is not among the declared labels {sorted(declared)}"
        typos: dict[str, str] = {}
    elif map_labels is not None:
        allowed, why = set(map_labels), "is in no label map"
        typos = {}
    else:
        typos = suspected_typos(counts)
        allowed, why = set(counts) - set(typos), ""
    unknown = sorted(label for label in counts if label not in allowed)
    kept_labels = sorted(label for label in counts if label in allowed)
    if not unknown:
        return df, kept_labels, []
    lines = []
    for label in unknown:
        n, rows = _rows(df, label)
        if label in typos:
            reason = f"looks like a typo of {typos[label]!r} ({counts[typos[label]]} row(s))"
        else:
            close = difflib.get_close_matches(label, sorted(allowed), n=1)
            reason = why + (f"; did you mean {close[0]!r}?" if close else "")
        lines.append(f"label {label!r} in {n} row(s) ({rows}) {reason}")
    if not drop:
        where = "add the label to a map (raw:class); or " if map_labels is not None and \
            declared is None else ""
        raise ManifestError(source, [*lines, (
            f"fix these rows; or {where}allow such a label with --corpus-option labels="
            + ",".join(sorted({*kept_labels, *unknown}))
            + f"; or leave the rows out with --corpus-option {DROP_OPTION}=true "
            "(the run records how many)")])
    kept = df.filter(pl.col("label").is_null() | pl.col("label").is_in(sorted(allowed)))
    n_dropped = df.height - kept.height
    warning = (f"{n_dropped} utterance(s) left out of corpus 'manifest' ({source}) by "
               f"{DROP_OPTION}=true, whose label is outside the allowed labels: "
               + "; ".join(lines))
    return kept, kept_labels, [warning]
