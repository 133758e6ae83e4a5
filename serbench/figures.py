"""Figure size, resolution and file format shared by ``serbench plot`` and ``explain``.

A figure for a paper is sized in inches (a column is about 3.3 in, a page 7 in wide) and
written as PDF or SVG (vector) or PNG (raster, ``dpi`` pixels per inch). The format
comes from the output file's suffix, or from ``--format`` when the name has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError

FORMATS = ("pdf", "svg", "png")


@dataclass(frozen=True)
class FigureStyle:
    """How a figure is written: ``size`` (width, height) in inches (None: the figure's own
    default), ``dpi`` (None: the figure's own default) and ``format`` (None: from the
    file suffix)."""

    size: tuple[float, float] | None = None
    dpi: int | None = None
    format: str | None = None

    def figsize(self, default: tuple[float, float]) -> tuple[float, float]:
        return self.size or default


def parse_size(text: str, option: str = "--size") -> tuple[float, float]:
    """``"6.5,4"`` -> (6.5, 4.0) inches.

    Raises:
        ConfigError: not two positive numbers separated by a comma.
    """
    parts = text.replace("x", ",").split(",")
    try:
        width, height = (float(p) for p in parts)
    except ValueError:
        width = height = -1.0
    if not (0 < width <= 100 and 0 < height <= 100):
        raise ConfigError(f"{option} {text!r}: give width,height in inches (each above 0 and "
                          "at most 100), e.g. --size 6.5,4")
    return width, height


def output_path(path: Path, style: FigureStyle, option: str = "-o/--output") -> tuple[Path, str]:
    """The file to write and its format.

    A suffix among :data:`FORMATS` decides the format (it must agree with ``--format``);
    a name without one gets ``--format``'s suffix (PNG when neither says).

    Raises:
        ConfigError: an unknown suffix, or a suffix that contradicts ``--format``.
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        if style.format and style.format != suffix:
            raise ConfigError(f"{option} {path} is a .{suffix} file but --format is "
                              f"{style.format}; give one of them, or make them agree")
        return path, suffix
    if suffix and not style.format:
        raise ConfigError(f"{option} {path}: unknown figure format .{suffix}; name the file "
                          f".pdf, .svg or .png (or give --format {'|'.join(FORMATS)})")
    fmt = style.format or "png"
    return path.with_name(path.name + "." + fmt), fmt


def save(fig: Any, path: Path, fmt: str, dpi: int) -> Path:
    """Write ``fig`` (creating the folder) and close it; vector formats ignore ``dpi``
    except for embedded images."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=fmt, dpi=dpi)
    plt.close(fig)
    return path


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
