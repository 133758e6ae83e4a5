"""``serbench reproduce``: run a model's variants and set them beside the paper's numbers.

The runs: the model's defaults (when it has no ``default_variant``) and every variant,
plus every model that one of its ``PaperResult`` rows names as ``variant`` and that is
itself registered (e.g. the paper's ``bilstm_att`` baseline row). Baselines run with the
label map and protocol of the model's own first run, so every row is measured alike.
A paper row whose ``variant`` is ``"A+B"`` (two of those runs) is the score fusion of
the two (:func:`plan_fusions`, ``serbench fuse``), made after them.

Paper numbers are shown as the paper reports them, on the paper's corpus; measured
numbers are the mean over folds on the corpus the user ran. Paper values above 1 are
taken as percentages, others as fractions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from serbench.components import ModelSpec, PaperResult
from serbench.errors import ConfigError
from serbench.plugins import Registry

#: paper metric names -> serbench metric names
ALIASES = {
    "ua": "ua", "uar": "ua", "unweighted_accuracy": "ua",
    "wa": "wa", "war": "wa", "acc": "wa", "accuracy": "wa", "weighted_accuracy": "wa",
    "maf": "macro_f1", "macro_f1": "macro_f1", "f1": "macro_f1", "mf1": "macro_f1",
    "map": "macro_precision", "macro_precision": "macro_precision",
}


@dataclass
class PlannedRun:
    """One run of the reproduction: which model/variant, and the paper rows it answers."""

    model: str
    variant: str | None
    label: str
    paper: list[PaperResult] = field(default_factory=list)


def plan_runs(spec: ModelSpec, registry: Registry, only: Sequence[str] | None = None
              ) -> list[PlannedRun]:
    """The runs ``serbench reproduce`` makes for ``spec`` (see the module docstring).

    ``only`` restricts to these variant (or baseline model) names; unknown names are an
    error listing the possible ones.
    """
    plans: list[PlannedRun] = []
    if spec.default_variant is None:  # the defaults are a configuration of their own
        plans.append(PlannedRun(spec.name, None, spec.name))
    plans += [PlannedRun(spec.name, v, v) for v in spec.variants]
    models = set(registry.names("model"))
    for result in spec.paper_results:
        if result.variant in spec.variants or result.variant == spec.name:
            continue
        if result.variant in models and all(p.label != result.variant for p in plans):
            plans.append(PlannedRun(result.variant, None, result.variant))
    by_label = {p.label: p for p in plans}
    for result in spec.paper_results:
        target = by_label.get(result.variant) or (
            by_label.get(spec.name) if result.variant in {spec.name, "default", ""} else None
        )
        if target is None and spec.default_variant and result.variant in {"default", ""}:
            target = by_label.get(spec.default_variant)
        if target is not None:
            target.paper.append(result)
    if only:
        unknown = [o for o in only if o not in by_label]
        if unknown:
            raise ConfigError(
                f"--variants {', '.join(unknown)}: not a variant of {spec.name!r} nor a "
                f"baseline of its paper; choose among {', '.join(by_label)}"
            )
        plans = [p for p in plans if p.label in set(only)]
    return plans


def plan_fusions(spec: ModelSpec, plans: Sequence[PlannedRun]) -> list[PlannedRun]:
    """Paper rows whose ``variant`` is ``"A+B"`` with A and B planned runs: the score
    fusion of those two runs (``serbench fuse``, fitted on validation predictions), made
    after them. Such rows answer model ``fusion``."""
    labels = {p.label for p in plans}
    fusions: list[PlannedRun] = []
    for result in spec.paper_results:
        parts = result.variant.split("+")
        if len(parts) == 2 and all(part in labels for part in parts):
            existing = next((f for f in fusions if f.label == result.variant), None)
            if existing is None:
                fusions.append(PlannedRun("fusion", None, result.variant, [result]))
            else:
                existing.paper.append(result)
    return fusions


def measured(record: Mapping[str, Any], key: str) -> float | None:
    """A metric of a record by paper name (mean over folds); ``recall_<class>`` /
    ``<class>`` give the per-class recall."""
    name = ALIASES.get(key.lower())
    mean = record["aggregate"]["mean"]
    if name is not None:
        return mean.get(name)
    recalls = mean.get("per_class_recall") or {}
    for cls in (key, key.removeprefix("recall_"), key.removesuffix("_recall")):
        if cls in recalls:
            return recalls[cls]
    return None


def _paper_pct(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value > 1 else f"{100 * value:.2f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def comparison_table(spec: ModelSpec, plans: Sequence[PlannedRun],
                     records: Mapping[str, Mapping[str, Any]]) -> Table:
    """Measured (ours) beside reported (paper) scores, one row per run x paper row."""
    metrics = ["ua", "wa"]
    for plan in plans:
        for result in plan.paper:
            for key in result.metrics:
                if ALIASES.get(key.lower()) not in {"ua", "wa"} and key not in metrics:
                    metrics.append(key)
    some = next(iter(records.values()), None)
    corpus, ours = "here", "not run"
    if some is not None:
        c, p = some["corpus"], some["protocol"]
        corpus = c["name"]
        ours = f"{c['name']} ({c['label_map']}, {p['name']}, {p['n_folds']} folds)"
    table = Table(
        title=f"reproducing {spec.name}: the paper's numbers beside ours",
        caption=f"paper columns: as reported, on the corpus in 'paper corpus'; "
                f"{corpus} columns: measured here, mean over folds, on {ours}",
        title_justify="left", caption_justify="left",
    )
    table.add_column("variant")
    table.add_column("paper corpus")
    for key in metrics:
        table.add_column(f"{key.upper()} % paper", justify="right")
        table.add_column(f"{key.upper()} % {corpus}", justify="right", style="bold")
    for plan in plans:
        record = records.get(plan.label)
        rows = plan.paper or [None]
        for result in rows:
            cells = [plan.label + (f" ({result.label})" if result and result.label else ""),
                     result.corpus if result else "–"]
            for key in metrics:
                paper_value = None
                if result is not None:
                    paper_value = next((v for k, v in result.metrics.items()
                                        if k == key or ALIASES.get(k.lower()) == ALIASES.get(key)
                                        and ALIASES.get(key) is not None), None)
                cells += [_paper_pct(paper_value),
                          _pct(measured(record, key)) if record else "not run"]
            table.add_row(*cells)
    return table
