"""The ``serbench`` command line. Each sub-command lives in its own module and is imported
only when used, so ``serbench plugins`` never imports torch."""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys

import click

from serbench.errors import SerbenchError

#: set by the local campaign executor in its workers' environment
CAMPAIGN_WORKER_ENV = "SERBENCH_CAMPAIGN_WORKER"

#: sub-command -> "module:attribute" of a click.Command
COMMANDS: dict[str, str] = {
    "run": "serbench.cli.run_cmd:command",
    "plugins": "serbench.cli.plugins_cmd:command",
    "corpus": "serbench.cli.corpus_cmd:command",
    "features": "serbench.cli.features_cmd:command",
    "tune": "serbench.cli.tune_cmd:command",
    "leaderboard": "serbench.cli.leaderboard_cmd:command",
    "reproduce": "serbench.cli.reproduce_cmd:command",
    "plot": "serbench.cli.plot_cmd:command",
    "explain": "serbench.cli.explain_cmd:command",
    "fuse": "serbench.cli.fuse_cmd:command",
    "sweep": "serbench.cli.sweep_cmd:command",
    "models": "serbench.cli.models_cmd:command",
    "predict": "serbench.cli.predict_cmd:command",
    "export": "serbench.cli.export_cmd:command",
    "refit": "serbench.cli.refit_cmd:command",
    "compare": "serbench.cli.compare_cmd:command",
}


def _available(name: str) -> bool:
    module = COMMANDS[name].split(":")[0]
    return importlib.util.find_spec(module) is not None


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module only when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module_name, attr = COMMANDS[cmd_name].split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="serbench")
def cli() -> None:
    """serbench: fair, reproducible speech emotion recognition benchmarks."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, printing serbench errors without a traceback."""
    if (os.environ.get(CAMPAIGN_WORKER_ENV) == "1"
            and signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
        # a sweep started in the background (`serbench sweep ... &`) passes an ignored
        # SIGINT on to its workers, yet it stops them with SIGINT: without this they sit
        # out the grace period and are killed mid-epoch instead of stopping cleanly
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cli.main(args=argv, prog_name="serbench", standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort; an interrupt that says what was kept (e.g. the
        # feature cache's ExtractionInterrupted) is shown instead of a bare "Aborted."
        cause = exc.__cause__
        click.echo(str(cause) if isinstance(cause, KeyboardInterrupt) and str(cause)
                   else "Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SerbenchError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("Interrupted; finished folds are kept on disk (resume with --resume).", err=True)
        sys.exit(130)
