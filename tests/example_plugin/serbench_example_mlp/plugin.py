"""Registration: cheap, and imports no torch (the builder is named lazily)."""

from serbench import hookimpl
from serbench.components import ModelSpec


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="example_mlp",
            version=1,
            description="Two-layer perceptron on utterance functionals (plugin guide example).",
            builder="serbench_example_mlp.model:build",
            framework="torch",
            level="functionals",
            default_feature="egemaps",
            defaults={"hidden": 32, "dropout": 0.2, "lr": 1e-3, "batch_size": 16,
                      "max_epochs": 20, "patience": 5},
            variants={"wide": {"hidden": 128}},
            search_space="serbench_example_mlp.model:search_space",
        )
    )
