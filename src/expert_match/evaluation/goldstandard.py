"""The reviewer-expertise gold standard (Stelmakh et al. 2023) as a test of the text ranker.

Each researcher is an expert whose documents are their own papers
(``evaluation_datasets/d_20_V/archives/~ID.jsonl``); each paper they rated is a problem; the score
is the ranker's text relevance. The data is read from the folder given (never shipped).
"""

from __future__ import annotations

import csv
import json
import random
from itertools import product
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from expert_match.matching.metrics import PairTally, accuracy, loss, pair_tally
from expert_match.matching.profiles import Document, ExpertProfile
from expert_match.matching.ranker import ExpertRanker

Scores = dict[str, dict[str, float]]  # researcher -> paper -> score


@dataclass(frozen=True, slots=True)
class GoldStandard:
    expertise: dict[str, dict[str, float]]  # researcher -> paper -> rating 1-5
    papers: dict[str, str]  # paper id -> title + abstract
    versions: dict[str, dict[str, list[str]]]  # "d_20_V" -> researcher -> own paper texts

    @property
    def researchers(self) -> list[str]:
        return sorted(self.expertise)


def paper_text(content: Mapping[str, object]) -> str:
    title = str(content.get("title") or "")
    abstract = str(content.get("abstract") or "")
    return f"{title}. {abstract}".strip()


def load(folder: Path) -> GoldStandard:
    expertise = read_evaluations(folder / "data" / "evaluations.csv")
    wanted = {paper for rated in expertise.values() for paper in rated}
    papers = {}
    for paper in sorted(wanted):
        data = json.loads((folder / "data" / "papers" / f"{paper}.json").read_text("utf-8"))
        papers[paper] = paper_text(data)
    versions = {}
    for version_dir in sorted((folder / "evaluation_datasets").glob("d_20_*"), key=lambda p: int(p.name.rsplit("_", 1)[1])):
        archives = {}
        for researcher in expertise:
            path = version_dir / "archives" / f"~{researcher}.jsonl"
            lines = path.read_text("utf-8").splitlines() if path.exists() else []
            archives[researcher] = [paper_text(json.loads(line)["content"]) for line in lines if line.strip()]
        versions[version_dir.name] = archives
    if not versions:
        raise FileNotFoundError(f"no evaluation_datasets/d_20_* folders under {folder}")
    return GoldStandard(expertise=expertise, papers=papers, versions=versions)


def read_evaluations(path: Path) -> dict[str, dict[str, float]]:
    expertise: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rated = {}
            for i in range(1, 11):
                paper, value = (row.get(f"Paper{i}") or "").strip(), (row.get(f"Expertise{i}") or "").strip()
                if paper and value:
                    rated[paper] = float(value)
            expertise[row["ParticipantID"].strip()] = rated
    return expertise


def predict(gold: GoldStandard, version: str, make_ranker: Callable[[], ExpertRanker]) -> Scores:
    """Score every rated paper for its researcher with a ranker fitted on this version's profiles."""
    researchers = gold.researchers
    profiles = [ExpertProfile(i, tuple(Document(t) for t in gold.versions[version][r]), languages=frozenset({"en"}))
                for i, r in enumerate(researchers)]
    ranker = make_ranker().fit(profiles)
    scores: Scores = {r: {} for r in researchers}
    for paper in sorted({p for rated in gold.expertise.values() for p in rated}):
        relevance = ranker.text_scores(gold.papers[paper])
        for index, researcher in enumerate(researchers):
            if paper in gold.expertise[researcher]:
                scores[researcher][paper] = float(relevance[index])
    return scores


@dataclass(frozen=True, slots=True)
class Result:
    loss: float
    ci: tuple[float, float]
    easy_acc: float
    hard_acc: float
    per_researcher: dict[str, PairTally]  # averaged over versions


def tallies(gold: GoldStandard, predictions: Mapping[str, Scores]) -> dict[str, PairTally]:
    """Per researcher, the tally averaged over profile versions."""
    out = {}
    for researcher in gold.researchers:
        per_version = [pair_tally(gold.expertise[researcher], predictions[v][researcher]) for v in predictions]
        n = len(per_version)
        out[researcher] = PairTally(
            penalty=sum(t.penalty for t in per_version) / n,
            weight=sum(t.weight for t in per_version) / n,
            easy_right=sum(t.easy_right for t in per_version),
            easy_total=sum(t.easy_total for t in per_version),
            hard_right=sum(t.hard_right for t in per_version),
            hard_total=sum(t.hard_total for t in per_version),
        )
    return out


def summarize(per_researcher: dict[str, PairTally], *, resamples: int = 1000, seed: int = 0) -> Result:
    values = list(per_researcher.values())
    rng = random.Random(seed)
    boot = sorted(loss([rng.choice(values) for _ in values]) for _ in range(resamples))
    ci = (boot[int(0.025 * resamples)], boot[int(0.975 * resamples) - 1])
    return Result(loss=loss(values), ci=ci, easy_acc=accuracy(values, "easy"), hard_acc=accuracy(values, "hard"),
                  per_researcher=per_researcher)


def evaluate(gold: GoldStandard, make_ranker: Callable[[], ExpertRanker]) -> tuple[Result, dict[str, Scores]]:
    predictions = {version: predict(gold, version, make_ranker) for version in gold.versions}
    return summarize(tallies(gold, predictions)), predictions


def nested_cv(per_config: Mapping[str, dict[str, PairTally]], folds: Sequence[Sequence[str]]) -> tuple[float, list[str]]:
    """Nested leave-researchers-out estimate: for each fold, pick the config with the lowest loss
    on the other researchers, then score it on the fold's researchers only."""
    held_out: list[PairTally] = []
    chosen = []
    for fold in folds:
        inside = set(fold)
        best = min(per_config, key=lambda c: (loss([t for r, t in per_config[c].items() if r not in inside]), c))
        chosen.append(best)
        held_out.extend(per_config[best][r] for r in fold)
    return loss(held_out), chosen


# The ranker as shipped, and the textbook baseline it is compared with.
DEFAULT = {"ngram_max": 2, "stem": True, "tf": "log", "idf": "bm25", "aggregation": "mean_max"}
TEXTBOOK = {"ngram_max": 1, "stem": False, "tf": "raw", "idf": "smooth", "aggregation": "mean"}
# The baseline is plain TF-IDF: no glossary expansion, no spelling correction, and every word of
# an English problem kept (the accented block compares English on exact words, as textbook TF-IDF).
PLAIN = {**TEXTBOOK, "expand_skills": False, "correct_typos": False, "accented_block": True}
# Each factor is one hypothesis beyond the textbook; nested CV decides what generalises.
FACTORS = {
    "ngram_max": (1, 2),
    "stem": (False, True),
    "tf": ("log", "bm25"),
    "idf": ("smooth", "bm25"),
    "aggregation": ("mean", "max", "mean_max"),
}


def grid() -> dict[str, dict[str, object]]:
    configs: dict[str, dict[str, object]] = {}
    for values in product(*FACTORS.values()):
        config = dict(zip(FACTORS, values))
        configs[config_name(config)] = config
    configs[config_name(TEXTBOOK)] = dict(TEXTBOOK)
    return configs


def config_name(config: Mapping[str, object]) -> str:
    return ",".join(f"{key}={config[key]}" for key in sorted(config))


def run_config(gold: GoldStandard, config: Mapping[str, object]) -> tuple[dict[str, PairTally], dict[str, Scores]]:
    predictions = {version: predict(gold, version, lambda: ExpertRanker(**config)) for version in gold.versions}
    return tallies(gold, predictions), predictions


def researcher_loss(tally: PairTally) -> float:
    return tally.penalty / tally.weight if tally.weight else 0.0


def wins_losses(better: Mapping[str, PairTally], than: Mapping[str, PairTally]) -> tuple[int, int, int]:
    """Researchers whose loss is lower / higher / equal under ``better`` than under ``than``."""
    wins = losses = ties = 0
    for researcher, tally in better.items():
        delta = researcher_loss(tally) - researcher_loss(than[researcher])
        if abs(delta) < 1e-12 or not tally.weight:
            ties += 1
        elif delta < 0:
            wins += 1
        else:
            losses += 1
    return wins, losses, ties


def choose_factorwise(per_config: Mapping[str, dict[str, PairTally]], researchers: Sequence[str]) -> dict[str, object]:
    """Start from the textbook and keep each factor's alternative only if, over every pair of
    configurations that differ in that factor alone, it lowers the loss of more of ``researchers``
    than it raises. A choice must help most researchers, not a few."""
    chosen = dict(TEXTBOOK)
    for factor, values in FACTORS.items():
        best, best_margin = TEXTBOOK[factor] if TEXTBOOK[factor] in values else values[0], 0
        for candidate in values:
            margin = 0
            for name, config in _configs(per_config).items():
                if config[factor] != chosen[factor] or candidate == chosen[factor]:
                    continue
                other = config_name({**config, factor: candidate})
                if other not in per_config:
                    continue
                for researcher in researchers:
                    delta = researcher_loss(per_config[other][researcher]) - researcher_loss(per_config[name][researcher])
                    margin += (delta < -1e-12) - (delta > 1e-12)
            if margin > best_margin:
                best, best_margin = candidate, margin
        chosen[factor] = best
    return chosen


def _configs(per_config: Mapping[str, dict[str, PairTally]]) -> dict[str, dict[str, object]]:
    configs = {}
    for name in per_config:
        config: dict[str, object] = {}
        for item in name.split(","):
            key, value = item.split("=")
            config[key] = {"True": True, "False": False}.get(value, int(value) if value.isdigit() else value)
        configs[name] = config
    return configs


def nested_cv_factorwise(per_config: Mapping[str, dict[str, PairTally]], folds: Sequence[Sequence[str]],
                         researchers: Sequence[str]) -> tuple[float, list[str]]:
    held_out: list[PairTally] = []
    chosen = []
    for fold in folds:
        inside = [r for r in researchers if r not in set(fold)]
        config = choose_factorwise(per_config, inside)
        name = config_name(config)
        chosen.append(name)
        held_out.extend(per_config[name][r] for r in fold)
    return loss(held_out), chosen
