"""``--size``, ``--dpi`` and ``--format``, the options every figure command takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from serbench.figures import FORMATS, FigureStyle, parse_size


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_size(value)
    except Exception as exc:  # ConfigError -> a usage error naming the option
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


def figure_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--size W,H`` (inches), ``--dpi`` and ``--format``; the command receives them
    as one ``style: FigureStyle`` argument."""
    def wrapper(*args: Any, size: Any, dpi: int | None, fmt: str | None, **kwargs: Any) -> Any:
        return func(*args, style=FigureStyle(size=size, dpi=dpi, format=fmt), **kwargs)

    wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
    for option in reversed([
        click.option("--size", callback=_size, metavar="W,H",
                     help="Figure size in inches, e.g. 3.3,2.5 for one column."),
        click.option("--dpi", type=click.IntRange(min=20, max=1200), default=None,
                     help="Resolution of PNG output (and of images inside PDF/SVG)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="File format where the output name has no .pdf/.svg/.png suffix "
                     "(explain: of every file). Default: png."),
    ]):
        wrapper = option(wrapper)
    return wrapper
