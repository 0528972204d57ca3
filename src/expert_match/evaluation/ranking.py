"""Per-problem ranking quality on a labelled set (nDCG@5, MRR, recall@10), by input form.

The set's expert skills are names; each is resolved through the demo skill taxonomy so the expert
carries the skill's names in both languages, as registered experts do.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from expert_match.fixtures import read_fixture
from expert_match.matching.metrics import ndcg_at, recall_at, reciprocal_rank
from expert_match.matching.profiles import BIO, Document, ExpertProfile, SkillEvidence
from expert_match.matching.ranker import ExpertRanker
from expert_match.matching.text import fold_key


def skill_names() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Folded name or alias -> (Vietnamese name, other names) from the demo taxonomy."""
    lookup = {}
    for skill in read_fixture("skills.json"):
        entry = (skill["name_vi"], (skill["name_en"], *skill["aliases"]))
        for name in (skill["name_vi"], skill["name_en"], *skill["aliases"]):
            lookup.setdefault(fold_key(name), entry)
    return lookup


def profiles(experts: list[dict[str, Any]]) -> list[ExpertProfile]:
    lookup = skill_names()
    out = []
    for index, expert in enumerate(experts):
        skills = []
        for name in expert.get("skills", []):
            label, names = lookup.get(fold_key(name), (name, ()))
            skills.append(SkillEvidence(label, names))
        out.append(ExpertProfile(index, tuple(Document(d, BIO) for d in expert["documents"]), skills=tuple(skills),
                                 languages=frozenset({expert.get("language", "vi")})))
    return out


def evaluate(path: Path, make_ranker: Callable[[], ExpertRanker] = ExpertRanker) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    data = json.loads(path.read_text("utf-8"))
    experts = data["experts"]
    ids = [str(e["id"]) for e in experts]
    ranker = make_ranker().fit(profiles(experts))
    per_form: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    scores_out: dict[str, dict[str, float]] = {}
    for query in data["queries"]:
        scores = ranker.text_scores(query["text"])
        order = np.lexsort((np.arange(len(ids)), -scores))
        ranked = [ids[i] for i in order if scores[i] > 0]
        relevance = {str(k): int(v) for k, v in query["relevance"].items()}
        per_form[query["form"]].append(
            (ndcg_at(ranked, relevance, 5), reciprocal_rank(ranked, relevance), recall_at(ranked, relevance, 10)))
        scores_out[str(query["id"])] = {ids[i]: round(float(scores[i]), 6) for i in range(len(ids)) if scores[i] > 0}
    forms = {form: summary(rows) for form, rows in sorted(per_form.items())}
    overall = summary([row for rows in per_form.values() for row in rows])
    report: dict[str, Any] = {"overall": overall, "forms": forms,
                              "experts": len(experts), "queries": len(data["queries"])}
    if "vi" in forms:
        report["ndcg5_ratio_to_vi"] = {f: round(m["ndcg5"] / forms["vi"]["ndcg5"], 4) for f, m in forms.items()}
    return report, scores_out


def summary(rows: list[tuple[float, float, float]]) -> dict[str, float]:
    array = np.array(rows, dtype=float)
    return {"ndcg5": round(float(array[:, 0].mean()), 4), "mrr": round(float(array[:, 1].mean()), 4),
            "recall10": round(float(np.nanmean(array[:, 2])), 4)}


def format_report(report: dict[str, Any]) -> str:
    lines = [f"{report['queries']} queries over {report['experts']} experts",
             f"{'form':16} {'nDCG@5':>7} {'MRR':>7} {'R@10':>7} {'nDCG vs vi':>10}"]
    for form, m in report["forms"].items():
        ratio = report.get("ndcg5_ratio_to_vi", {}).get(form)
        lines.append(f"{form:16} {m['ndcg5']:7.4f} {m['mrr']:7.4f} {m['recall10']:7.4f} "
                     + (f"{ratio:10.1%}" if ratio is not None else ""))
    o = report["overall"]
    lines.append(f"{'overall':16} {o['ndcg5']:7.4f} {o['mrr']:7.4f} {o['recall10']:7.4f}")
    return "\n".join(lines)
