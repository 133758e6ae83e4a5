"""serbench's model conformance test, applied to this plugin's model."""

from serbench.testing.conformance import ModelConformance


class TestExampleMLP(ModelConformance):
    model_name = "example_mlp"  # looked up among the installed plugins
    hparams = {"hidden": 8, "dropout": 0.0}
    level = "functionals"
    feature_dim = 10
