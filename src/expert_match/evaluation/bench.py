"""Benchmarks behind ``expert-match bench``: figures and ratios, never pass/fail."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from expert_match.evaluation.synthetic import build
from expert_match.matching.assignment import assign, assign_greedy, optimum
from expert_match.matching.ranker import ExpertRanker


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def bench_assign(n_tickets: int = 1000, n_experts: int = 13000, k: int = 20, seed: int = 2026,
                 say: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Global assignment of ``n_tickets`` over ``n_experts`` against one-by-one greedy and the
    integer-programming optimum. Candidates: each ticket's top ``k`` experts by text relevance."""
    say(f"building a synthetic corpus of {n_experts} experts and {n_tickets} tickets")
    corpus = build(n_experts, n_tickets, seed=seed)
    ranker, fit_seconds = timed(lambda: ExpertRanker().fit(corpus.experts))
    say(f"fitted in {fit_seconds:.1f} s; ranking candidates")

    def candidates() -> list[tuple[int, int, float]]:
        rows = []
        for ticket, text in enumerate(corpus.tickets):
            scores = ranker.text_scores(text)
            top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
            rows += [(ticket, int(ranker.expert_ids_[i]), float(scores[i])) for i in top if scores[i] > 0]
        return rows

    pairs, candidate_seconds = timed(candidates)
    capacity = {p.expert_id: p.capacity for p in corpus.experts}
    result, seconds = timed(lambda: assign(pairs, capacity))
    greedy, greedy_seconds = timed(lambda: assign_greedy(pairs, capacity, order=list(range(n_tickets))))
    best, optimum_seconds = timed(lambda: optimum(pairs, capacity))
    return {
        "tickets": n_tickets,
        "experts": n_experts,
        "candidates_per_ticket": k,
        "seconds": round(seconds, 3),
        "total": round(result.total, 4),
        "optimum": round(best, 4),
        "greedy": round(greedy.total, 4),
        "ratio_to_optimum": round(result.total / best, 6) if best else None,
        "greedy_ratio_to_optimum": round(greedy.total / best, 6) if best else None,
        "assigned": len(result.pairs),
        "greedy_assigned": len(greedy.pairs),
        "fit_seconds": round(fit_seconds, 2),
        "candidate_seconds": round(candidate_seconds, 2),
        "greedy_seconds": round(greedy_seconds, 3),
        "optimum_seconds": round(optimum_seconds, 3),
    }
