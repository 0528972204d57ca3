"""Evaluation metrics, pure functions over scores and labels.

Reviewer-assignment loss (Stelmakh et al. 2023, "A Gold Standard Dataset for the Reviewer
Assignment Problem"): for each researcher and each pair of papers they rated, with expertise e
and predicted score s, the pair weighs w = |e_a - e_b|; it costs w when s orders the pair against
e and w/2 when s ties. Loss = total cost / total weight: 0 is perfect, 0.5 a constant scorer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True, slots=True)
class PairTally:
    """One researcher's contribution: summed penalty and weight, and easy/hard pair counts."""

    penalty: float
    weight: float
    easy_right: int
    easy_total: int
    hard_right: int
    hard_total: int


def pair_tally(expertise: Mapping[str, float], scores: Mapping[str, float]) -> PairTally:
    """Tally one researcher's rated papers.

    Easy pairs: one rating >= 4 and the other <= 2. Hard pairs: both >= 4 and unequal. A tie in
    the scores counts as wrong for the accuracies (and costs half in the loss).

    >>> t = pair_tally({"a": 5, "b": 3, "c": 1}, {"a": 0.9, "b": 0.9, "c": 0.1})
    >>> t.penalty, t.weight
    (1.0, 8.0)
    >>> (t.easy_right, t.easy_total)
    (1, 1)
    """
    penalty = weight = 0.0
    easy_right = easy_total = hard_right = hard_total = 0
    for a, b in combinations(sorted(expertise), 2):
        e_a, e_b = expertise[a], expertise[b]
        w = abs(e_a - e_b)
        s_a, s_b = scores[a], scores[b]
        right = (s_a - s_b) * (e_a - e_b) > 0
        if w > 0:
            weight += w
            if s_a == s_b:
                penalty += w / 2
            elif not right:
                penalty += w
        if (max(e_a, e_b) >= 4 and min(e_a, e_b) <= 2):
            easy_total += 1
            easy_right += int(right)
        elif min(e_a, e_b) >= 4 and e_a != e_b:
            hard_total += 1
            hard_right += int(right)
    return PairTally(penalty, weight, easy_right, easy_total, hard_right, hard_total)


def loss(tallies: Sequence[PairTally]) -> float:
    weight = sum(t.weight for t in tallies)
    return sum(t.penalty for t in tallies) / weight if weight else 0.0


def accuracy(tallies: Sequence[PairTally], kind: str) -> float:
    right = sum(getattr(t, f"{kind}_right") for t in tallies)
    total = sum(getattr(t, f"{kind}_total") for t in tallies)
    return right / total if total else float("nan")


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at(ranked: Sequence[str], relevance: Mapping[str, int], k: int = 5) -> float:
    """nDCG@k with gain 2^grade - 1.

    >>> round(ndcg_at(["x", "a"], {"a": 3, "b": 1}, k=5), 4)
    0.5788
    """
    gains = [2 ** relevance.get(item, 0) - 1 for item in ranked[:k]]
    ideal = sorted((2**g - 1 for g in relevance.values()), reverse=True)[:k]
    best = dcg(ideal)
    return dcg(gains) / best if best > 0 else 0.0


def reciprocal_rank(ranked: Sequence[str], relevance: Mapping[str, int], min_grade: int = 2) -> float:
    """1 / rank of the first item with grade >= ``min_grade`` (0 when none is ranked).

    >>> reciprocal_rank(["x", "b", "a"], {"a": 3, "b": 1})
    0.3333333333333333
    """
    for position, item in enumerate(ranked, start=1):
        if relevance.get(item, 0) >= min_grade:
            return 1.0 / position
    return 0.0


def recall_at(ranked: Sequence[str], relevance: Mapping[str, int], k: int = 10, min_grade: int = 2) -> float:
    relevant = {item for item, grade in relevance.items() if grade >= min_grade}
    if not relevant:
        return float("nan")
    return len(relevant & set(ranked[:k])) / len(relevant)
