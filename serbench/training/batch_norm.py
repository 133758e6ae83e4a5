"""Batch-norm statistics recomputed with dropout off (``--set bn_recalibration=true``).

A layer order conv -> batch norm -> ReLU -> dropout -> conv -> batch norm ... (the RLC and
DRN authors' front end, :mod:`serbench.nn.resconv`) teaches each batch norm its running
mean and variance on inputs that passed through dropout, then applies them at test time
to inputs that did not. Dropout's rescaling keeps the mean but not the variance, so every
layer in eval mode divides by too large a variance and the input-dependent part of the
output shrinks layer after layer (the "variance shift" of Li et al., CVPR 2019,
"Understanding the disharmony between dropout and batch normalization"); for DRN's
11-layer plain CNN at dropout 0.5 the eval-mode output hardly depends on the utterance
(docs/training.md). Their remedy, used here: after training (and before each validation),
recompute every batch norm's statistics on the training data with dropout off, as the
exact average over the batches (``momentum=None``), the rest of the model in eval mode.
Training itself is unchanged (it normalises with batch statistics, not running ones).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

#: every batch-norm flavour, serbench.nn.resconv.MaskedBatchNorm1d included (a subclass)
_BATCH_NORM = nn.modules.batchnorm._BatchNorm


def batch_norms(model: nn.Module) -> list[nn.Module]:
    """The model's batch-norm layers that keep running statistics."""
    return [m for m in model.modules() if isinstance(m, _BATCH_NORM) and m.track_running_stats]


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, batches: Iterable[object]) -> int:
    """Replace every batch norm's running statistics by their average over ``batches``.

    Args:
        model: ``model(batch)`` is its forward pass.
        batches: what ``model`` takes (training batches, not augmented).

    Returns: the number of batches seen (0 and nothing changed where there is no batch
    norm). Train/eval modes and momenta are restored afterwards.
    """
    norms = batch_norms(model)
    if not norms:
        return 0
    was_training = {m: m.training for m in model.modules()}
    momenta = [m.momentum for m in norms]
    model.eval()  # dropout (and everything else) as at test time ...
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches
        norm.train()  # ... except batch norm, which gathers its statistics
    seen = 0
    try:
        for batch in batches:
            model(batch)
            seen += 1
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
        for module, mode in was_training.items():
            module.training = mode
    return seen
