"""Utterances of one split as a torch Dataset, and their collation into a :class:`Batch`.

Features are read from a feature table (``serbench.features`` ``FeatureTable``: anything
with ``table[utt_id] -> np.ndarray`` of shape (T, D) for frames or (D,) for
functionals). Targets are integer class indices per task, ``-100`` where unknown.
Level ``waveform`` reads (N, 1) frames (:mod:`serbench.features.waveform`) and collates
them into ``Batch.x`` (B, N).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from serbench.data.batch import Batch
from serbench.data.buckets import make_batches
from serbench.data.context import ContextRef
from serbench.errors import ConfigError
from serbench.nn.masking import lengths_to_mask

IGNORE_INDEX = -100
#: levels whose items are sequences (T, D), padded along T
_SEQUENCES = ("frames", "waveform")


class FeatureLookup(Protocol):
    """What the dataset needs of a feature table."""

    level: str

    def __getitem__(self, utt_id: str) -> np.ndarray: ...

    def __contains__(self, utt_id: object) -> bool: ...


def _as_frames(array: np.ndarray, level: str, utt_id: str) -> np.ndarray:
    a = np.asarray(array, dtype=np.float32)
    want = 2 if level in _SEQUENCES else 1
    if a.ndim != want:
        raise ConfigError(
            f"features of {utt_id!r} have shape {a.shape}; level {level!r} needs "
            f"{'(T, D)' if want == 2 else '(D,)'}"
        )
    if level in _SEQUENCES and a.shape[0] == 0:
        raise ConfigError(f"features of {utt_id!r} have no frames; check its audio segment")
    return a


class UtteranceDataset(torch.utils.data.Dataset):
    """The utterances of one split (train, valid or test) of a fold.

    Args:
        utt_ids: the utterances, in a fixed order (row ``i`` is ``utt_ids[i]``).
        features: feature table; frames (T, D) or functionals (D,).
        level: ``"frames"``, ``"functionals"`` or ``"waveform"`` (items (N, 1)).
        targets: task -> (N,) class indices (``-100`` = unknown); ``"emotion"`` always.
        context: utt_id -> :class:`ContextRef` when the model reads dialogue context.
        tokens: utt_id -> token ids when the model reads transcripts.
    """

    def __init__(
        self,
        utt_ids: Sequence[str],
        features: FeatureLookup,
        level: str,
        targets: Mapping[str, np.ndarray],
        *,
        context: Mapping[str, ContextRef] | None = None,
        tokens: Mapping[str, Sequence[int]] | None = None,
    ):
        self.utt_ids = list(utt_ids)
        self.features = features
        self.level = level
        self.targets = {k: np.asarray(v, dtype=np.int64) for k, v in targets.items()}
        for task, values in self.targets.items():
            if len(values) != len(self.utt_ids):
                raise ValueError(f"task {task!r}: {len(values)} targets for {len(self)} utterances")
        self.context = context
        self.tokens = tokens
        missing = [u for u in self.utt_ids if u not in features]
        if missing:
            raise ConfigError(
                f"{len(missing)} utterance(s) have no features, e.g. {missing[:3]}; "
                "extract features for the whole manifest before training"
            )
        # FeatureTable.length reads no data; plain mappings are measured.
        length = getattr(features, "length", None)
        self._lengths = [
            (int(length(u)) if length else int(np.shape(features[u])[0]))
            if level in _SEQUENCES
            else 1
            for u in self.utt_ids
        ]

    def __len__(self) -> int:
        return len(self.utt_ids)

    def lengths(self) -> list[int]:
        """Frames per utterance (1 for functionals), in row order."""
        return list(self._lengths)

    def _context_features(self, utt_id: str | None) -> np.ndarray | None:
        # A context turn without features (e.g. outside the extracted manifest) is absent.
        if utt_id is None or utt_id not in self.features:
            return None
        return _as_frames(self.features[utt_id], self.level, utt_id)

    def __getitem__(self, i: int) -> dict[str, Any]:
        utt = self.utt_ids[i]
        item: dict[str, Any] = {
            "utt_id": utt,
            "x": _as_frames(self.features[utt], self.level, utt),
            "targets": {task: int(v[i]) for task, v in self.targets.items()},
        }
        if self.context is not None:
            ref = self.context[utt]
            item["prev_self"] = self._context_features(ref.prev_self)
            item["prev_other"] = self._context_features(ref.prev_other)
        if self.tokens is not None:
            item["tokens"] = list(self.tokens[utt])
        return item

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        bucket: bool = True,
        seed: int = 0,
        epoch: int = 0,
    ) -> Iterator[Batch]:
        """Collated batches of this split (see :func:`serbench.data.buckets.make_batches`)."""
        for rows in self.batch_indices(
            batch_size, shuffle=shuffle, bucket=bucket, seed=seed, epoch=epoch
        ):
            yield collate([self[i] for i in rows], self.level)

    def batch_indices(
        self, batch_size: int, *, shuffle: bool, bucket: bool, seed: int, epoch: int
    ) -> list[list[int]]:
        """The row indices of each batch, as :meth:`batches` uses them."""
        return make_batches(
            self._lengths, batch_size, shuffle=shuffle, bucket=bucket, seed=seed, epoch=epoch
        )


def _pad(arrays: Sequence[np.ndarray], level: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack frames (T_i, D) into (B, T, D) zero-padded, or functionals (D,) into (B, D)."""
    if level not in _SEQUENCES:
        x = torch.from_numpy(np.stack(arrays))
        return x, torch.ones(len(arrays), dtype=torch.long)
    lengths = torch.tensor([a.shape[0] for a in arrays], dtype=torch.long)
    x = torch.zeros(len(arrays), int(lengths.max()), arrays[0].shape[1], dtype=torch.float32)
    view = x.numpy()  # shares x's memory; NumPy copies read-only (memory-mapped) frames
    for b, a in enumerate(arrays):  # without torch's "array is not writable" warning
        view[b, : a.shape[0]] = a
    return x, lengths


def _mask(lengths: torch.Tensor, x: torch.Tensor, level: str) -> torch.Tensor:
    if level not in _SEQUENCES:
        return torch.ones(x.shape[0], 1, dtype=torch.bool)
    return lengths_to_mask(lengths, x.shape[1])


def collate(items: Sequence[Mapping[str, Any]], level: str) -> Batch:
    """Pad items of :class:`UtteranceDataset` into one :class:`Batch`.

    Context turns (``prev_self``/``prev_other``) that are absent become one zero frame
    (zero vector for functionals) with ``<name>_present=False``. Token sequences are
    padded with 0; ``token_lengths`` may be 0 for an empty transcript. Level
    ``waveform`` pads (N_i, 1) items into ``x`` (B, N).
    """
    if not items:
        raise ValueError("cannot collate an empty batch")
    x, lengths = _pad([it["x"] for it in items], level)
    if level == "waveform":
        if x.shape[-1] != 1:
            raise ConfigError(f"waveform items must be (N, 1) samples, got D={x.shape[-1]}; "
                              "use --feature waveform")
        x = x[..., 0]
    batch = Batch(
        x=x,
        lengths=lengths,
        mask=_mask(lengths, x, level),
        targets={
            task: torch.tensor([it["targets"][task] for it in items], dtype=torch.long)
            for task in items[0]["targets"]
        },
        utt_ids=[it["utt_id"] for it in items],
    )
    dim = items[0]["x"].shape[-1]
    empty = np.zeros((1, dim) if level in _SEQUENCES else (dim,), dtype=np.float32)
    for name in ("prev_self", "prev_other"):
        if name not in items[0]:
            continue
        present = [it[name] is not None for it in items]
        cx, clen = _pad([it[name] if it[name] is not None else empty for it in items], level)
        batch.extras[f"{name}_x"] = cx
        batch.extras[f"{name}_lengths"] = clen
        batch.extras[f"{name}_present"] = torch.tensor(present, dtype=torch.bool)
    if "tokens" in items[0]:
        seqs = [it["tokens"] for it in items]
        longest = max(1, max(len(s) for s in seqs))
        tokens = torch.zeros(len(seqs), longest, dtype=torch.long)
        for b, s in enumerate(seqs):
            tokens[b, : len(s)] = torch.tensor(s, dtype=torch.long)
        batch.extras["tokens"] = tokens
        batch.extras["token_lengths"] = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    return batch
