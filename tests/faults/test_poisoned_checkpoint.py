"""Faults: a run folder carrying a pickled payload is refused, never run.

A tiny BiLSTM run (one epoch, toy features) gives a real run folder; its
``model_<fold>.pt`` is then replaced by a pickle whose loading would create a marker
file. ``serbench explain`` (the real CLI entry point) must refuse it with exit code 2
and leave no marker; a control shows the same file does create the marker when it is
unpickled unsafely, so the test cannot pass by accident. A source scan holds every
other reader to the same rule.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import torch
from _run_helpers import toy_registry, toy_table

from serbench.cli import main
from serbench.errors import ConfigError
from serbench.explain import explain_utterance
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus
from serbench.training.checkpoint import load_checkpoint, metadata_path

ROOT = Path(__file__).resolve().parents[2]


class Payload:
    """Unpickling this calls ``open(marker, "w")``: code run by merely loading a file."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("poison")
    csv = write_tiny_corpus(root / "tiny", speakers=3, per_speaker=4)
    registry, table = toy_registry(), toy_table(csv, "frames")
    record = run_experiment(
        RunConfig(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                  feature="toy_frames", overrides={"hidden": 4, "batch_size": 8}, max_epochs=1,
                  device="cpu", runs_dir=root / "runs"),
        registry=registry, features=table, progress=False, command=["serbench", "run"],
    )
    run_dir = root / "runs" / record["run_id"]
    row = pl.read_parquet(run_dir / "predictions.parquet").row(0, named=True)
    return {"dir": run_dir, "registry": registry, "table": table, "utt": row["utt_id"],
            "weights": run_dir / f"model_{row['fold']}.pt", "pred": row["pred"]}


def test_checkpoint_is_a_plain_state_dict_with_json_metadata(trained):
    state, meta = load_checkpoint(trained["weights"])
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert meta["model"] == "bilstm_att" and meta["hparams"]["hidden"] == 4
    assert metadata_path(trained["weights"]).suffix == ".json"


@pytest.mark.parametrize("layout", ["current", "legacy single file"])
def test_explain_refuses_a_pickled_payload(trained, layout, tmp_path, capsys):
    import shutil

    run = tmp_path / trained["dir"].name
    shutil.copytree(trained["dir"], run)
    weights = run / trained["weights"].name
    marker = tmp_path / "payload-ran"
    poisoned = Payload(marker)
    if layout == "current":
        torch.save({"lstm.weight": poisoned}, weights)
    else:
        metadata_path(weights).unlink()
        torch.save({"state_dict": poisoned, "model": "bilstm_att", "version": 1}, weights)
    with pytest.raises(SystemExit) as info:
        main(["explain", str(run), trained["utt"], "--out", str(tmp_path / "png")])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "was refused: it is not a plain weights file" in err and weights.name in err
    assert not marker.exists(), "loading the checkpoint ran the payload"
    # control: the same file does run its payload when unpickled without the guard
    subprocess.run([sys.executable, "-c", "import sys, torch; "
                    "torch.load(sys.argv[1], weights_only=False)", str(weights)], check=True)
    assert marker.exists()


def test_legacy_checkpoints_of_plain_values_stay_readable(trained, tmp_path):
    import shutil

    run = tmp_path / trained["dir"].name
    shutil.copytree(trained["dir"], run)
    weights = run / trained["weights"].name
    state, meta = load_checkpoint(weights)
    torch.save({"state_dict": state, **meta}, weights)  # the pre-split single-file layout
    metadata_path(weights).unlink()
    e = explain_utterance(run, trained["utt"], registry=trained["registry"],
                          features=trained["table"])
    assert e.model_pred == trained["pred"]


def test_truncated_or_orphaned_weights_are_clear_errors(trained, tmp_path):
    weights = tmp_path / "model_x.pt"
    weights.write_bytes(trained["weights"].read_bytes()[:200])
    with pytest.raises(ConfigError, match="cannot be read as a checkpoint.*truncated"):
        load_checkpoint(weights)
    weights.write_bytes(trained["weights"].read_bytes())
    with pytest.raises(ConfigError, match="has no metadata file model_x.json"):
        load_checkpoint(weights)


# calls the scan reports that are safe where they stand, with the reason
ALLOWED = {
    # re-reads the TorchScript file export_run wrote a moment before, to compare its
    # outputs with torch's; it never opens a file from a received run folder
    "serbench/inference/export.py torch.jit.load",
}


def _dotted(node: ast.expr) -> str:
    """``torch.jit.load`` for the call target ``torch.jit.load``; "" parts otherwise."""
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _unsafe_loads(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line call`` for every call that could unpickle a file (or load code)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = _dotted(node.func)
        owner = name.rsplit(".", 1)[0]
        kw = {k.arg: k.value for k in node.keywords}
        safe = isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True
        if (name == "torch.load" and not safe) or name in (
                "pickle.load", "pickle.loads", "joblib.load", "dill.load", "cloudpickle.load",
                "pd.read_pickle", "yaml.load", "yaml.unsafe_load", "torch.jit.load") or (
                node.func.attr == "load" and owner in ("np", "numpy")
                and isinstance(kw.get("allow_pickle"), ast.Constant)
                and kw["allow_pickle"].value is True):
            where = path.relative_to(root).as_posix()
            if f"{where} {name}" not in ALLOWED:
                out.append(f"{where}:{node.lineno} {name}")
    return out


def test_nothing_in_serbench_or_plugins_unpickles_a_file():
    files = [p for d in ("serbench", "plugins") for p in (ROOT / d).rglob("*.py")
             if ".egg-info" not in str(p)]
    assert len(files) > 50
    assert [hit for f in files for hit in _unsafe_loads(f)] == []


def test_the_scan_finds_an_unsafe_load(tmp_path):
    bad = tmp_path / "example.py"
    bad.write_text("import torch, pickle\ntorch.load('m.pt', weights_only=False)\n"
                   "pickle.loads(b'')\ntorch.load('m.pt', weights_only=True)\n"
                   "torch.jit.load('m.ts')\nnumpy.load('a.npy', allow_pickle=True)\n")
    assert [h.split(" ")[1] for h in _unsafe_loads(bad, tmp_path)] == [
        "torch.load", "pickle.loads", "torch.jit.load", "numpy.load"]
