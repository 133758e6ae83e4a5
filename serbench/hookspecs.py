"""The plugin contract: five hooks, one per kind of component.

A plugin is any module (or object) with functions named like these hooks and decorated
with :data:`hookimpl`, exposed through the ``serbench`` entry-point group::

    # pyproject.toml of a third-party distribution
    [project.entry-points.serbench]
    my_model = "serbench_my_model.plugin"

    # serbench_my_model/plugin.py
    from serbench import hookimpl
    from serbench.components import ModelSpec

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="my_model", version=1, description="...",
                           builder="serbench_my_model.model:build"))

Each hook receives a ``register`` callback and calls it once per component. Registration
must be cheap and must not import torch: name code lazily as ``"package.module:attr"``.
Two plugins registering the same name in one kind is an error naming both distributions.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from serbench.components import CorpusSpec, FeatureSpec, MetricSpec, ModelSpec, ProtocolSpec

PROJECT_NAME = "serbench"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_corpora(register: Callable[[CorpusSpec], None]) -> None:
    """Register corpora: call ``register(CorpusSpec(...))`` once per corpus.

    A corpus turns a release on disk (or generated data) into a manifest: one row per
    utterance with ``utt_id``, ``path``, ``speaker``, ``label`` and optional columns
    (see ``serbench.manifest``), its label maps and its default protocol.
    """


@hookspec
def register_protocols(register: Callable[[ProtocolSpec], None]) -> None:
    """Register evaluation protocols: call ``register(ProtocolSpec(...))`` once each.

    A protocol deterministically splits a manifest into folds of pairwise-disjoint
    train/validation/test utterance ids, speaker-independent unless it says otherwise.
    """


@hookspec
def register_features(register: Callable[[FeatureSpec], None]) -> None:
    """Register feature sets: call ``register(FeatureSpec(...))`` once each.

    A feature set maps one utterance's audio to frames (T x D), a functionals vector
    (D) or token ids, with names for its dimensions. serbench caches the output keyed
    by corpus fingerprint, feature name, feature version and parameters.
    """


@hookspec
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register models: call ``register(ModelSpec(...))`` once per architecture.

    A model names a builder ``(InputSpec, hyperparameters) -> torch.nn.Module`` (or a
    scikit-learn estimator), its paper defaults, named variants and a declarative
    Optuna search space.
    """


@hookspec
def register_metrics(register: Callable[[MetricSpec], None]) -> None:
    """Register metrics: call ``register(MetricSpec(...))`` once each.

    A metric is a function of true and predicted class indices (and optionally scores)
    that says whether higher is better.
    """


#: Hook name -> component kind it registers.
HOOK_KINDS: dict[str, str] = {
    "register_corpora": "corpus",
    "register_protocols": "protocol",
    "register_features": "feature",
    "register_models": "model",
    "register_metrics": "metric",
}
