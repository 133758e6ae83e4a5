"""PNG plots of a study through ``optuna.visualization.matplotlib`` (Agg backend).

* ``history.png``: the optimisation history (first objective);
* ``parallel.png``: parallel coordinates of the parameters;
* ``contour_<a>_<b>.png``: the objective surface over two parameters: the model's
  two-parameter grid when it has one (ar_gru: AReLU's alpha x beta), else the two most
  important parameters;
* ``pareto.png``: the Pareto front of a two-objective study.

A plot that Optuna cannot draw (e.g. fewer than two complete trials) is skipped, with
the reason returned to the caller; plotting never fails a study.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import optuna
from optuna.trial import TrialState


def _save(make: Callable[[], object], path: Path, skipped: dict[str, str]) -> Path | None:
    import matplotlib.pyplot as plt

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna marks its matplotlib plots experimental
            ax = make()
        figure = getattr(ax, "figure", None)
        if figure is None and hasattr(ax, "flat"):
            figure = ax.flat[0].figure
        figure.set_size_inches(9, 6)
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return path
    except Exception as exc:  # noqa: BLE001 - a plot Optuna refuses is reported, not fatal
        plt.close("all")
        skipped[path.name] = f"{type(exc).__name__}: {exc}"
        return None


def save_plots(study: optuna.Study, folder: Path, *, objectives: Sequence[str],
               pair: Sequence[str] | None = None) -> tuple[list[Path], dict[str, str]]:
    """Write the plots into ``folder``; returns (written paths, {skipped plot: reason})."""
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as ovm

    folder.mkdir(parents=True, exist_ok=True)
    skipped: dict[str, str] = {}
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return [], {"all": f"{len(complete)} complete trial(s); plots need at least 2"}
    multi = len(study.directions) > 1
    target = (lambda t: t.values[0]) if multi else None
    name = objectives[0] if objectives else "objective"
    written = [
        _save(lambda: ovm.plot_optimization_history(study, target=target, target_name=name),
              folder / "history.png", skipped),
        _save(lambda: ovm.plot_parallel_coordinate(study, target=target, target_name=name),
              folder / "parallel.png", skipped),
    ]
    if pair is None:
        params = sorted({p for t in complete for p in t.params})
        pair = params[:2] if len(params) >= 2 else None
    if pair is not None and len(pair) == 2:
        a, b = pair
        written.append(_save(
            lambda: ovm.plot_contour(study, params=[a, b], target=target, target_name=name),
            folder / f"contour_{a}_{b}.png", skipped))
    if multi and len(study.directions) == 2:
        written.append(_save(lambda: ovm.plot_pareto_front(
            study, target_names=list(objectives)), folder / "pareto.png", skipped))
    return [p for p in written if p is not None], skipped
