"""Long recordings in overlapping windows, stitched back into one frame sequence.

Self-attention costs grow with the square of the length and Whisper's encoder reads at
most 30 s, so a recording is cut into windows of ``window`` samples overlapping by
``overlap`` samples. Every window starts on a multiple of the model's frame hop ``hop``
(320 samples = 20 ms at 16 kHz for all supported models), so local frame ``t`` of a window
starting at sample ``s`` is global frame ``s / hop + t``. Where two windows overlap, each
keeps the frames nearer its own centre: the cut lies at the middle of the shared frames,
away from both windows' edges. The last window is moved back to end at the signal's end
(so it is never a short scrap) and may overlap its predecessor by more than ``overlap``.

For a model whose frames see only a local context (the convolutional front end; frames
further than ``overlap / 2`` from a window edge) the stitched frames equal the unchunked
ones; transformer layers see their window only, as in every chunked SSL pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def plan_windows(n_samples: int, window: int, overlap: int, hop: int) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` sample ranges covering ``[0, n_samples)``.

    Args:
        n_samples: N, the signal's length.
        window: samples per window (a multiple of ``hop``).
        overlap: samples shared by consecutive windows (a multiple of ``hop``), with
            ``0 <= 2 * overlap < window``.
        hop: the model's frame hop in samples.
    Returns:
        one window ``(0, N)`` when N <= window; otherwise windows starting on multiples of
        ``hop``, each ``window`` long except the last, which ends at N and is between
        ``window`` and ``window + hop - 1`` long.
    """
    if window % hop or overlap % hop or not 0 <= 2 * overlap < window:
        raise ValueError(f"window {window} and overlap {overlap} must be multiples of the hop "
                         f"{hop} with 0 <= 2 * overlap < window")
    if n_samples <= window:
        return [(0, n_samples)]
    step = window - overlap
    starts = [0]
    while starts[-1] + window < n_samples:
        starts.append(starts[-1] + step)
    # the last window ends at N and is at least `window` long (never a short scrap)
    starts[-1] = min(starts[-1], (n_samples - window) // hop * hop)
    if len(starts) > 1 and starts[-1] <= starts[-2]:
        starts.pop(-2)
    return [(s, min(s + window, n_samples)) for s in starts[:-1]] + [(starts[-1], n_samples)]


def stitch(starts: Sequence[int], frames: Sequence[np.ndarray], hop: int) -> np.ndarray:
    """Join the windows' frame sequences into one.

    Args:
        starts: each window's first sample (multiples of ``hop``), increasing.
        frames: each window's frames, (T_k, ...) with the same trailing shape.
        hop: the model's frame hop in samples.
    Returns:
        (T, ...) with T = ``starts[-1] / hop + T_last``: window k supplies global frames
        from the middle of its overlap with window k - 1 to the middle of its overlap with
        window k + 1.
    """
    if len(starts) != len(frames) or not frames:
        raise ValueError(f"{len(starts)} window starts for {len(frames)} frame arrays")
    offsets = [s // hop for s in starts]
    ends = [o + len(f) for o, f in zip(offsets, frames, strict=True)]
    if any(ends[k] <= offsets[k + 1] for k in range(len(frames) - 1)):
        raise ValueError(f"windows starting at {list(starts)} share no frame: give them more "
                         "overlap than the model's receptive field")
    cuts = [0] + [(offsets[k + 1] + ends[k]) // 2 for k in range(len(frames) - 1)] + [ends[-1]]
    parts = [frames[k][cuts[k] - offsets[k] : cuts[k + 1] - offsets[k]] for k in range(len(frames))]
    return np.concatenate(parts, axis=0)
