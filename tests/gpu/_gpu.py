"""Shared by the GPU suite (tests/gpu/test_gpu_*.py) and its preparation scripts.

* :func:`require_cuda`: the one-line, module-level skip on a machine without CUDA.
* :func:`suite_cases`: the (model, variant) pairs the suite trains on CUDA, enumerated from
  the registry: every torch model's default variant plus each variant whose code path
  differs (:func:`code_path_variants`).
* :func:`suite_config`: the run configuration of a case (one epoch, one fold, synthetic).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: every case runs one epoch, on the first LOSO fold of the small synthetic corpus
CORPUS, LABEL_MAP, PROTOCOL, FOLD = "synthetic", "4class", "loso", "Ses01"
#: feature caches the GPU machine receives (docs/gpu.md: 64 MiB hold these three, polars
#: and the other wheels, not every paper's feature set)
CARRIED_FEATURES = ("lld17", "iaan45", "is10")
FALLBACK_FEATURES = {"frames": "lld17", "functionals": "is10"}


def require_cuda() -> None:
    """Skip the calling test module, with one line saying why, when torch sees no CUDA."""
    import pytest
    import torch

    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        pytest.skip(f"GPU suite: torch {torch.__version__} ({build}) sees no CUDA device; run "
                    "it on a GPU machine (tox -e gpu, or bash tests/gpu/device_run.sh)",
                    allow_module_level=True)


def _structural(value: Any) -> Any:
    """The part of a hyperparameter value that selects code: strings, booleans, None and
    the structure of containers; a number is a size or a rate (same code), except that a
    zero count switches a part off (``fc_layers: 0``: no front end)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return "<zero>" if value == 0 else "<number>"
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _structural(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("<seq>", len(value), tuple(_structural(v) for v in value))
    return repr(type(value))


def code_path_variants(spec: Any) -> list[str | None]:
    """The default variant and every variant that runs different code.

    Two variants share a code path when their hyperparameters differ only in numbers
    other than zero (AR-GRU's ``ar_gru_i`` .. ``ar_gru_v`` change AReLU's alpha and beta;
    the ``*_enterface`` variants of dense_lstm change sizes): the first one, in
    registration order after the default, represents them.
    """
    defaults = dict(spec.defaults)
    names: list[str | None] = [spec.default_variant]
    seen = set()

    def signature(variant: str | None) -> tuple[Any, ...]:
        hp = {**defaults, **(dict(spec.variants[variant]) if variant else {})}
        return tuple(sorted((k, _structural(v)) for k, v in hp.items()))

    seen.add(signature(spec.default_variant))
    for variant in spec.variants:
        sig = signature(variant)
        if sig not in seen:
            seen.add(sig)
            names.append(variant)
    return names


def suite_cases(registry: Any) -> list[tuple[str, str | None]]:
    """(model, variant) for every registered torch model, see :func:`code_path_variants`."""
    cases = []
    for name in registry.names("model"):
        spec = registry.model(name)
        if spec.framework != "torch":
            continue
        cases += [(name, variant) for variant in code_path_variants(spec)]
    return cases


def suite_config(model: str, variant: str | None, registry: Any, **extra: Any) -> Any:
    """The RunConfig of one suite case: one epoch on fold :data:`FOLD` of the synthetic
    corpus with the model's own features when they are among :data:`CARRIED_FEATURES`,
    else :data:`FALLBACK_FEATURES` of the same level (the suite checks code paths on
    CUDA, which a feature set does not change; the GPU machine holds only the carried
    caches); ``extra`` sets further fields (device, overrides, runs_dir, ...)."""
    from serbench.run.config import RunConfig
    from serbench.run.resolve import resolve_run

    base = dict(model=model, variant=variant, corpus=CORPUS, label_map=LABEL_MAP,
                protocol=PROTOCOL, max_epochs=1, folds=[FOLD], force=True)
    resolved = resolve_run(RunConfig(**base), registry)
    feature = resolved.feature_entry.spec
    if feature.name not in CARRIED_FEATURES:
        base["feature"] = FALLBACK_FEATURES[feature.level]
    return RunConfig(**base, **extra)
