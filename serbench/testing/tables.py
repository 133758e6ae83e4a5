"""Feature tables for tests: no audio, no extraction, no cache.

:func:`synthetic_frames` makes a learnable toy problem as an in-memory
:class:`serbench.features.table.FeatureTable`: each class shifts the mean of its frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from serbench.features.table import FeatureTable


def synthetic_frames(
    utt_ids: Iterable[str],
    labels: Sequence[int],
    *,
    dim: int = 4,
    min_len: int = 3,
    max_len: int = 12,
    separation: float = 1.5,
    seed: int = 0,
    level: str = "frames",
) -> FeatureTable:
    """Gaussian frames (T, dim) whose mean is ``separation`` higher in dimension
    ``label % dim``; lengths uniform in ``[min_len, max_len]``.

    ``level="functionals"`` gives one (dim,) vector per utterance instead.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for utt, label in zip(utt_ids, labels, strict=True):
        centre = np.zeros(dim, np.float32)
        centre[label % dim] = separation
        if level == "frames":
            t = int(rng.integers(min_len, max_len + 1))
            arrays[utt] = centre + rng.normal(size=(t, dim)).astype(np.float32)
        else:
            arrays[utt] = centre + rng.normal(size=dim).astype(np.float32)
    names = [f"f{i}" for i in range(dim)]
    return FeatureTable.from_arrays(arrays, names, level, info={"name": "synthetic_frames"})
