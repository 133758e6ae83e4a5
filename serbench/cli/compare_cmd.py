"""``serbench compare RUN_A RUN_B``: paired significance of two runs on the same split."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where run ids are looked up (default: SERBENCH_RUNS or ./runs).")
@click.option("--n-boot", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Speaker-bootstrap samples.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the bootstrap draws.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(run_a: str, run_b: str, runs_dir: Path | None, n_boot: int, seed: int,
            as_json: bool) -> None:
    """Compare RUN_A with RUN_B on their per-utterance test predictions.

    Both runs must come from the same split (same corpus, classes, protocol and test
    utterances in the same folds; two seeds of one protocol qualify, with a note);
    otherwise nothing is computed. Prints each run's pooled UA, the
    difference A - B with a 95% speaker-bootstrap interval, and McNemar's exact p-value
    on correct/incorrect per utterance (see serbench.compare).
    """
    from serbench.compare import compare_runs
    from serbench.run.folder import locate_run

    result = compare_runs(locate_run(run_a, runs_dir), locate_run(run_b, runs_dir),
                          n_boot=n_boot, seed=seed)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    boot, mc = result["bootstrap"], result["mcnemar"]
    level = round(100 * boot["level"])
    rows = [
        ("A", result["run_a"]),
        ("B", result["run_b"]),
        ("UA A", f"{100 * boot['ua_a']:.2f} %"),
        ("UA B", f"{100 * boot['ua_b']:.2f} %"),
        ("difference A - B", f"{100 * boot['delta']:+.2f} points"),
        (f"{level}% CI (speaker bootstrap)",
         f"[{100 * boot['low']:+.2f}, {100 * boot['high']:+.2f}] ({boot['n_boot']} samples)"),
        ("McNemar exact p", f"{mc['p']:.4g} (right only in A: {mc['b']}, only in B: {mc['c']})"),
        ("test utterances", str(result["n_utterances"])),
        ("test speakers", str(boot["n_speakers"])),
        ("split hash", str(result["split_hash"])
         + ("" if result["split_hash_b"] == result["split_hash"] else f" / {result['split_hash_b']}")),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name:<{width}}  {value}")
    for warning in result["warnings"]:
        click.echo(f"note: {warning}")
