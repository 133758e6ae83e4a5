"""Figures of :class:`serbench.explain.Explanation`: attention on a time axis in seconds.

- ``(T,)`` / ``(K, T)`` maps: the weights over time above the utterance's spectrogram
  (matplotlib's ``specgram``: 25 ms windows, 10 ms hop, power in dB, with a colour bar);
  without audio on disk, above the model's input features with their dimension names
  and a colour bar;
- ``(H, T, T)`` maps: one query x key matrix per head, one shared colour bar;
- ``context/<turn>`` maps (previous turns, see :mod:`serbench.explain`): one figure,
  ``context.<format>``, with a bar chart of the weights over each previous turn's frames,
  titled with that turn's utt_id (seconds only when the feature's frame step is known).

The time axis: the feature's frame step when known
(:mod:`serbench.features.frame_step`), else the audio's duration divided by the
number of input frames, else frame indices.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from serbench.figures import FigureStyle, output_path, pyplot, save

if TYPE_CHECKING:
    from serbench.explain import Explanation

CONTEXT_PREFIX = "context/"
_TURN_TEXT = {"prev_self": "the speaker's previous turn",
              "prev_other": "the interlocutor's previous turn"}


def time_axis(e: Explanation) -> tuple[float | None, str]:
    """(seconds per input frame or None, x-axis label)."""
    frames = e.features.shape[0] if e.features.ndim == 2 else 1
    if e.frame_step:
        return e.frame_step, "time (s)"
    if e.audio is not None and e.sample_rate and frames:
        return len(e.audio) / e.sample_rate / frames, "time (s; audio duration / frames)"
    return None, "input frame"


def _span(frames: int, step: float | None) -> float:
    return frames * step if step else float(frames)


def _curves(ax: Any, values: np.ndarray, extent: float, label_fmt: str) -> None:
    n = values.shape[-1]
    t = (np.arange(n) + 0.5) * extent / n  # step n covers [n, n + 1) of N over the span
    for k, row in enumerate(np.atleast_2d(values)):
        ax.plot(t, row, marker="o" if n <= 60 else None, ms=3, label=label_fmt.format(k + 1))
    ax.set_xlim(0, extent)
    ax.grid(alpha=0.3)


def _dimension_ticks(ax: Any, names: list[str] | None, dims: int) -> None:
    """Name the feature dimensions on the y axis (about 24 labels at most)."""
    if not names:
        ax.set_ylabel("feature dimension")
        return
    every = max(1, int(np.ceil(dims / 24)))
    ticks = list(range(0, dims, every))
    ax.set_yticks([i + 0.5 for i in ticks], [names[i] for i in ticks], fontsize=6)


def _background(fig: Any, ax: Any, cax: Any, e: Explanation, extent: float) -> None:
    """The spectrogram of the audio, or the input features, under the attention."""
    if e.audio is not None and e.sample_rate:
        rate = e.sample_rate
        nfft = int(2 ** np.ceil(np.log2(0.025 * rate)))  # >= 25 ms windows
        hop = max(1, int(0.010 * rate))
        with np.errstate(divide="ignore"):  # digital silence: log10(0) = -inf, drawn dark
            _, _, _, im = ax.specgram(e.audio, NFFT=nfft, Fs=rate, noverlap=nfft - hop,
                                      cmap="magma", scale="dB")
        ax.set_ylabel("frequency (Hz)")
        fig.colorbar(im, cax=cax, label="power (dB)")
        ax.set_title("spectrogram of the utterance", fontsize="small")
    else:
        feats = e.features if e.features.ndim == 2 else e.features[None]
        im = ax.imshow(feats.T, origin="lower", aspect="auto", cmap="viridis",
                       extent=(0, extent, 0, feats.shape[1]), interpolation="nearest")
        _dimension_ticks(ax, e.feature_names, feats.shape[1])
        fig.colorbar(im, cax=cax, label="normalised value")
        ax.set_title("input features (audio not on disk)", fontsize="small")
    ax.set_xlim(0, extent)


def _time_figure(plt: Any, e: Explanation, name: str, values: np.ndarray,
                 style: FigureStyle) -> Any:
    step, unit = time_axis(e)
    extent = _span(e.features.shape[0] if e.features.ndim == 2 else 1, step)
    fig = plt.figure(figsize=style.figsize((10, 6)), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 0.025], height_ratios=[1, 1.3])
    top = fig.add_subplot(grid[0, 0])
    bottom = fig.add_subplot(grid[1, 0], sharex=top)
    fig.add_subplot(grid[0, 1]).axis("off")  # keeps both panels' time axes aligned
    is_gca = "informativeness" in name
    _curves(top, values, extent, "iteration {}" if is_gca else "row {}")
    top.set_ylabel("informativeness r_n" if is_gca else "attention weight")
    top.tick_params(labelbottom=False)
    if values.ndim == 2 and values.shape[0] > 1:
        top.legend(loc="upper right", fontsize="x-small")
    _background(fig, bottom, fig.add_subplot(grid[1, 1]), e, extent)
    bottom.set_xlabel(unit)
    return fig


def _matrix_figure(plt: Any, e: Explanation, values: np.ndarray, style: FigureStyle) -> Any:
    step, unit = time_axis(e)
    extent = _span(e.features.shape[0], step)
    heads = values.shape[0]
    fig, axes = plt.subplots(1, heads, figsize=style.figsize((3.6 * heads + 0.8, 4)),
                             squeeze=False, layout="constrained")
    for h, ax in enumerate(axes[0]):
        # one colour scale over the heads, from the data (near-uniform weights would look
        # flat on a 0-based scale); brighter = more attention (RLC Fig. 5a)
        im = ax.imshow(values[h], origin="lower", cmap="magma", aspect="equal",
                       extent=(0, extent, 0, extent), vmin=float(values.min()),
                       vmax=float(values.max()))
        ax.set_title(f"head {h + 1}", fontsize="small")
        ax.set_xlabel(f"key {unit}")
        ax.set_ylabel(f"query {unit}" if h == 0 else "")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="attention weight")
    return fig


def _context_figure(plt: Any, e: Explanation, maps: dict[str, np.ndarray],
                    style: FigureStyle) -> Any:
    # the current utterance's audio says nothing of a previous turn's duration: seconds
    # only from the feature's own frame step
    step, unit = (e.frame_step, "time (s)") if e.frame_step else (None, "input frame")
    fig, axes = plt.subplots(len(maps), 1, figsize=style.figsize((8, 1.4 + 1.8 * len(maps))),
                             squeeze=False, layout="constrained")
    for ax, (name, weights) in zip(axes[:, 0], maps.items(), strict=True):
        turn = name[len(CONTEXT_PREFIX):]
        what = _TURN_TEXT.get(turn, turn)
        if name not in e.context:
            ax.text(0.5, 0.5, f"{what}: none (no earlier turn in the dialogue)", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
            continue
        other, frames = e.context[name]
        n = len(frames) if frames.ndim == 2 else 1
        weights = np.asarray(weights)[: max(n, 1)]  # padding of a batch of one: none left
        extent = _span(len(weights), step if len(weights) == n else None)
        width = extent / len(weights)
        ax.bar((np.arange(len(weights)) + 0.5) * width, weights, width=width * 0.9,
               color="tab:purple")
        ax.set_xlim(0, extent)
        ax.set_ylabel("weight")
        ax.set_title(f"{what}: {other}", fontsize="small")
        ax.grid(axis="y", alpha=0.3)
    axes[-1, 0].set_xlabel(f"{unit} in the previous turn")
    return fig


def figures(e: Explanation, style: FigureStyle | None = None) -> list[tuple[str, Any]]:
    """(name, matplotlib figure) of every map; ``context/*`` maps share ``"context"``."""
    style = style or FigureStyle()
    plt = pyplot()
    title = (f"{e.model}{'/' + e.variant if e.variant else ''} · {e.utt_id} · fold {e.fold} · "
             f"label {e.label}, predicted {e.pred}")
    out: list[tuple[str, Any]] = []
    context = {n: v for n, v in e.maps.items() if n.startswith(CONTEXT_PREFIX)}
    for name, values in e.maps.items():
        if name in context:
            continue
        out.append((name, _matrix_figure(plt, e, values, style) if values.ndim == 3
                    else _time_figure(plt, e, name, values, style)))
    if context:
        out.append(("context", _context_figure(plt, e, context, style)))
    for name, fig in out:
        fig.suptitle(f"{name}\n{title}", fontsize="small")
    return out


def draw(e: Explanation, out_dir: Path, *, style: FigureStyle | None = None) -> list[Path]:
    """One file per figure of :func:`figures` in ``out_dir``, as ``style.format`` (PNG by
    default); returns the files written."""
    style = style or FigureStyle()
    fmt = style.format or "png"
    written = []
    for name, fig in figures(e, style):
        path, _ = output_path(Path(out_dir) / f"{name.replace('/', '_')}.{fmt}", style)
        written.append(save(fig, path, fmt, style.dpi or 110))
    return written
