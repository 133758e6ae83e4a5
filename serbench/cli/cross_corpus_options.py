"""``serbench run``'s cross-corpus options: test on another corpus than the one trained on.

``--test-corpus B`` turns a run into a cross-corpus run (:mod:`serbench.crosscorpus`):
train and validate on ``--corpus`` (plus any ``--corpus-extra``), test on ``B``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from serbench.cli import completion

#: the keyword arguments :func:`cross_corpus_options` adds to a command
NAMES = ("test_corpus", "test_data", "test_corpus_options", "test_label_map", "extra_corpora")


def cross_corpus_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator adding the options of :data:`NAMES` to a click command."""
    options = [
        click.option("--test-corpus", shell_complete=completion.names("corpus"),
                     help="Cross-corpus: train and validate on --corpus, test on this corpus "
                          "(classes matched by name; protocol cross-corpus)."),
        click.option("--test-data", type=click.Path(path_type=Path),
                     help="The test corpus's folder or manifest file (default: "
                          "SERBENCH_DATA/<test corpus>)."),
        click.option("--test-corpus-option", "test_corpus_options", multiple=True,
                     metavar="K=V", help="Option for the test corpus's loader; repeatable."),
        click.option("--test-label-map",
                     help="The test corpus's label map (default: --label-map's name when it "
                          "has one, else its default)."),
        click.option("--corpus-extra", "extra_corpora", multiple=True, metavar="NAME[=PATH]",
                     shell_complete=completion.names("corpus"),
                     help="Cross-corpus: a further training corpus; repeatable."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def cross_corpus_fields(params: dict[str, Any]) -> dict[str, Any]:
    """The RunConfig fields of the parsed options (``K=V`` pairs parsed, naming the flag)."""
    from serbench.cli.experiment_options import parse_assignments

    return {
        "test_corpus": params.get("test_corpus"),
        "test_data": params.get("test_data"),
        "test_corpus_options": parse_assignments(params.get("test_corpus_options") or (),
                                                 "--test-corpus-option", typed=False),
        "test_label_map": params.get("test_label_map"),
        "extra_corpora": tuple(params.get("extra_corpora") or ()),
    }
