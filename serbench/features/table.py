"""``FeatureTable``: one feature set for a set of utterances, indexed by ``utt_id``.

Storage is one float32 array of every utterance's rows stacked (memory-mapped from the
cache) plus ``offsets`` (N + 1,): utterance ``i`` owns rows ``offsets[i]:offsets[i+1]``.
Frame-level tables return (T, D) per utterance, functionals tables (D,).

A table may carry a per-utterance transform (normalisation): it is applied on access,
so normalising never copies the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

#: ``transform(utt_id, values) -> values``, applied when an utterance is read.
Transform = Callable[[str, np.ndarray], np.ndarray]


class FeatureTable:
    """Features of many utterances.

    Attributes:
        names: the D dimension names.
        level: ``"frames"`` or ``"functionals"``.
        dim: D.
    """

    def __init__(
        self,
        ids: Sequence[str],
        data: np.ndarray,
        offsets: np.ndarray,
        names: Sequence[str],
        level: str,
        info: Mapping[str, Any] | None = None,
        transform: Transform | None = None,
    ):
        if len(offsets) != len(ids) + 1:
            raise ValueError(f"offsets has {len(offsets)} entries for {len(ids)} ids (need N + 1)")
        if data.ndim != 2 or data.shape[1] != len(names):
            raise ValueError(f"data of shape {data.shape} does not match {len(names)} names")
        self._ids = list(ids)
        self._index = {u: i for i, u in enumerate(self._ids)}
        self.data = data
        offsets = np.asarray(offsets, dtype=np.int64)
        self._starts, self._ends = offsets[:-1], offsets[1:]
        self.names = list(names)
        self.level = level
        self._info = dict(info or {})
        self._transform = transform

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    def ids(self) -> list[str]:
        """Utterance ids in storage order."""
        return list(self._ids)

    def raw(self, utt_id: str) -> np.ndarray:
        """The stored (un-normalised) features of ``utt_id``: (T, D) or (D,)."""
        try:
            i = self._index[utt_id]
        except KeyError:
            excluded = self._info.get("excluded", {})
            why = f" (excluded at extraction: {excluded[utt_id]})" if utt_id in excluded else ""
            raise KeyError(f"utterance {utt_id!r} is not in this feature table{why}") from None
        rows = self.data[self._starts[i] : self._ends[i]]
        return rows[0] if self.level == "functionals" else rows

    def __getitem__(self, utt_id: str) -> np.ndarray:
        values = self.raw(utt_id)
        if self._transform is not None:
            return self._transform(utt_id, np.asarray(values, dtype=np.float32)).astype(np.float32)
        return values

    def __contains__(self, utt_id: object) -> bool:
        return utt_id in self._index

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def length(self, utt_id: str) -> int:
        """Number of frames of ``utt_id`` (1 for functionals), without reading them."""
        i = self._index[utt_id]
        return int(self._ends[i] - self._starts[i])

    def info(self) -> dict[str, Any]:
        """What the run record stores about these features (name, version, key, ...)."""
        out = dict(self._info)
        out.update(level=self.level, dim=self.dim, n_utterances=len(self))
        return out

    def with_transform(self, transform: Transform | None, **info: Any) -> FeatureTable:
        """The same stored data read through ``transform``; ``info`` is merged into info()."""
        merged = dict(self._info)
        merged.update(info)
        table = FeatureTable.__new__(FeatureTable)
        table.__dict__.update(self.__dict__)
        table._info = merged
        table._transform = transform
        return table

    def subset(self, ids: Sequence[str]) -> FeatureTable:
        """The table restricted to ``ids`` (in that order), sharing the stored array."""
        missing = [u for u in ids if u not in self._index]
        if missing:
            raise KeyError(f"{len(missing)} id(s) not in this feature table, e.g. {missing[:3]}")
        idx = np.array([self._index[u] for u in ids], dtype=np.int64)
        table = self.with_transform(self._transform)
        table._ids = list(ids)
        table._index = {u: i for i, u in enumerate(table._ids)}
        table._starts, table._ends = self._starts[idx], self._ends[idx]
        return table

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        names: Sequence[str],
        level: str,
        info: Mapping[str, Any] | None = None,
    ) -> FeatureTable:
        """An in-memory table from ``{utt_id: (T, D) or (D,)}`` (tests, small data)."""
        ids = list(arrays)
        blocks = [np.atleast_2d(np.asarray(arrays[u], dtype=np.float32)) for u in ids]
        lengths = [b.shape[0] for b in blocks]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        data = np.concatenate(blocks) if blocks else np.zeros((0, len(names)), np.float32)
        return cls(ids, data, offsets, names, level, info)
