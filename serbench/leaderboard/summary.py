"""The computed leaderboard table: groups ranked, compared and annotated.

:func:`summarise` is what ``show`` prints and what ``publish`` freezes into a snapshot
(so a published table never changes even if the statistics code does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from serbench.leaderboard import diagnostics, paper, significance
from serbench.leaderboard.grouping import (
    aggregate_group,
    disambiguate,
    display_name,
    fold_scores,
    group_entries,
)

RANK_BY = "mean"


def _warnings(entries: Sequence[Mapping[str, Any]], groups: Sequence[dict[str, Any]]) -> list[str]:
    out = []
    splits = sorted({str(e["protocol"].get("split_hash")) for e in entries})
    tests = {e["protocol"].get("test_hash") for e in entries}
    same_tests = len(tests) == 1 and None not in tests
    if len(splits) > 1 and same_tests:
        out.append(f"entries have {len(splits)} different split hashes ({', '.join(splits)}) "
                   "but test the same utterances in every fold: only the train/validation "
                   "carving differs (e.g. a seed-dependent validation split), so the paired "
                   "comparison stays fair.")
    elif len(splits) > 1:
        detail = "; ".join(f"{display_name(g)}: {', '.join(g['split_hashes'])}"
                           for g in groups)
        out.append(f"entries were run on {len(splits)} different splits (split hashes "
                   f"{', '.join(splits)}); fold-paired comparisons between them may compare "
                   f"different test sets ({detail}).")
    prints = sorted({e["corpus"]["fingerprint"] for e in entries})
    if len(prints) > 1:
        out.append(f"entries come from {len(prints)} different corpus fingerprints "
                   f"({', '.join(prints)}): their scores are not comparable.")
    clocks = sorted({str(e["timing"].get("clock")) for e in entries})
    devices = sorted({str(e["timing"].get("device_name")) for e in entries})
    if len(clocks) > 1 or len(devices) > 1:
        out.append(f"timings were taken on {len(devices)} device(s) ({'; '.join(devices)}) "
                   f"with clock(s) {', '.join(clocks)}: compare latency and throughput only "
                   "between rows timed on the same device.")
    for g in groups:
        if len(g["test_hashes"]) > 1:
            out.append(f"{display_name(g)}: its seeds tested different utterances (split "
                       f"hashes {', '.join(g['split_hashes'])}); the seed spread includes "
                       "split variance.")
    return out


def summarise(entries: Sequence[Mapping[str, Any]], metrics: Sequence[str], *,
              alpha: float = significance.ALPHA) -> dict[str, Any]:
    """Rank the configurations by the primary metric (``metrics[0]``, mean over folds),
    mark which differ significantly from the top one, and attach a CI to each."""
    primary = metrics[0]
    raw = group_entries(entries)
    groups = [aggregate_group(members, metrics) for members in raw.values()]
    members_of = raw  # group_key -> entries; aggregate_group's "key" is that same key

    def sort_key(g: dict[str, Any]) -> tuple[float, str]:
        value = g["scores"][primary][RANK_BY]
        return (-(value if value is not None else float("-inf")), g["label"])

    groups.sort(key=sort_key)
    disambiguate(groups)  # after ranking: short tags follow the rank order
    diagnostics.mark_superseded(groups)
    classes = list(entries[0]["corpus"]["classes"]) if entries else []
    chance = diagnostics.chance_level(classes)
    for rank, g in enumerate(groups, start=1):
        members = members_of[g["key"]]
        g["per_class_recall"] = diagnostics.per_class_recall(members)
        g["confusion"] = diagnostics.confusion(members)
        g["flags"] = diagnostics.flags(members, g["scores"][primary]["mean"], chance)
        g["epochs"] = diagnostics.epoch_budget(g["hyperparameters"])
        default = diagnostics.default_epoch_budget(g["model"], g.get("variant"),
                                                   g["model_version"])
        # the model's own budget, kept only where this row trained for fewer epochs
        g["epochs_default"] = default if g["epochs"] and default and g["epochs"] < default \
            else None
        g["paper"] = (paper.reported(g, corpus=entries[0]["corpus"]["name"],
                                     label_map=entries[0]["corpus"].get("label_map"),
                                     metric=primary) if entries else None)
        ci = significance.bootstrap_counts(members) if primary == "ua" else None
        g["ci"] = ci or significance.bootstrap_folds(list(fold_scores(members, primary).values()))
        g["fold_scores"] = {
            str(seed): {fold: v for (s, fold), v in sorted(fold_scores(members, primary).items())
                        if s == seed}
            for seed in g["seeds"]
        }
        g["rank"] = rank
        g["comparison"] = None
    if groups:
        top = fold_scores(members_of[groups[0]["key"]], primary)
        tested = []
        for g in groups[1:]:
            result = significance.paired_test(top, fold_scores(members_of[g["key"]], primary))
            g["comparison"] = result
            if result is not None:
                tested.append(g)
        for g, p_adj in zip(tested, significance.holm([g["comparison"]["p"] for g in tested]),
                            strict=True):
            g["comparison"]["p_holm"] = p_adj
            g["comparison"]["significant"] = bool(p_adj < alpha)
    return {
        "metrics": list(metrics),
        "primary": primary,
        "rank_by": RANK_BY,
        "groups": groups,
        "n_entries": len(entries),
        "classes": classes,
        "chance": chance,
        # the paired test can reach alpha for some row: otherwise renderers drop "vs best"
        "testable": any((g.get("comparison") or {}).get("attainable") for g in groups),
        "pairs_needed": diagnostics.pairs_needed(alpha),
        "warnings": _warnings(entries, groups),
        "methods": {
            "test": "exact paired permutation test (sign flips) of fold scores against the "
                    "top entry, paired by seed and fold when both used the same seeds, else by "
                    "fold (seed-averaged); two-sided, Holm-adjusted",
            "alpha": alpha,
            "bootstrap": f"{int(significance.LEVEL * 100)}% percentile interval, "
                         f"{significance.N_BOOT} resamples",
        },
    }
