"""Registration: metadata, Table 1 variants, the DNN baseline, paper rows, the protocol."""

from __future__ import annotations

import subprocess
import sys

import pytest
from serbench.data.batch import InputSpec
from serbench.errors import ConfigError
from serbench.plugins import Registry, make_plugin_manager


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(make_plugin_manager())


def test_both_models_registered_with_valid_metadata(registry: Registry) -> None:
    for name in ("a_lstm", "alstm_dnn"):
        spec = registry.model(name)
        assert spec.validate() == []
        assert "Tao" in (spec.citation or "")
        assert dict(spec.task_weights) == {"emotion": 1.0, "speaker": 0.3, "gender": 0.6}
        assert spec.preferred["label_map"] == "4class-nomerge"
        assert spec.preferred["protocol"] == "speaker-holdout"
        assert spec.defaults["batch_size"] == 32 and spec.defaults["patience"] == 3
    assert registry.model("a_lstm").preferred["normalisation"] == "utterance"
    assert registry.model("a_lstm").defaults["optimizer"] == "adam"
    assert registry.model("alstm_dnn").defaults["optimizer"] == "sgd"


def test_table_rows_map_to_runnable_configurations(registry: Registry) -> None:
    from serbench.reproduce.plan import plan_runs

    spec = registry.model("a_lstm")
    plan = plan_runs(spec, registry)
    plans = plan.runs
    labels = [p.label for p in plans]
    assert labels == ["lstm", "mean_lstm", "a_lstm", "alstm_dnn"]
    answered = {r.variant for p in plans for r in p.paper}
    assert answered == {"lstm", "mean_lstm", "a_lstm", "alstm_dnn"}
    fusions = plan.fusions  # Table 2's RNN+DNN row: serbench fuse
    assert [(f.model, f.label) for f in fusions] == [("fusion", "a_lstm+alstm_dnn")]
    assert fusions[0].paper[0].metrics["macro_f1"] == 58.2


def test_paper_sizes(registry: Registry) -> None:
    """About 600 k parameters for the RNN and 58 M for the DNN (section 5)."""
    from serbench.lazy import resolve

    tasks = {"emotion": 4, "speaker": 8, "gender": 2}
    rnn = resolve(registry.model("a_lstm").builder)(
        InputSpec(feature_dim=36, num_classes=4, tasks=tasks), registry.model("a_lstm").defaults)
    n_rnn = sum(p.numel() for p in rnn.parameters())
    assert 5e5 < n_rnn < 7e5
    assert sum(p.numel() for n, p in rnn.named_parameters() if n.endswith(".W")) == 256
    dnn = resolve(registry.model("alstm_dnn").builder)(
        InputSpec(feature_dim=1582, num_classes=4, level="functionals", tasks=tasks),
        registry.model("alstm_dnn").defaults)
    n_dnn = sum(p.numel() for p in dnn.parameters())
    assert 4.5e7 < n_dnn < 6.5e7


def test_builders_refuse_the_wrong_level(registry: Registry) -> None:
    from serbench.lazy import resolve

    with pytest.raises(ConfigError, match="frame"):
        resolve(registry.model("a_lstm").builder)(
            InputSpec(feature_dim=3, num_classes=2, level="functionals"), {})
    with pytest.raises(ConfigError, match="functionals"):
        resolve(registry.model("alstm_dnn").builder)(InputSpec(feature_dim=3, num_classes=2), {})
    with pytest.raises(ConfigError, match="cell"):
        resolve(registry.model("a_lstm").builder)(InputSpec(feature_dim=3, num_classes=2),
                                                  {"cell": "gru"})


def test_search_spaces_are_declarative(registry: Registry) -> None:
    from serbench.lazy import resolve

    assert "time_steps" in resolve(registry.model("a_lstm").search_space)()
    assert "lr" in resolve(registry.model("alstm_dnn").search_space)()


def test_registration_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from serbench.plugins import Registry, make_plugin_manager\n"
        "Registry(make_plugin_manager()).model('a_lstm')\n"
        "assert 'torch' not in sys.modules, 'listing imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
