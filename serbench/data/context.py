"""Dialogue context: each utterance's previous turns in its conversation.

For models whose spec lists ``"context"`` in ``inputs`` (interaction-aware models such
as IAAN, Yeh et al. 2019), every utterance gets two context utterances from the same
``dialog``, ordered by ``turn``:

* ``prev_self``: the speaker's own most recent earlier utterance;
* ``prev_other``: the interlocutor's most recent earlier utterance (any other speaker).

Both are searched among the :data:`WINDOW` utterances that precede it in the dialogue;
none there means the context is absent (the batch then carries an empty turn with
``present=False``). Context utterances may lie outside an experiment's classes (e.g. an
IEMOCAP turn labelled "frustrated" in a 4-class run) or outside the fold: only their
*features* are read, never their labels, so no label leaks from context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from serbench.errors import ConfigError

#: How many preceding utterances of a dialogue are searched for context.
WINDOW = 8

CONTEXT_COLUMNS = ("dialog", "turn", "speaker")


@dataclass(frozen=True)
class ContextRef:
    """The context utterance ids of one utterance (None where absent)."""

    prev_self: str | None
    prev_other: str | None


def has_context_columns(manifest: pl.DataFrame) -> bool:
    """Whether ``manifest`` has the ``dialog``, ``turn`` and ``speaker`` columns."""
    return all(c in manifest.columns for c in CONTEXT_COLUMNS)


def require_context_columns(spec: Any, hparams: Mapping[str, Any], corpus: str,
                            manifest: pl.DataFrame) -> None:
    """A model declaring ``"context"`` in :attr:`ModelSpec.inputs` reads previous dialogue
    turns (this module); on a corpus whose manifest lacks the ``dialog``/
    ``turn``/``speaker`` columns it needs ``allow_empty_context`` (every context turn
    absent), else this raises, from the manifest alone, before any feature is extracted.
    """
    if "context" not in spec.inputs or has_context_columns(manifest):
        return
    if bool(hparams.get("allow_empty_context", False)):
        return
    missing = ", ".join(c for c in CONTEXT_COLUMNS if c not in manifest.columns)
    raise ConfigError(
        f"model {spec.name!r} reads dialogue context (the previous turns of each "
        f"utterance's dialogue), but corpus {corpus!r} has no dialogues: its manifest lacks "
        f"the column(s) {missing}. Run it on a corpus with dialogues, or pass "
        "--set allow_empty_context=true to run it with every context turn absent "
        "(nothing was extracted or trained)."
    )


def context_lookup(
    manifest: pl.DataFrame,
    utt_ids: Iterable[str] | None = None,
    *,
    window: int = WINDOW,
    allow_empty_context: bool = False,
    model: str = "the model",
) -> dict[str, ContextRef]:
    """Find each utterance's previous own and interlocutor turn.

    Args:
        manifest: every utterance that may serve as context (the full corpus manifest,
            not only the rows of the experiment's classes), with ``utt_id``,
            ``speaker``, ``dialog`` and ``turn``.
        utt_ids: the utterances to look up; default: every row.
        window: preceding utterances of the same dialogue to search.
        allow_empty_context: when the manifest has no dialogue columns, give every
            utterance absent context instead of raising (the hparam of the same name).
        model: the model's name, for the error message.
    Returns:
        ``utt_id -> ContextRef`` for every requested id.
    Raises:
        ConfigError: the manifest lacks ``dialog``/``turn`` and ``allow_empty_context``
            is False, or a requested id is not in the manifest.
    """
    ids = list(manifest["utt_id"]) if utt_ids is None else list(utt_ids)
    if not has_context_columns(manifest):
        if allow_empty_context:
            return {u: ContextRef(None, None) for u in ids}
        missing = [c for c in CONTEXT_COLUMNS if c not in manifest.columns]
        raise ConfigError(
            f"{model} reads dialogue context (previous turns), but the manifest has no "
            f"{missing} column(s). Use a corpus with dialogues (columns dialog, turn, "
            "speaker), or pass the hyperparameter allow_empty_context=True to run it "
            "with every context turn absent."
        )
    rows = manifest.select("utt_id", "speaker", "dialog", "turn").sort(
        ["dialog", "turn", "utt_id"], nulls_last=True
    )
    found: dict[str, ContextRef] = {}
    for (dialog,), group in rows.group_by(["dialog"], maintain_order=True):
        utts = group["utt_id"].to_list()
        speakers = group["speaker"].to_list()
        if dialog is None:  # utterances outside any dialogue have no context
            found.update({u: ContextRef(None, None) for u in utts})
            continue
        for i, (utt, speaker) in enumerate(zip(utts, speakers, strict=True)):
            prev_self = prev_other = None
            for j in range(i - 1, max(i - window, 0) - 1, -1):
                if speakers[j] == speaker:
                    prev_self = prev_self or utts[j]
                else:
                    prev_other = prev_other or utts[j]
                if prev_self and prev_other:
                    break
            found[utt] = ContextRef(prev_self, prev_other)
    missing_ids = [u for u in ids if u not in found]
    if missing_ids:
        raise ConfigError(
            f"context lookup: {len(missing_ids)} utterance(s) are not in the manifest, "
            f"e.g. {missing_ids[:3]}; pass the manifest that holds every fold utterance"
        )
    return {u: found[u] for u in ids}
