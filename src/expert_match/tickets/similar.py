"""Tickets like a new one: possible duplicates from the same org (rapidfuzz on folded text), and
resolved tickets ranked by the matcher's TF-IDF (so earlier advice can be reused)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz

from expert_match.matching.profiles import Document, ExpertProfile
from expert_match.matching.ranker import ExpertRanker

DUPLICATE_SCORE = 80.0  # token_set_ratio on folded text, 0-100
SIMILAR_SCORE = 0.2  # TF-IDF cosine over the whole text


def duplicate_scores(key: str, others: Sequence[tuple[int, str]]) -> list[tuple[int, float]]:
    """(id, similarity 0-1) of the ``others`` whose folded text nearly equals ``key``, best first.

    >>> duplicate_scores("may tinh khong nhan usb token", [(1, "may tinh khong nhan usb token chu ky so"), (2, "wifi")])
    [(1, 1.0)]
    """
    scored = [(i, fuzz.token_set_ratio(key, other) / 100.0) for i, other in others]
    return sorted([(i, s) for i, s in scored if s * 100 >= DUPLICATE_SCORE], key=lambda p: (-p[1], p[0]))


class ResolvedIndex:
    """TF-IDF over resolved tickets, refitted when the set of resolved tickets changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signature: tuple[int, ...] | None = None
        self._ranker: ExpertRanker | None = None

    def similar(self, text: str, resolved_ids: Sequence[int], texts: Callable[[list[int]], list[tuple[int, str]]],
                k: int = 20) -> list[tuple[int, float]]:
        """(ticket id, cosine) of the resolved tickets most like ``text``; ``texts`` loads the
        tickets' text only when the resolved set changed since the last fit."""
        if not resolved_ids:
            return []
        ranker = self._fitted(tuple(sorted(resolved_ids)), texts)
        # Read as an absolute similarity, a cosine must count the words no resolved ticket has.
        scores = ranker.text_scores(text) * ranker.space_.coverage(text)
        order = np.lexsort((ranker.expert_ids_, -scores))[:k]
        return [(int(ranker.expert_ids_[i]), round(float(scores[i]), 4)) for i in order if scores[i] >= SIMILAR_SCORE]

    def _fitted(self, signature: tuple[int, ...], texts: Callable[[list[int]], list[tuple[int, str]]]) -> ExpertRanker:
        with self._lock:
            if self._ranker is None or signature != self._signature:
                # Glossary expansion and typo correction are for problems against expert profiles;
                # ticket against ticket compares the words themselves.
                ranker = ExpertRanker(expand_skills=False, correct_typos=False)
                self._ranker = ranker.fit([ExpertProfile(i, (Document(t),)) for i, t in texts(list(signature))])
                self._signature = signature
            return self._ranker
