"""Which runs ``serbench reproduce MODEL`` makes, and which paper row each one answers.

The runs: the model's defaults (when it has no ``default_variant``) and every variant,
plus every registered model that one of its :class:`~serbench.components.PaperResult`
rows names as ``variant`` (a comparison system, e.g. ``bilstm_att``). A row ``"A+B"``
whose parts are both planned is the score fusion of the two (``serbench fuse``), made
after them. Every other row (a system serbench does not implement) is kept as an
*absent* row: it is printed with its paper numbers and the reason, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from serbench.components import ModelSpec, PaperResult
from serbench.errors import ConfigError
from serbench.plugins import Registry

#: model name of the fused rows' planned runs
FUSION = "fusion"


@dataclass
class PlannedRun:
    """One row group of the reproduction: the system run and the paper rows it answers.

    ``model`` is ``"fusion"`` for an ``A+B`` row and ``None`` for a system that is not
    run (``note`` says why).
    """

    model: str | None
    variant: str | None
    label: str
    paper: list[PaperResult] = field(default_factory=list)
    note: str = ""


@dataclass
class Plan:
    """``runs`` are trained, ``fusions`` fuse two of them, ``absent`` are shown only."""

    runs: list[PlannedRun]
    fusions: list[PlannedRun]
    absent: list[PlannedRun]

    @property
    def rows(self) -> list[PlannedRun]:
        """Every row group, in table order."""
        return [*self.runs, *self.fusions, *self.absent]


def _default_label(spec: ModelSpec, result: PaperResult) -> str | None:
    """The run label a ``default``/model-name row means, if any."""
    if result.variant not in {spec.name, "default", ""}:
        return None
    return spec.default_variant or spec.name


def plan_runs(spec: ModelSpec, registry: Registry, only: Sequence[str] | None = None) -> Plan:
    """The plan of ``serbench reproduce`` for ``spec`` (see the module docstring).

    Args:
        spec: the model whose paper is reproduced.
        registry: where comparison systems are looked up.
        only: restrict to these run labels (variants or comparison models; ``A+B`` rows
            follow when both parts are kept).
    Raises:
        ConfigError: a name in ``only`` is not a row of this reproduction; the message
            lists those that are.
    """
    runs: list[PlannedRun] = []
    if spec.default_variant is None:  # the defaults are a configuration of their own
        runs.append(PlannedRun(spec.name, None, spec.name))
    runs += [PlannedRun(spec.name, v, v) for v in spec.variants]
    models = set(registry.names("model"))
    for result in spec.paper_results:
        name = result.variant
        if name in spec.variants or _default_label(spec, result) or "+" in name:
            continue
        if name in models and name != spec.name and all(p.label != name for p in runs):
            runs.append(PlannedRun(name, None, name))
    by_label = {p.label: p for p in runs}
    if only:
        unknown = [o for o in only if o not in by_label]
        if unknown:
            raise ConfigError(
                f"--variants {', '.join(unknown)}: not a variant of {spec.name!r} nor a "
                f"comparison system of its paper; choose among {', '.join(by_label)}"
            )
        runs = [p for p in runs if p.label in set(only)]
        by_label = {p.label: p for p in runs}
    fusions: dict[str, PlannedRun] = {}
    absent: dict[str, PlannedRun] = {}
    for result in spec.paper_results:
        label = _default_label(spec, result) or result.variant
        parts = result.variant.split("+")
        if label in by_label:
            by_label[label].paper.append(result)
        elif len(parts) == 2 and all(p in by_label for p in parts):
            fusions.setdefault(label, PlannedRun(FUSION, None, label)).paper.append(result)
        elif only:  # left out by --variants, on purpose
            continue
        else:
            note = result.note or (
                f"not run: no serbench model or variant named {result.variant!r}")
            absent.setdefault(label, PlannedRun(None, None, label, note=note)).paper.append(
                result)
    return Plan(runs, list(fusions.values()), list(absent.values()))
