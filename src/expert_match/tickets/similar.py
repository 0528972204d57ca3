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
    """TF-IDF over resolved tickets, kept up to date as tickets are resolved or reopened.

    Tickets resolved since the last look are added, and reopened ones dropped, without a refit
    (``ExpertRanker.updated``: only the new tickets' text is read). A full refit happens when
    the added tickets bring too many words the fitted vocabulary lacks. It used to refit over
    every resolved ticket whenever one more was resolved: in a steady flow of resolutions each
    filing refitted thousands of tickets (``expert-match bench soak``).
    """

    def __init__(self, refit_drift: float = 0.05) -> None:
        self._lock = threading.Lock()
        self._signature: tuple[int, ...] | None = None
        self._ranker: ExpertRanker | None = None
        self._refit_drift = refit_drift

    def similar(self, text: str, resolved_ids: Sequence[int], texts: Callable[[list[int]], list[tuple[int, str]]],
                k: int = 20) -> list[tuple[int, float]]:
        """(ticket id, cosine) of the resolved tickets most like ``text``; ``texts`` loads the
        text of the tickets the index does not hold yet."""
        if not resolved_ids:
            return []
        ranker = self._fitted(tuple(sorted(resolved_ids)), texts)
        # Read as an absolute similarity, a cosine must count the words no resolved ticket has.
        scores = ranker.text_scores(text) * ranker.space_.coverage(text)
        order = np.lexsort((ranker.expert_ids_, -scores))[:k]
        return [(int(ranker.expert_ids_[i]), round(float(scores[i]), 4)) for i in order if scores[i] >= SIMILAR_SCORE]

    def _fitted(self, signature: tuple[int, ...], texts: Callable[[list[int]], list[tuple[int, str]]]) -> ExpertRanker:
        with self._lock:
            if self._ranker is None or self._signature is None:
                self._ranker = _fit(texts(list(signature)))
            elif signature != self._signature:
                held, wanted = set(self._signature), set(signature)
                added, removed = sorted(wanted - held), sorted(held - wanted)
                ranker = self._ranker.updated(_tickets(texts(added)), removed)
                self._ranker = _fit(texts(list(signature))) if ranker.unknown_share_ > self._refit_drift else ranker
            self._signature = signature
            return self._ranker


def _fit(texts: list[tuple[int, str]]) -> ExpertRanker:
    # Glossary expansion and typo correction are for problems against expert profiles; ticket
    # against ticket compares the words themselves.
    return ExpertRanker(expand_skills=False, correct_typos=False).fit(_tickets(texts))


def _tickets(texts: list[tuple[int, str]]) -> list[ExpertProfile]:
    return [ExpertProfile(i, (Document(t),)) for i, t in texts]
