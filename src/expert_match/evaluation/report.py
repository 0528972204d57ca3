"""`expert-match eval goldstandard`: run the gold standard and report in text or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expert_match.evaluation import goldstandard as gs
from expert_match.matching.metrics import loss


def goldstandard_report(folder: Path, *, nested: bool, progress: Any = None) -> tuple[dict[str, Any], dict[str, gs.Scores]]:
    gold = gs.load(folder)
    say = progress or (lambda _msg: None)
    say(f"{len(gold.researchers)} researchers, {len(gold.papers)} rated papers, {len(gold.versions)} profile versions")
    default_tallies, predictions = gs.run_config(gold, gs.DEFAULT)
    result = gs.summarize(default_tallies)
    baseline_tallies, _ = gs.run_config(gold, gs.PLAIN)
    wins, losses, ties = gs.wins_losses(default_tallies, baseline_tallies)
    report: dict[str, Any] = {
        "loss": round(result.loss, 4),
        "ci": [round(result.ci[0], 4), round(result.ci[1], 4)],
        "easy_acc": round(result.easy_acc, 4),
        "hard_acc": round(result.hard_acc, 4),
        "config": gs.DEFAULT,
        "baseline": {"config": gs.PLAIN, "loss": round(loss(list(baseline_tallies.values())), 4)},
        "vs_baseline": {"wins": wins, "losses": losses, "ties": ties},
    }
    if nested:
        configs = gs.grid()
        per_config = {}
        for i, (name, config) in enumerate(configs.items(), start=1):
            say(f"grid {i}/{len(configs)}: {name}")
            per_config[name] = gs.run_config(gold, config)[0]
        folds = [[r] for r in gold.researchers]
        factorwise, chosen = gs.nested_cv_factorwise(per_config, folds, gold.researchers)
        argmin, _ = gs.nested_cv(per_config, folds)
        best_name = min(per_config, key=lambda n: loss(list(per_config[n].values())))
        report["nested_cv"] = {
            "folds": "leave one researcher out",
            "grid_size": len(configs),
            "factorwise_selection_loss": round(factorwise, 4),
            "argmin_selection_loss": round(argmin, 4),
            "factorwise_choice_on_all": gs.choose_factorwise(per_config, gold.researchers),
            "chosen_per_fold": {name: chosen.count(name) for name in sorted(set(chosen))},
            "best_single_config_dev_loss": round(loss(list(per_config[best_name].values())), 4),
        }
    return report, predictions


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"loss {report['loss']:.4f}  (95% CI {report['ci'][0]:.4f}-{report['ci'][1]:.4f}, bootstrap over researchers)",
        f"easy pairs accuracy {report['easy_acc']:.3f}   hard pairs accuracy {report['hard_acc']:.3f}",
        f"config {json.dumps(report['config'])}",
        f"plain TF-IDF baseline loss {report['baseline']['loss']:.4f}; per researcher vs baseline: "
        f"{report['vs_baseline']['wins']} better, {report['vs_baseline']['losses']} worse, {report['vs_baseline']['ties']} equal",
    ]
    if nested := report.get("nested_cv"):
        lines += [
            f"nested CV ({nested['folds']}, {nested['grid_size']} configurations):",
            f"  factor-wise selection (keep a choice only if it helps most researchers): {nested['factorwise_selection_loss']:.4f}",
            f"  picking the grid's lowest-loss configuration: {nested['argmin_selection_loss']:.4f}"
            f" (its in-sample loss {nested['best_single_config_dev_loss']:.4f})",
            f"  factor-wise choice on all researchers: {json.dumps(nested['factorwise_choice_on_all'])}",
        ]
    return "\n".join(lines)
