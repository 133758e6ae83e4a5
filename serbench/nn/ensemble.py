"""Independent members trained side by side: a deep ensemble in one module.

Deep ensembles (Lakshminarayanan et al., NeurIPS 2017) average the class probabilities
of K networks trained from different initialisations; on small corpora they lower the
variance that one network's initialisation and epoch choice leave in its score.
:class:`MemberEnsemble` holds the K networks in one module so that the trainer, the
checkpoint, ``predict`` and ``export`` handle it as one model:

- in training mode it returns (K, B, C) logits, one slice per member; the trainer's
  loss (:class:`serbench.training.trainer.MultiTaskLoss`) is the mean of the members'
  cross-entropies. Members share no parameter, so each member's gradient is its own
  loss's gradient divided by K, which Adam's step is invariant to;
- in eval mode it returns (B, C) ``log(mean_k softmax(logits_k))``, so the softmax of its
  output is the members' mean probability and its arg-max the ensemble's prediction.

Epoch selection and early stopping then judge the ensemble, not a member.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from serbench.data.batch import Batch


class MemberEnsemble(nn.Module):
    """K networks with the same interface (``forward(batch) -> (B, C) logits``).

    Args:
        members: the K >= 2 networks, each initialised on its own (build them one after
            another from the seeded generator: each draws different weights).
    """

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
        self.members = nn.ModuleList(members)

    def forward(self, batch: Batch) -> torch.Tensor:
        """(K, B, C) member logits in training mode; (B, C) log mean probability in eval."""
        logits = torch.stack([member(batch) for member in self.members])
        if self.training:
            return logits
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))
