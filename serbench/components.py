"""What a plugin registers: one frozen spec per component.

Every spec carries the identity fields of DESIGN.md (``name``, integer ``version``,
one-line ``description``, ``citation`` where it comes from a paper). Code is referenced
lazily as ``"package.module:attribute"`` strings so that listing plugins never imports
torch; :func:`serbench.lazy.resolve` turns a reference into the object.

A ``version`` must be bumped whenever the component's output would change a score: it
is part of every cache key and run record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]*$")

#: A lazily imported callable: ``"package.module:attribute"`` or the object itself.
LazyRef = str | Callable[..., Any]

FeatureLevel = Literal["frames", "functionals", "tokens", "waveform"]
ComponentKind = Literal["corpus", "protocol", "feature", "model", "metric"]


@dataclass(frozen=True, kw_only=True)
class Component:
    """Identity shared by every registered component."""

    name: str
    version: int
    description: str
    citation: str | None = None

    kind: str = field(default="component", init=False, repr=False)

    def validate(self) -> list[str]:
        """Return human-readable problems with this component's metadata (empty if valid)."""
        problems = []
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            problems.append(
                f"name {self.name!r} must be lower-case letters, digits, '_' or '-', "
                "starting with a letter"
            )
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            problems.append(f"version {self.version!r} must be an integer >= 1")
        if not isinstance(self.description, str) or not self.description.strip():
            problems.append("description must be a non-empty one-line string")
        elif "\n" in self.description.strip():
            problems.append("description must be one line")
        if self.citation is not None and not str(self.citation).strip():
            problems.append("citation, when given, must be non-empty")
        return problems


@dataclass(frozen=True)
class LabelMap:
    """How a corpus's raw labels become the classes of an experiment.

    ``mapping`` sends a raw label to a class name; raw labels absent from it are dropped.
    ``classes`` fixes the class order (and so the confusion-matrix order).
    ``where`` optionally keeps only rows whose column values are in the given lists,
    e.g. ``{"dialog_kind": ["improvised"]}``.
    """

    name: str
    mapping: Mapping[str, str]
    classes: tuple[str, ...]
    description: str = ""
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CorpusSpec(Component):
    """A corpus plugin.

    ``loader`` resolves to ``load(data: pathlib.Path | None, options: Mapping[str, str])
    -> serbench.corpora.base.Corpus``; ``data`` is the user's ``--data`` (or ``None``:
    the loader then looks in ``SERBENCH_DATA/<name>``). ``obtain`` says where to get the
    data and is printed when it is missing.
    """

    loader: LazyRef
    label_maps: tuple[str, ...]
    default_label_map: str
    default_protocol: str
    obtain: str = ""
    licence: str = ""
    kind: str = field(default="corpus", init=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class ProtocolSpec(Component):
    """A protocol plugin.

    ``split`` resolves to ``split(manifest: polars.DataFrame, *, seed: int,
    options: Mapping[str, Any]) -> list[serbench.protocols.base.Fold]``. Pure and
    deterministic. ``speaker_independent`` is False only for protocols that knowingly
    let speakers appear in both training and test (e.g. an utterance-level holdout).
    """

    split: LazyRef
    speaker_independent: bool = True
    kind: str = field(default="protocol", init=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class FeatureSpec(Component):
    """A feature plugin.

    ``extractor`` resolves to ``build(params: Mapping[str, Any]) ->
    serbench.features.base.FeatureExtractor``. ``level`` is ``frames`` (T x D per
    utterance), ``functionals`` (D per utterance), ``tokens`` (token ids) or ``waveform``
    (the resampled signal, stored as frames (N, 1); see serbench.features.waveform).
    ``sample_rate`` is the rate the audio is resampled to before extraction.
    ``default_params`` are the parameters and their defaults (part of the cache key);
    ``optional_params`` names the parameters the extractor also reads but that are absent
    by default. ``--feature-param`` accepts these names and ``trim_silence`` only.
    """

    extractor: LazyRef
    level: FeatureLevel
    sample_rate: int = 16000
    default_params: Mapping[str, Any] = field(default_factory=dict)
    optional_params: tuple[str, ...] = ()
    kind: str = field(default="feature", init=False, repr=False)


@dataclass(frozen=True)
class PaperResult:
    """One row of a paper's results table, for ``serbench reproduce``.

    ``variant`` names a variant of the model, a registered model, or ``"A+B"`` (the score
    fusion of two such rows). ``note`` is shown in the row: why a system is not run (e.g.
    ``"not implemented: ..."``) or how serbench built it. ``corpus_public`` is False for a
    paper corpus nobody outside its owners can obtain (shown as "corpus not public").
    """

    variant: str
    corpus: str
    metrics: Mapping[str, float]
    label: str = ""
    note: str = ""
    corpus_public: bool = True


@dataclass(frozen=True, kw_only=True)
class ModelSpec(Component):
    """A model plugin.

    ``builder`` resolves to ``build(spec: serbench.data.batch.InputSpec,
    hparams: Mapping[str, Any]) -> torch.nn.Module`` (``framework="torch"``) or a
    scikit-learn estimator (``framework="sklearn"``).

    ``defaults`` are the paper's hyperparameters (architecture and training keys alike;
    training keys are those of :class:`serbench.training.config.TrainingConfig`).
    ``variants`` maps a variant name to overrides of ``defaults`` (ablations, table rows).
    ``search_space`` resolves to a callable returning ``{name: optuna distribution}``.
    ``grids`` are named grids ``{grid: {param: [values]}}`` for Optuna's GridSampler.
    ``inputs`` are the streams the model reads besides its primary features:
    ``"context"`` (previous turns of the dialogue) and/or ``"tokens"`` (transcripts).
    ``tasks`` maps auxiliary task names (``speaker``, ``gender``) to loss weights; the
    emotion task is always present with weight ``task_weights['emotion']`` (default 1).
    ``preferred`` gives the paper protocol: feature, corpus label map, protocol, etc.
    ``level`` is the input the model reads: ``frames``, ``functionals`` or ``waveform``
    (padded audio (B, N) at the rate of its ``sample_rate`` hyperparameter, default 16000;
    torch models only).
    ``hyperparameters`` maps a name to a :class:`serbench.hyperparameters.Param` for what
    cannot be derived from the defaults and the search space (closed string choices, an
    upper bound); every other name's type and range are derived there.
    """

    builder: LazyRef
    framework: Literal["torch", "sklearn"] = "torch"
    level: FeatureLevel = "frames"
    default_feature: str = "egemaps"
    defaults: Mapping[str, Any] = field(default_factory=dict)
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_variant: str | None = None
    search_space: LazyRef | None = None
    grids: Mapping[str, Mapping[str, tuple[Any, ...]]] = field(default_factory=dict)
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    task_weights: Mapping[str, float] = field(default_factory=lambda: {"emotion": 1.0})
    preferred: Mapping[str, Any] = field(default_factory=dict)
    paper_results: tuple[PaperResult, ...] = ()
    kind: str = field(default="model", init=False, repr=False)

    def validate(self) -> list[str]:
        problems = super().validate()
        if self.default_variant is not None and self.default_variant not in self.variants:
            problems.append(f"default_variant {self.default_variant!r} is not in variants")
        for variant in self.variants:
            if not NAME_PATTERN.match(variant):
                problems.append(f"variant name {variant!r} is not a valid name")
        unknown_inputs = set(self.inputs) - {"context", "tokens"}
        if unknown_inputs:
            problems.append(f"unknown inputs {sorted(unknown_inputs)}; known: context, tokens")
        if self.level == "waveform" and self.framework != "torch":
            problems.append("level 'waveform' needs framework 'torch' (batches of padded audio)")
        from serbench.hyperparameters import Param

        problems += [f"hyperparameters[{name!r}] is {type(rule).__name__}, not a "
                     "serbench.hyperparameters.Param"
                     for name, rule in self.hyperparameters.items()
                     if not isinstance(rule, Param)]
        return problems


@dataclass(frozen=True, kw_only=True)
class MetricSpec(Component):
    """A metric plugin.

    ``fn`` resolves to ``fn(y_true: np.ndarray, y_pred: np.ndarray, *, classes:
    Sequence[str], scores: np.ndarray | None = None)`` returning a float
    (``shape="scalar"``), a ``{class: float}`` dict (``"per_class"``) or a nested list
    (``"matrix"``). Labels are integer class indices into ``classes``.
    """

    fn: LazyRef
    higher_is_better: bool = True
    shape: Literal["scalar", "per_class", "matrix"] = "scalar"
    kind: str = field(default="metric", init=False, repr=False)


SPEC_TYPES: dict[str, type[Component]] = {
    "corpus": CorpusSpec,
    "protocol": ProtocolSpec,
    "feature": FeatureSpec,
    "model": ModelSpec,
    "metric": MetricSpec,
}
