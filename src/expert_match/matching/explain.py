"""Explanations: which terms and which of the expert's skills made the match."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from expert_match.matching.analysis import FOLDED, Analyzer
from expert_match.matching.profiles import MatchedTerm, SkillEvidence
from expert_match.matching.text import fold
from expert_match.matching.vectorize import TermSpace

MAX_TERMS = 8
SKILL_MATCH_SHARE = 0.5  # share of a skill name's idf mass (n-grams included) the problem must contain


def explain_terms(
    expert: Mapping[int, float], query: sp.csr_matrix, space: TermSpace, display: dict[str, str] | None = None
) -> tuple[MatchedTerm, ...]:
    """Shared terms with their contribution to the text score, strongest first.

    ``expert``: the expert's (centroid) weight per term column, at least on the query's columns.
    A term is shown once (contributions of both blocks added) and in the expert's own accented
    spelling when ``display`` (folded -> accented, from the expert's texts) or the accented block
    has one: an unaccented problem "chu ky so" shows "chữ ký số".
    """
    merged: dict[str, float] = {}
    spelled: dict[str, str] = {}
    for column, weight in zip(query.indices.tolist(), query.data.tolist()):
        value = expert.get(column)
        if value is None:
            continue
        term = space.term_text(column)
        key = fold(term)
        merged[key] = merged.get(key, 0.0) + value * weight
        # The accented block's own spelling beats the folded one.
        if space.block_of_term[column] == 0 or key not in spelled:
            spelled[key] = term
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]
    forms = display or {}
    return tuple(MatchedTerm(term=forms.get(key, spelled[key]), weight=round(weight, 4)) for key, weight in ranked)


def accented_forms(texts: Sequence[str], analyzer: Analyzer) -> dict[str, str]:
    """Folded uni/bigram -> its accented spelling in ``texts`` (the first one met)."""
    forms: dict[str, str] = {}
    for text in texts:
        for line in text.split("\n"):
            accented, folded = analyzer.tokens(line)
            for size in (1, 2):
                for i in range(len(accented) - size + 1):
                    forms.setdefault(" ".join(folded[i : i + size]), " ".join(accented[i : i + size]))
    return forms


def skill_keys(skills: Sequence[SkillEvidence], space: TermSpace) -> list[tuple[str, list[dict[str, float]]]]:
    """For each skill, each name as {folded term: smooth idf}, ready to test against a problem.

    Smooth idf (never below 1) whatever the ranker's weighting: with BM25 idf a term found in
    half the documents weighs almost nothing, and a name could never be "mostly present".
    """
    analyzer: Analyzer = space.analyzer
    cache = space.__dict__.setdefault("_skill_keys", {})
    keys = []
    for skill in skills:
        cached = cache.get((skill.label, skill.names))
        if cached is not None:
            keys.append(cached)
            continue
        if "_smooth_idf" not in cache:
            cache["_smooth_idf"] = (np.log((1.0 + space.n_docs) / (1.0 + space.df)) + 1.0,
                                    float(np.log(1.0 + space.n_docs) + 1.0))
        smooth_idf, unseen = cache["_smooth_idf"]
        names = []
        for name in (skill.label, *skill.names):
            terms = analyzer.terms(name)[FOLDED]
            weights = {}
            for term in terms:
                column = space.vocabulary.get(f"{FOLDED}|{term}")
                weights[term] = float(smooth_idf[column]) if column is not None else unseen
            if weights:
                names.append(weights)
        keys.append((skill.label, names))
        cache[(skill.label, skill.names)] = keys[-1]  # many experts share a skill
    return keys


def explain_skills(keys: list[tuple[str, list[dict[str, float]]]], folded_query: set[str], _space: TermSpace) -> tuple[str, ...]:
    """The expert's skills one of whose names is (mostly) present in the problem, best first."""
    found = []
    for label, names in keys:
        best = 0.0
        for weights in names:
            total = sum(weights.values())
            if total > 0:
                best = max(best, sum(w for t, w in weights.items() if t in folded_query) / total)
        if best >= SKILL_MATCH_SHARE:
            found.append((best, label))
    return tuple(label for _, label in sorted(found, key=lambda x: (-x[0], x[1])))
