"""``serbench export``: one fold's model as ONNX or TorchScript, with a sidecar JSON.

The exported graph is :class:`serbench.inference.wrapper.TensorModel` around the fold's
model: inputs ``x`` (float32, (batch, time, D) frames or (batch, D) functionals) and
``lengths`` (int64, (batch,); ones for functionals), output ``probabilities`` (float32,
(batch, C)); batch and time are dynamic axes. The sidecar ``<file>.json`` says what a
deployment must feed it: the feature (name, version, parameters, sample rate, dimension
names), the normalisation and its statistics, the class names and these conventions.

ONNX goes through torch's TorchScript-based exporter (``dynamo=False``): torch 2.13's
``torch.export`` path specialises recurrent models' batch axis (a batch of 1 then
fails in onnxruntime), while the TorchScript path exports ``nn.LSTM``/``nn.GRU`` as ONNX
recurrent ops with dynamic batch and time. TorchScript is ``torch.jit.trace``.

Both exporters trace one example, so a model whose computation depends on Python values
read from its input (e.g. ``int(lengths.max())``) would be baked into the graph. Every
export is therefore checked before it is kept: the exported model (onnxruntime, or the
loaded TorchScript module) is run on inputs of other batch sizes and lengths than the
traced example and must match the torch model within ``TOLERANCE``; otherwise nothing is
written and the error says by how much it differed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import ConfigError

FORMATS = ("onnx", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}
#: largest absolute difference in probabilities allowed between export and torch
TOLERANCE = 1e-4
#: (batch, time) of the check inputs; the traced example is the first
CHECK_SHAPES = ((2, 23), (1, 9), (5, 41), (3, 2))


@dataclass
class Exported:
    """What :func:`export_run` wrote: the model file, its sidecar and the check's result."""

    path: Path
    sidecar: Path
    fold: str
    max_abs_diff: float


def _inputs(level: str, dim: int, batch: int, time: int, seed: int) -> tuple[Any, Any]:
    """Random standard-normal inputs: (x, lengths), the first row at full length."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    if level != "frames":
        return torch.randn(batch, dim, generator=gen), torch.ones(batch, dtype=torch.long)
    lengths = torch.randint(1, time + 1, (batch,), generator=gen)
    lengths[0] = time
    x = torch.randn(batch, time, dim, generator=gen)
    x = x * (torch.arange(time).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1)
    return x, lengths


def runner(path: Path, fmt: str) -> Any:
    """``run(x: np.ndarray, lengths: np.ndarray) -> probabilities`` of an exported file."""
    if fmt == "onnx":
        try:
            import onnxruntime
        except ImportError:
            raise ConfigError("checking an ONNX export needs onnxruntime: "
                              "pip install 'serbench[export]'") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 4  # its errors are raised as exceptions; no stderr log
        session = onnxruntime.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])
        # the exporter drops an input the graph never reads (lengths of functionals)
        wanted = {i.name for i in session.get_inputs()}
        return lambda x, lengths: session.run(None, {k: v for k, v in (
            ("x", x), ("lengths", lengths)) if k in wanted})[0]
    import torch

    module = torch.jit.load(str(path), map_location="cpu")  # TorchScript: no pickle of code
    module.eval()

    def run(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(x), torch.from_numpy(lengths)).numpy()

    return run


def _write(wrapped: Any, example: tuple[Any, Any], path: Path, fmt: str) -> None:
    import warnings

    import torch

    with warnings.catch_warnings():  # the exporters' advice on tracing is what _check covers
        warnings.simplefilter("ignore")
        if fmt == "onnx":
            torch.onnx.export(
                wrapped, example, str(path), input_names=["x", "lengths"],
                output_names=["probabilities"], dynamo=False,
                dynamic_axes={"x": {0: "batch", 1: "time"} if example[0].dim() == 3
                              else {0: "batch"}, "lengths": {0: "batch"},
                              "probabilities": {0: "batch"}},
            )
        else:
            with torch.no_grad():
                traced = torch.jit.trace(wrapped, example, check_trace=False)
            traced.save(str(path))


def check_export(wrapped: Any, path: Path, fmt: str, level: str, dim: int) -> float:
    """Largest |probability difference| between the export and torch over
    :data:`CHECK_SHAPES` (other batch sizes and lengths than the traced example)."""
    import torch

    run = runner(path, fmt)
    worst = 0.0
    for seed, (batch, time) in enumerate(CHECK_SHAPES):
        x, lengths = _inputs(level, dim, batch, time, seed + 1)
        with torch.no_grad():
            ref = wrapped(x, lengths).numpy()
        got = run(x.numpy(), lengths.numpy())
        worst = max(worst, float(np.abs(ref - got).max()))
    return worst


def export_run(run: str | Path, *, fmt: str = "onnx", fold: str | None = None,
               out: Path | None = None, runs_dir: Path | None = None,
               registry: Any = None) -> Exported:
    """Export one fold's model of a finished run (see the module docstring).

    Args:
        run: a run id (or unique prefix), a run folder or its record.json.
        fmt: ``onnx`` or ``torchscript``.
        fold: the fold (default: the run's first fold; ``refit`` for ``refit/model.pt``).
        out: the file to write (default ``<run>/export/<fold><.onnx|.pt>``); the sidecar
            is the same path with ``.json`` appended.
        runs_dir: root of run folders (default ``SERBENCH_RUNS`` or ``./runs``).
        registry: the installed plugins (default: :func:`serbench.plugins.get_registry`).
    Raises:
        ConfigError: bad arguments, an unusable run, or an export that does not match
            torch within :data:`TOLERANCE` (nothing is kept then).
    """
    from serbench.inference.fold_models import build_model, check_usable, run_summary
    from serbench.inference.sidecar import sidecar_document
    from serbench.inference.wrapper import TensorModel
    from serbench.plugins import get_registry
    from serbench.run.folder import atomic_write_json, safe_name

    if fmt not in FORMATS:
        raise ConfigError(f"export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    registry = registry or get_registry()
    folder, config, record = run_summary(run, runs_dir)
    spec = check_usable(record, registry)
    if spec.level == "waveform":  # the checks and the sidecar describe frames or functionals
        raise ConfigError(f"{spec.name} reads audio (level 'waveform'); export supports frame "
                          "and functionals models only. Use `serbench predict` with this run.")
    names = [f["name"] for f in record["folds"]]
    fold = fold or names[0]
    if fold == "refit":
        weights = folder.root / "refit" / "model.pt"
    elif fold in names:
        weights = folder.checkpoint_path(fold)
    else:
        raise ConfigError(f"run {folder.run_id} has no fold {fold!r}; its folds are "
                          f"{', '.join(names)} (or 'refit' after serbench refit)")
    model = build_model(weights, spec, fold)
    level = model.meta["input_spec"]["level"]
    dim = int(model.meta["input_spec"]["feature_dim"])
    path = Path(out) if out else folder.root / "export" / f"{safe_name(fold)}{SUFFIX[fmt]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapped = TensorModel(model.net, level).eval()
    try:
        _write(wrapped, _inputs(level, dim, *CHECK_SHAPES[0], seed=0), path, fmt)
        diff = check_export(wrapped, path, fmt, level, dim)
        problem = (f"on inputs of other shapes than the traced example its output differs "
                   f"from torch by {diff:.2e} (> {TOLERANCE:g})")
    except Exception as exc:  # the exporter or runtime failing is a refusal, not a crash
        diff = float("nan")
        problem = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"
    if not diff <= TOLERANCE:
        path.unlink(missing_ok=True)
        raise ConfigError(
            f"model {spec.name!r} does not export to {fmt} faithfully ({problem}); nothing "
            "was written. Try the other --format (docs/inference.md lists what exports)."
        )
    sidecar = Path(f"{path}.json")
    doc = sidecar_document(folder, config, record, model, fmt, path, diff, registry)
    atomic_write_json(sidecar, json.loads(json.dumps(doc)))
    return Exported(path, sidecar, fold, diff)
