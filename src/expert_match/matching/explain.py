"""Explanations: which terms and which of the expert's skills made the match."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from expert_match.matching.analysis import ACCENTED, FOLDED, Analyzer
from expert_match.matching.profiles import MatchedTerm, SkillEvidence
from expert_match.matching.text import fold
from expert_match.matching.vectorize import BLOCKS, TermSpace

MAX_TERMS = 8
ACCENTED_BLOCK = BLOCKS.index(ACCENTED)  # ``TermSpace.block_of_term`` of accented-block terms
SKILL_MATCH_SHARE = 0.5  # share of a skill name's idf mass (n-grams included) the problem must contain


def explain_terms(
    expert: Mapping[int, float], query: sp.csr_matrix | Mapping[int, float], space: TermSpace,
    display: Callable[[Collection[str]], Mapping[str, str]] | None = None,
) -> tuple[MatchedTerm, ...]:
    """Shared terms with their contribution to the text score, strongest first.

    ``expert``: the expert's (centroid) weight per term column, at least on the query's columns.
    ``query``: the problem's vector, or its weight per column (``query_weights``), which a
    ranking builds once for all the experts it explains. A term is shown once (contributions of
    both blocks added) and in the expert's own accented spelling when ``display`` (given the
    folded terms shown, their accented spelling in the expert's texts) or the accented block has
    one: an unaccented problem "chu ky so" shows "chữ ký số".
    """
    weights = query_weights(query) if isinstance(query, sp.csr_matrix) else query
    # Over the expert's shared columns (50-60), not the problem's 150-300.
    matched = [(column, value * weight) for column, value in expert.items()
               if (weight := weights.get(column)) is not None]
    if not (space.block_of_term[[column for column, _ in matched]] == ACCENTED_BLOCK).any():
        # One block: a column is its own term. Only the strongest need their text (and ties
        # with the last shown, ordered by text below): the text of all 50-60 shared terms of
        # each expert explained cost more than ranking.
        matched.sort(key=lambda cw: -cw[1])
        if len(matched) > MAX_TERMS:
            last_shown = matched[MAX_TERMS - 1][1]
            matched = [cw for cw in matched if cw[1] >= last_shown]
        merged = {space.term_text(column): contribution for column, contribution in matched}
        spelled = {key: key for key in merged}
    else:
        merged, spelled = {}, {}
        for column, contribution in matched:
            term = space.term_text(column)
            accented_block = space.block_of_term[column] == ACCENTED_BLOCK
            key = fold(term) if accented_block else term  # folded-block terms are folded already
            merged[key] = merged.get(key, 0.0) + contribution
            # The accented block's own spelling beats the folded one.
            if accented_block or key not in spelled:
                spelled[key] = term
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]
    forms = display([key for key, _ in ranked]) if display else {}
    return tuple(MatchedTerm(term=forms.get(key, spelled[key]), weight=round(weight, 4)) for key, weight in ranked)


def query_weights(query: sp.csr_matrix) -> dict[int, float]:
    """A problem vector's weight per column."""
    return dict(zip(query.indices.tolist(), query.data.tolist()))


def accented_forms(texts: Sequence[str], analyzer: Analyzer, wanted: Collection[str] | None = None) -> dict[str, str]:
    """Folded uni/bigram -> its accented spelling in ``texts`` (the first one met); only the
    ``wanted`` ones when given (an explanation shows eight terms: joining every bigram of an
    expert's texts to find them cost 0.3 ms per expert).

    >>> accented_forms(["Chữ ký số cho UBND"], Analyzer(), wanted=["chu ky", "ubnd"])
    {'chu ky': 'chữ ký', 'ubnd': 'ubnd'}
    """
    if wanted is not None:
        return _wanted_forms(texts, analyzer, wanted)
    forms: dict[str, str] = {}
    for text in texts:
        for line in text.split("\n"):
            accented, folded = analyzer.tokens(line)
            for i, word in enumerate(folded):
                forms.setdefault(word, accented[i])
                if i + 1 < len(folded):
                    forms.setdefault(f"{word} {folded[i + 1]}", f"{accented[i]} {accented[i + 1]}")
    return forms


def _wanted_forms(texts: Sequence[str], analyzer: Analyzer, wanted: Collection[str]) -> dict[str, str]:
    """``accented_forms`` of a few terms: each one's first occurrence found with ``list.index``
    (a C-level scan) line by line, stopping once all have one. A Python loop over every token of
    the expert's texts took a quarter of a ranking's time at 13,000 experts."""
    forms: dict[str, str] = {}
    missing = [(key, *key.split(" ", 1)) for key in wanted]
    for line in (line for text in texts for line in text.split("\n")):
        accented, folded = analyzer.tokens(line)
        for key, first, *second in missing:
            if spelled := _first_spelling(accented, folded, first, second[0] if second else None):
                forms[key] = spelled
        missing = [entry for entry in missing if entry[0] not in forms]
        if not missing:
            break
    return {key: forms[key] for key in wanted if key in forms}


def _first_spelling(accented: list[str], folded: list[str], first: str, second: str | None) -> str | None:
    """The accented spelling of the first occurrence of ``first`` (followed by ``second``)."""
    start = 0
    while True:
        try:
            i = folded.index(first, start)
        except ValueError:
            return None
        if second is None:
            return accented[i]
        if i + 1 < len(folded) and folded[i + 1] == second:
            return f"{accented[i]} {accented[i + 1]}"
        start = i + 1


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
