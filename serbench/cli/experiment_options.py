"""The options that say which experiment to run, shared by ``serbench run`` and ``serbench tune``.

One declaration (:func:`experiment_options`) and one builder (:func:`run_config`), so the
two commands accept the same spelling of the same settings and build their
:class:`~serbench.run.config.RunConfig` the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from serbench.cli import completion
from serbench.run.resolve import DEVICES, NORMALISATIONS
from serbench.training.config import PRECISIONS

#: the keyword arguments :func:`experiment_options` adds to a command
NAMES = ("model", "variant", "corpus", "data", "corpus_options", "label_map", "protocol",
         "protocol_options", "feature", "feature_params", "normalisation", "overrides",
         "seed", "device", "precision", "max_epochs", "runs_dir")


def experiment_options(set_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding the options of :data:`NAMES` to a click command.

    Args:
        set_help: the help of ``--set``, which differs per command (a run's override, a
            study's fixed value).
    """
    options = [
        click.option("--model", "-m", required=True, shell_complete=completion.names("model"),
                     help="Registered model name (see `serbench plugins`)."),
        click.option("--variant", shell_complete=completion.variants, help="One of the model's variants (ablations / table rows)."),
        click.option("--corpus", "-c", default="synthetic", show_default=True,
                     shell_complete=completion.names("corpus"),
                     help="Registered corpus name."),
        click.option("--data", type=click.Path(path_type=Path),
                     help="The corpus's folder or manifest file (default: SERBENCH_DATA/<corpus>)."),
        click.option("--corpus-option", "corpus_options", multiple=True, metavar="K=V",
                     help="Option for the corpus loader; repeatable."),
        click.option("--label-map", shell_complete=completion.label_maps, help="One of the corpus's label maps."),
        click.option("--protocol", "-p", shell_complete=completion.names("protocol"),
                     help="Registered protocol name."),
        click.option("--protocol-option", "protocol_options", multiple=True, metavar="K=V",
                     help="Protocol option; repeatable."),
        click.option("--feature", "-f", shell_complete=completion.names("feature"),
                     help="Registered feature name."),
        click.option("--feature-param", "feature_params", multiple=True, metavar="K=V",
                     help="Feature extractor parameter; repeatable."),
        click.option("--normalisation", type=click.Choice(NORMALISATIONS),
                     help="Feature normalisation, fitted on each fold's training part."),
        click.option("--set", "overrides", multiple=True, metavar="K=V", help=set_help),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True),
        click.option("--precision", type=click.Choice(PRECISIONS), default="fp32",
                     show_default=True,
                     help="Torch models: autocast precision (bf16/fp16 mixed precision; fp16 "
                          "with loss scaling). Sets the precision hyperparameter."),
        click.option("--max-epochs", type=click.IntRange(min=1),
                     help="Reduced epoch budget (overrides the model's max_epochs)."),
        click.option("--runs-dir", type=click.Path(path_type=Path),
                     help="Root of run folders (default: SERBENCH_RUNS or ./runs)."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):  # click lists options in decoration order
            command = option(command)
        return command

    return decorate


def run_config(params: dict[str, Any], **extra: Any) -> Any:
    """The :class:`~serbench.run.config.RunConfig` of a command's parsed options.

    Args:
        params: the command's keyword arguments (at least :data:`NAMES`).
        extra: further RunConfig fields (``resume``, ``force``, ``folds``).
    Raises:
        ConfigError: a malformed ``K=V`` option, naming it.
    """
    from serbench.run.config import RunConfig

    return RunConfig(
        model=params["model"], variant=params["variant"], corpus=params["corpus"],
        data=params["data"],
        corpus_options=parse_assignments(params["corpus_options"], "--corpus-option", typed=False),
        label_map=params["label_map"], protocol=params["protocol"],
        protocol_options=parse_assignments(params["protocol_options"], "--protocol-option"),
        feature=params["feature"],
        feature_params=parse_assignments(params["feature_params"], "--feature-param"),
        normalisation=params["normalisation"],
        overrides=_with_precision(parse_assignments(params["overrides"], "--set"),
                                  params.get("precision") or "fp32"),
        seed=params["seed"], device=params["device"], runs_dir=params["runs_dir"],
        max_epochs=params["max_epochs"], **extra,
    )


def _with_precision(overrides: dict[str, Any], precision: str) -> dict[str, Any]:
    """``--precision`` as the ``precision`` hyperparameter; fp32 (the default) adds nothing,
    so fp32 runs keep the ids they had before the option existed.

    Raises:
        ConfigError: ``--precision`` and ``--set precision=`` disagree.
    """
    if precision == "fp32":
        return overrides
    if overrides.get("precision", precision) != precision:
        from serbench.errors import ConfigError

        raise ConfigError(f"--precision {precision} and --set precision={overrides['precision']} "
                          "disagree; give one of them")
    return {**overrides, "precision": precision}


def parse_assignments(pairs: Any, option: str, *, typed: bool = True) -> dict[str, Any]:
    """``K=V`` flags as a dict; a mapping (an experiment file's table merged with the
    flags, :mod:`serbench.cli.config_file`) is already parsed and passes through."""
    from serbench.run.options import parse_assignments as parse

    return dict(pairs) if isinstance(pairs, Mapping) else parse(pairs, option, typed=typed)


class SeedList(click.ParamType):
    """``--seeds 0,1,2`` (or ``0-4``, a range with both ends included) -> ``[0, 1, 2]``."""

    name = "seeds"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> list[int]:
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        seeds: list[int] = []
        try:
            for part in (p.strip() for p in str(value).split(",") if p.strip()):
                low, dash, high = part.partition("-") if not part.startswith("-") else \
                    (part, "", "")
                seeds += list(range(int(low), int(high) + 1)) if dash else [int(part)]
        except ValueError:
            self.fail(f"{value!r}: give seeds as 0,1,2 or 0-4", param, ctx)
        if not seeds or len(set(seeds)) != len(seeds):
            self.fail(f"{value!r}: give distinct seeds, e.g. 0,1,2", param, ctx)
        return seeds


#: ``--seeds``, for commands that run one run per seed (run, reproduce, tune --evaluate-best)
seeds_option = click.option(
    "--seeds", type=SeedList(), default=None,
    help="Run once per seed (0,1,2 or 0-4); leaderboards group the runs into one row with "
         "the spread over seeds. Replaces --seed.")


def seeds_of(ctx: click.Context, params: dict[str, Any]) -> list[int]:
    """The seeds to run: ``--seeds`` or else ``[--seed]``. Where one of them comes from
    an experiment file (``--config``) and the other from the command line, the flag wins.

    Raises:
        ConfigError: both ``--seed`` and ``--seeds`` were given as flags.
    """
    seeds = params.get("seeds")
    if not seeds:
        return [params["seed"]]
    flags = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
    if ctx.get_parameter_source("seed") in flags:
        if ctx.get_parameter_source("seeds") not in flags:
            return [params["seed"]]
        from serbench.errors import ConfigError

        raise ConfigError(f"--seed {params['seed']} and --seeds {','.join(map(str, seeds))}: "
                          "give one of them")
    return list(seeds)
