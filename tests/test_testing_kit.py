"""The testing kit: fixtures of the pytest plugin, and a conformance test that can fail."""

import polars as pl
import pytest
import torch

from serbench import hookimpl
from serbench.components import ModelSpec
from serbench.nn.masking import masked_mean
from serbench.plugins import Registry
from serbench.testing.conformance import ModelConformance
from serbench.testing.dummy import DummyModel


class _OnePlugin:
    @staticmethod
    @hookimpl
    def register_models(register):
        register(ModelSpec(name="only_me", version=1, description="x", builder="a.b:c"))


def test_plugin_manager_factory_holds_only_the_given_plugins(plugin_manager_factory):
    registry = Registry(plugin_manager_factory(("one", _OnePlugin())))
    assert registry.names("model") == ["only_me"]
    assert registry.plugin_names == ["one"]
    assert "bilstm_att" in Registry(plugin_manager_factory(load_entry_points=True)).names("model")


def test_dummy_model_spec_is_valid_and_builds(dummy_model_spec):
    assert dummy_model_spec.validate() == []
    assert dummy_model_spec.name == "dummy"


def test_tiny_corpus_writes_a_manifest(tiny_corpus, tmp_path):
    import os

    manifest = pl.read_csv(tiny_corpus)
    assert {"utt_id", "path", "speaker", "label", "dialog", "turn"} <= set(manifest.columns)
    assert manifest["speaker"].n_unique() >= 2
    assert os.environ["SERBENCH_RUNS"].startswith(str(tmp_path))


class _DummyConformance(ModelConformance):
    """The dummy model, given directly rather than through the installed registry."""

    model_name = "dummy"
    hparams = {"hidden": 4}
    feature_dim = 3

    def model_spec(self):
        return ModelSpec(name="dummy", version=1, description="d",
                         builder="serbench.testing.dummy:build")


class TestDummyConformance(_DummyConformance):
    pass


class TestDummyMultiTaskConformance(_DummyConformance):
    aux_tasks = {"gender": 2}


class _MaskIgnoringModel(DummyModel):
    def forward(self, batch):
        return self.heads["emotion"](self.body(batch.x.mean(1)))  # averages padding too


class _NoLearning(DummyModel):
    def forward(self, batch):
        return super().forward(batch).detach() * 0 + torch.zeros(1, requires_grad=True)


def _case(model_cls):
    class Case(_DummyConformance):
        def build(self, seed=0):
            torch.manual_seed(seed)
            return model_cls(self.input_spec(), hidden=4)

    return Case()


def test_conformance_catches_a_model_that_averages_padding():
    with pytest.raises(AssertionError, match="padding"):
        _case(_MaskIgnoringModel).test_padding_invariance()


def test_conformance_catches_a_model_that_does_not_learn():
    case = _case(_NoLearning)
    with pytest.raises(AssertionError, match="did not lower the loss"):
        case.test_training_step_lowers_loss()
    with pytest.raises(AssertionError, match="without a finite gradient"):
        case.test_parameters_receive_gradients()


def test_conformance_catches_nondeterministic_construction():
    class Random(_DummyConformance):
        def build(self, seed=0):
            return DummyModel(self.input_spec(), hidden=4)  # ignores the seed

    with pytest.raises(AssertionError, match="differ under the same seed"):
        Random().test_determinism_under_seed()


def test_conformance_batch_uses_masked_mean_shapes():
    batch = _case(DummyModel).make_batch()
    assert batch.x.shape == (4, 7, 3)
    torch.testing.assert_close(masked_mean(batch.x, batch.mask)[3], batch.x[3, 0])


def _pytest_without(hidden: str, args: list[str], cwd) -> str:
    """Run pytest in a fresh interpreter where module ``hidden`` cannot be imported."""
    import subprocess
    import sys

    code = (f"import sys; sys.modules[{hidden!r}] = None\n"
            "import pytest; sys.exit(pytest.main(sys.argv[1:]))")
    import os

    # only serbench's plugin, as in an environment without pytest-benchmark
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run([sys.executable, "-c", code, "-p", "serbench.testing.pytest_plugin",
                           *args], cwd=cwd, capture_output=True, text=True, env=env)
    return f"rc={done.returncode}\n{done.stdout}{done.stderr}"


def test_without_pytest_benchmark_the_kit_skips_benchmarks_and_says_why(tmp_path):
    (tmp_path / "test_mixed.py").write_text(
        "def test_plain():\n    assert True\n\n\n"
        "def test_timed(benchmark):\n    benchmark(sum, [1, 2])\n")
    out = _pytest_without("pytest_benchmark", ["-p", "no:cacheprovider", "--benchmark-skip",
                                               "-rs", "-q", "."], tmp_path)
    assert out.startswith("rc=0"), out
    assert "1 passed, 1 skipped" in out
    assert "pytest-benchmark is not installed (pip install 'serbench[test]')" in out


def test_the_conformance_kit_without_pytest_names_the_extra(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['pytest'] = None\n"
            "try:\n    import serbench.testing.conformance\n"
            "except ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "runs under pytest, which is not installed: pip install 'serbench[test]'" in out
