"""serbench's built-in models, registered through the `serbench` entry-point group.

Registration names builders lazily, so listing models imports neither torch nor
scikit-learn.
"""

from serbench import hookimpl
from serbench.components import ModelSpec
from serbench.hyperparameters import Param

MIRSAMADI_2017 = (
    "S. Mirsamadi, E. Barsoum, C. Zhang. Automatic speech emotion recognition using "
    "recurrent neural networks with local attention. ICASSP 2017, pp. 2227-2231. "
    "doi:10.1109/ICASSP.2017.7952552"
)

SVM = ModelSpec(
    name="svm",
    version=1,
    description="RBF support-vector machine on standardised functionals (classic SER baseline).",
    builder="serbench.models.svm:build",
    framework="sklearn",
    level="functionals",
    default_feature="egemaps",
    # fit_on_valid: nothing is selected on the validation split, so it joins training
    # (see serbench.training.sklearn_runner); false keeps it out, for score fusion.
    defaults={"C": 1.0, "kernel": "rbf", "gamma": "scale", "fit_on_valid": True},
    search_space="serbench.models.svm:search_space",
    # scikit-learn's SVC values, which the defaults and the space cannot show
    hyperparameters={
        "kernel": Param(types=("str",), choices=("linear", "poly", "rbf", "sigmoid")),
        "gamma": Param(types=("float", "str"), low=0.0, low_open=True,
                       choices=("scale", "auto")),
    },
    # Per-speaker z-normalisation, as the nEMO SVM anchor uses.
    preferred={"feature": "egemaps", "normalisation": "speaker"},
)

BILSTM_ATT = ModelSpec(
    name="bilstm_att",
    # v2: reads eGeMAPS functionals of 1 s windows every 0.25 s (egemapsv02_windows)
    # instead of 10 ms emobase LLDs: validation UA 50.4 -> 59.0% on nEMO (round 5 of
    # docs/training.md); v1: emobase_lld. The network and its training are unchanged.
    version=2,
    description="BiLSTM over frames with local attention pooling (Mirsamadi et al. 2017).",
    citation=MIRSAMADI_2017,
    builder="serbench.models.bilstm_att:build",
    framework="torch",
    level="frames",
    default_feature="egemapsv02_windows",
    defaults={
        "hidden": 128,
        "layers": 1,
        "dropout": 0.3,
        "fc_layers": 0,
        "lr": 1e-3,
        "batch_size": 32,
        "max_epochs": 30,
        "patience": 5,
        "grad_clip": 5.0,
    },
    variants={"frontend": {"fc_layers": 2}},
    search_space="serbench.models.bilstm_att:search_space",
    # attentive statistics pooling (serbench's extension, off = the paper)
    hyperparameters={"statistics": Param(types=("bool",))},
    preferred={"feature": "egemapsv02_windows", "normalisation": "speaker"},
)


MLP = ModelSpec(
    name="mlp",
    # v2: epochs chosen over all development speakers (inner_folds=5), dropout 0.5
    # (round 4 of docs/training.md); v1: one validation speaker, dropout 0.3
    version=2,
    description="Feed-forward network on utterance functionals (the usual neural baseline).",
    builder="serbench.models.mlp:build",
    framework="torch",
    level="functionals",
    default_feature="egemaps",
    # serbench's recipe for small corpora, chosen on validation UA (docs/training.md)
    defaults={
        "hidden": "256,128",
        "dropout": 0.5,
        "input_dropout": 0.0,
        "lr": 1e-3,
        "batch_size": 32,
        "max_epochs": 200,
        "patience": 30,
        "grad_clip": 5.0,
        "feature_noise": 0.1,
        "select_window": 5,
        "refit": True,
        "inner_folds": 5,
    },
    search_space="serbench.models.mlp:search_space",
    hyperparameters={"hidden": Param(types=("list",), item="int", low=1),
                     # K > 1: a deep ensemble of K MLPs (serbench.nn.ensemble)
                     "members": Param(types=("int",), low=1)},
    preferred={"feature": "egemaps", "normalisation": "speaker"},
)


@hookimpl
def register_models(register):
    """Register the built-in models (see serbench.hookspecs.register_models)."""
    register(SVM)
    register(BILSTM_ATT)
    register(MLP)
