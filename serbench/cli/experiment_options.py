"""The options that say which experiment to run, shared by ``serbench run`` and ``serbench tune``.

One declaration (:func:`experiment_options`) and one builder (:func:`run_config`), so the
two commands accept the same spelling of the same settings and build their
:class:`~serbench.run.config.RunConfig` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from serbench.run.resolve import DEVICES, NORMALISATIONS

#: the keyword arguments :func:`experiment_options` adds to a command
NAMES = ("model", "variant", "corpus", "data", "corpus_options", "label_map", "protocol",
         "protocol_options", "feature", "feature_params", "normalisation", "overrides",
         "seed", "device", "max_epochs", "runs_dir")


def experiment_options(set_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding the options of :data:`NAMES` to a click command.

    Args:
        set_help: the help of ``--set``, which differs per command (a run's override, a
            study's fixed value).
    """
    options = [
        click.option("--model", "-m", required=True,
                     help="Registered model name (see `serbench plugins`)."),
        click.option("--variant", help="One of the model's variants (ablations / table rows)."),
        click.option("--corpus", "-c", default="synthetic", show_default=True,
                     help="Registered corpus name."),
        click.option("--data", type=click.Path(path_type=Path),
                     help="The corpus's folder or manifest file (default: SERBENCH_DATA/<corpus>)."),
        click.option("--corpus-option", "corpus_options", multiple=True, metavar="K=V",
                     help="Option for the corpus loader; repeatable."),
        click.option("--label-map", help="One of the corpus's label maps."),
        click.option("--protocol", "-p", help="Registered protocol name."),
        click.option("--protocol-option", "protocol_options", multiple=True, metavar="K=V",
                     help="Protocol option; repeatable."),
        click.option("--feature", "-f", help="Registered feature name."),
        click.option("--feature-param", "feature_params", multiple=True, metavar="K=V",
                     help="Feature extractor parameter; repeatable."),
        click.option("--normalisation", type=click.Choice(NORMALISATIONS),
                     help="Feature normalisation, fitted on each fold's training part."),
        click.option("--set", "overrides", multiple=True, metavar="K=V", help=set_help),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True),
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
    from serbench.run.options import parse_assignments

    return RunConfig(
        model=params["model"], variant=params["variant"], corpus=params["corpus"],
        data=params["data"],
        corpus_options=parse_assignments(params["corpus_options"], "--corpus-option", typed=False),
        label_map=params["label_map"], protocol=params["protocol"],
        protocol_options=parse_assignments(params["protocol_options"], "--protocol-option"),
        feature=params["feature"],
        feature_params=parse_assignments(params["feature_params"], "--feature-param"),
        normalisation=params["normalisation"],
        overrides=parse_assignments(params["overrides"], "--set"),
        seed=params["seed"], device=params["device"], runs_dir=params["runs_dir"],
        max_epochs=params["max_epochs"], **extra,
    )
