"""Seeds that make a CPU run repeat exactly (and a CUDA run as far as CUDA allows)."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int, *, deterministic: bool = True) -> dict[str, Any]:
    """Seed Python's ``random``, NumPy and torch (CPU and every CUDA device).

    With ``deterministic``, torch is asked for deterministic algorithms. ``warn_only``
    keeps ops that have no deterministic implementation usable (they warn instead of
    failing); cuDNN autotuning is switched off and cuBLAS gets the fixed workspace it
    needs for reproducible matmuls. On a CPU this makes a run repeat bit for bit.

    Returns:
        What was set, for the run record's ``training`` section.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        # Must be set before cuBLAS initialises; harmless on CPU.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return {"seed": seed, "deterministic": deterministic}
