"""Prepare ``.gpu-carry/`` here, on a CPU machine, for tests/gpu/device_run.sh (docs/gpu.md).

The GPU machine has Python 3.12 and a CUDA torch but no polars, optuna, jsonschema,
platformdirs, opensmile (whose version keys the feature cache) nor espeak-ng, and no
network; what it gets travels in 64 MiB with the working tree. This script writes:

* ``wheels/``: cp312 manylinux wheels of the missing packages, pinned to the versions
  installed here (so the GPU runs what the CPU suite tested); polars' 54 MB runtime
  wheel is repacked as ``polars-runtime.tar.xz`` (31 MB), unpacked there into the
  install folder;
* ``data.tar.xz``: the synthetic corpus's manifest and generator info, zero-filled
  files of its audio files' sizes (:func:`zero_audio`; the device run sets
  ``SERBENCH_AUDIO_CHECK=0``) and the feature caches of every GPU suite case and timing
  run (extracted here first if missing, into SERBENCH_DATA/CACHE);
* ``carry.json``: what is in it, the sizes, and the versions.

It fails if the carried folder and the working tree together exceed the budget.

Usage: .tox/py/bin/python tests/gpu/prepare_carry.py [--out .gpu-carry] [--no-wheels]
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import lzma
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gpu import suite_cases, suite_config  # noqa: E402
from timing_runs import entry_configs  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: the device machine's limit on what travels (working tree + carried folders)
BUDGET_MIB = 64
#: what serbench imports at run time and the GPU machine lacks (KINDS.md's package list);
#: opensmile only for its version, which keys the feature cache (it is never imported)
PACKAGES = ("polars", "polars-runtime-32", "optuna", "alembic", "SQLAlchemy", "Mako",
            "colorlog", "jsonschema", "jsonschema-specifications", "referencing", "rpds-py",
            "platformdirs", "opensmile")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64")


def download_wheels(folder: Path) -> dict[str, str]:
    """Pinned cp312 wheels of :data:`PACKAGES` into ``folder``; returns name -> version."""
    pins = {name: metadata.version(name) for name in PACKAGES}
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.12", "--implementation", "cp", "-d", str(folder)]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run(command + [f"{n}=={v}" for n, v in pins.items()], check=True)
    for runtime in folder.glob("polars_runtime_32-*.whl"):  # deflate: 54 MB; xz: 31 MB
        repack_xz(runtime, folder.parent / "polars-runtime.tar.xz")
        runtime.unlink()
    return pins


def repack_xz(wheel: Path, target: Path) -> None:
    """A wheel's files (package and dist-info, as pip would install them) as a tar.xz."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        with tarfile.open(target, "w:xz", preset=6) as tar:
            for path in sorted(Path(tmp).iterdir()):
                tar.add(path, arcname=path.name)


def _copy_cache(folder: Path, target: Path) -> None:
    """A complete feature cache folder without its lock and empty chunk folder."""
    target.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.is_file() and path.name != ".lock":
            shutil.copy2(path, target / path.name)


def stage_data(stage: Path) -> dict[str, Any]:
    """Extract (if needed) and copy the manifest and caches that the device run reads."""
    from serbench import paths
    from serbench.features.cache import cache_status, load_features
    from serbench.plugins import get_registry
    from serbench.run.config import RunConfig
    from serbench.run.resolve import resolve_run

    registry = get_registry()
    configs = [suite_config(m, v, registry) for m, v in suite_cases(registry)]
    for case in entry_configs(ROOT / "leaderboards" / "synthetic-4class-loso"):
        kwargs = dict(case["config"])
        configs += [RunConfig(**{**kwargs, "overrides": {**kwargs["overrides"],
                                                         "precision": p}})
                    for p in ("fp32", "bf16")]
    features: dict[str, dict[str, Any]] = {}
    corpus_root = None
    for config in configs:
        res = resolve_run(config, registry)
        corpus_root = res.corpus.root
        name = res.feature_entry.spec.name
        load_features(res.manifest, name, params=res.feature_params,
                      fingerprint=res.fingerprint, registry=registry, progress=False)
        status = cache_status(name, params=res.feature_params, fingerprint=res.fingerprint,
                              registry=registry)
        features[status["folder"]] = {"feature": name, "params": status["params"],
                                      "bytes": status["bytes"]}
    assert corpus_root is not None
    data = stage / "serbench-data" / "synthetic" / corpus_root.name
    data.mkdir(parents=True)
    for path in corpus_root.iterdir():  # the manifest and generator info
        if path.is_file() and path.suffix in (".csv", ".json"):
            shutil.copy2(path, data / path.name)
    placeholders = zero_audio(corpus_root, data)
    cache_root = paths.cache_dir()
    for folder in features:
        _copy_cache(Path(folder), stage / "serbench-cache" / Path(folder).relative_to(cache_root))
    return {"corpus": corpus_root.name, "features": list(features.values()),
            "zero_filled_audio_files": placeholders}


def zero_audio(corpus: Path, target: Path) -> int:
    """Zero-filled files of each audio file's size, at its path under ``target``.

    The corpus fingerprint hashes each file's relative path and size (not its content,
    serbench.manifest.fingerprint), so these keep it, and with it the feature cache keys;
    they compress to nothing. Their content is never read: the device run turns the
    audio check off, and a feature missing from the cache cannot be extracted there
    (opensmile travels without its dependencies, so importing it fails loudly).
    """
    import polars as pl

    n = 0
    for rel in pl.read_csv(corpus / "manifest.csv")["path"].to_list():
        source, placeholder = corpus / rel, target / rel
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        with open(placeholder, "wb") as fh:
            fh.truncate(source.stat().st_size)
        n += 1
    return n


def tree_bytes() -> int:
    """Bytes of what the device tool sends: tracked and untracked-but-not-ignored files."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True).stdout.split(b"\0")
    return sum((ROOT / p.decode()).stat().st_size for p in listed
               if p and (ROOT / p.decode()).is_file())


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".gpu-carry")
    parser.add_argument("--no-wheels", action="store_true",
                        help="only the data (the wheels are already there, or for a test)")
    parser.add_argument("--budget-mib", type=float, default=BUDGET_MIB)
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {}
    if args.no_wheels and (out / "carry.json").is_file():  # keep the record of the wheels
        info["wheels"] = json.loads((out / "carry.json").read_text()).get("wheels")
    if not args.no_wheels:
        shutil.rmtree(out / "wheels", ignore_errors=True)
        info["wheels"] = download_wheels(out / "wheels")
    with tempfile.TemporaryDirectory() as tmp:
        info["data"] = stage_data(Path(tmp))
        with tarfile.open(out / "data.tar.xz", "w:xz", preset=lzma.PRESET_DEFAULT) as tar:
            for name in ("serbench-data", "serbench-cache"):
                tar.add(Path(tmp) / name, arcname=name)
    carried, tree = folder_bytes(out), tree_bytes()
    info["bytes"] = {"carried": carried, "tree": tree, "budget": int(args.budget_mib * 2**20)}
    (out / "carry.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    total = (carried + tree) / 2**20
    print(f"{out}: {carried / 2**20:.1f} MiB carried + {tree / 2**20:.1f} MiB working tree "
          f"= {total:.1f} MiB of {args.budget_mib:g} MiB")
    if total > args.budget_mib:
        print(f"too large: the device machine takes at most {args.budget_mib:g} MiB; carry "
              "fewer features (_gpu.CARRIED_FEATURES)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
