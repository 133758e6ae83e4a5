"""``serbench tune``: an Optuna study over a model's search space, on inner splits only."""

from __future__ import annotations

from pathlib import Path

import click

from serbench.cli.experiment_options import experiment_options, run_config, seeds_option
from serbench.tuning.samplers import PRUNERS, SAMPLERS


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeated and/or comma-separated values: ``--objective ua,latency_ms``."""
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def _show_space(model: str, variant: str | None, overrides, grid) -> None:
    """The space as a table; imports neither torch nor the study machinery (it answers
    in well under a second)."""
    from rich.table import Table

    from serbench.cli.console import make_console
    from serbench.plugins import get_registry
    from serbench.run.model_hparams import known_hyperparameters, resolve_hparams, resolve_variant
    from serbench.tuning import space as spaces

    spec = get_registry().lookup("model", model).spec
    variant = resolve_variant(spec, variant)
    defaults = resolve_hparams(spec, variant, {}, None)
    if grid:
        space, origin = spaces.grid_as_space(spaces.grid_space(spec, grid)), f"grid {grid}"
    else:
        space, origin = spaces.model_space(spec)
        if overrides:
            space = spaces.apply_overrides(space, overrides, known_hyperparameters(spec), model)
            origin += " + overrides"
    table = Table(title=f"Search space of {model}" + (f" ({variant})" if variant else "")
                  + f": {origin}")
    for column in ("parameter", "distribution", "default (first trial)"):
        table.add_column(column)
    for name in sorted(space):
        value = defaults.get(name, "-")
        mark = "" if name not in defaults or spaces.contains(space[name], value) else \
            " (outside: not enqueued)"
        table.add_row(name, spaces.describe(space[name]), f"{value}{mark}")
    console = make_console()
    console.print(table)
    if spec.grids:
        for name, grid_values in spec.grids.items():
            sizes = " x ".join(f"{k}({len(v)})" for k, v in grid_values.items())
            console.print(f"grid [bold]{name}[/]: {sizes}  (--grid {name})")


@click.command("tune")
@experiment_options("Fix a hyperparameter for every trial (YAML-typed); repeatable.")
@click.option("--space", "space", multiple=True, metavar="NAME=DIST",
              help="Override the search space: lr=float:1e-4:1e-2:log, hidden=int:16:256, "
                   "hidden=cat:64,128, beta=off; repeatable.")
@click.option("--space-file", type=click.Path(path_type=Path),
              help="YAML/TOML file of search-space overrides.")
@click.option("--grid", help="Run one of the model's named grids with the grid sampler.")
@click.option("--show-space", is_flag=True, help="Print the search space and exit.")
@click.option("--trials", "-n", type=int,
              help="Target number of finished trials in the study (default: grid size or 20).")
@click.option("--timeout", type=float, help="Stop starting new trials after this many seconds.")
@click.option("--study", help="Study name (default: model-corpus-protocol-objectives).")
@click.option("--storage", help="Database URL (default: sqlite:///<runs>/studies/<study>.db).")
@click.option("--sampler", type=click.Choice(SAMPLERS), default="tpe", show_default=True)
@click.option("--pruner", type=click.Choice(PRUNERS), default="median", show_default=True)
@click.option("--objective", "objectives", multiple=True,
              help="ua, wa, macro_f1, ..., latency_ms, params, train_seconds; repeat (or "
                   "comma-separate) for a multi-objective study. Default: ua.")
@click.option("--directions", "directions", multiple=True,
              help="maximize/minimize per objective (comma-separated or repeated); "
                   "default: each objective's natural direction.")
@click.option("--inner-folds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Outer folds whose training part gives an inner split per trial.")
@click.option("--heartbeat", type=click.IntRange(min=1), default=60, show_default=True,
              help="Seconds between a running trial's heartbeats; silent for twice this, "
                   "a trial is marked failed and retried once.")
@click.option("--no-defaults-trial", is_flag=True,
              help="Do not enqueue the model's defaults as the first trial.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--evaluate-best", is_flag=True,
              help="Re-run the best configuration on the full protocol (a tuned run record).")
@seeds_option
@click.option("--leaderboard", "leaderboard", is_flag=True,
              help="With --evaluate-best: add the run to its leaderboard.")
@click.option("--leaderboard-root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("leaderboards"), envvar="SERBENCH_LEADERBOARDS",
              show_default=True, show_envvar=True,
              help="Leaderboards folder for --leaderboard.")
@click.option("--threads", type=click.IntRange(min=1),
              help="CPU threads for torch (default: torch's choice, one per core); as for "
                   "`serbench run`, not part of any run's identity.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(space, space_file, grid, show_space, trials, timeout, study, storage, sampler,
            pruner, objectives, directions, inner_folds, heartbeat, no_defaults_trial,
            no_plots, evaluate_best, seeds, leaderboard, leaderboard_root, threads, quiet,
            **options) -> None:
    """Tune a model's hyperparameters with Optuna, scored on speaker-disjoint inner
    validation splits inside each outer fold's training part (test folds are never seen).

    Many workers share a study: run the same command with the same --study and a
    --storage URL (e.g. postgresql://...) on each machine.
    """
    from serbench.errors import ConfigError
    from serbench.tuning import space as spaces

    space_overrides = dict(spaces.load_space_file(space_file)) if space_file else {}
    space_overrides.update(spaces.parse_overrides(space))
    if show_space:
        _show_space(options["model"], options["variant"], space_overrides, grid)
        return
    from serbench.cli.console import make_console
    from serbench.tuning.study import TuneConfig, tune
    if leaderboard and not evaluate_best:
        raise ConfigError("--leaderboard adds the --evaluate-best run; give both")
    if seeds and not evaluate_best:
        raise ConfigError("--seeds runs the best configuration once per seed: give it with "
                          "--evaluate-best (the study itself uses --seed)")
    run = run_config(options)
    runs_dir = options["runs_dir"]
    config = TuneConfig(
        run=run, trials=trials, timeout=timeout, study=study, storage=storage,
        sampler=sampler, pruner=pruner, objectives=_split(objectives) or ("ua",),
        directions=_split(directions), space_overrides=space_overrides, grid=grid,
        inner_folds=inner_folds, heartbeat=heartbeat, enqueue_defaults=not no_defaults_trial,
        plots=not no_plots,
    )
    if threads:
        import torch

        torch.set_num_threads(threads)
    console = make_console(stderr=True)
    result = tune(config, console=console, progress=not quiet)
    click.echo(f"study {result.study.study_name}: {result.folder / 'summary.json'}")
    if evaluate_best:
        import dataclasses

        from serbench import paths
        from serbench.cli.run_cmd import command_from_context
        from serbench.run.report import record_report
        from serbench.tuning.evaluate import evaluate_best as run_best

        ctx = click.get_current_context()
        root = Path(runs_dir) if runs_dir else paths.runs_dir()
        for seed in seeds or [run.seed]:  # --seeds: the best configuration once per seed
            record, added = run_best(
                result.study, dataclasses.replace(run, seed=seed), result.url,
                progress=not quiet, console=console,
                command=command_from_context(ctx, {"seed": seed}),
                features=result.features, leaderboard=leaderboard_root if leaderboard else None)
            make_console().print(record_report(record, str(root / record["run_id"] / "record.json")))
            for item in added or []:
                click.echo(f"{item.run_id}: {item.status} to leaderboard {item.benchmark} "
                           f"({item.path})")
