"""Global assignment of waiting tickets to experts: maximise total relevance under capacity.

One ticket gets at most one expert, an expert at most their remaining capacity. Only candidate
pairs are allowed (the ranker has already removed conflicts, leave, inactive experts), and a
floor keeps weak pairs out: a pair must score at least ``min_score`` and at least
``min_share_of_best`` of the ticket's best candidate, so no ticket is handed a poor match to
free a strong expert for another. Tickets left without an expert go to a coordinator.

The problem is a maximum-weight b-matching. Experts with capacity c become c identical slots,
every ticket gets a private "unassigned" slot worth 0, and scipy's sparse bipartite matching
(LAPJVsp) finds the exact optimum of that graph.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching


@dataclass(frozen=True, slots=True)
class Assignment:
    pairs: dict[Hashable, Hashable]  # ticket -> expert
    total: float
    unassigned: list[Hashable]


def allowed_pairs(
    candidates: Iterable[tuple[Hashable, Hashable, float]], *, min_score: float = 0.0, min_share_of_best: float = 0.5
) -> list[tuple[Hashable, Hashable, float]]:
    """The candidate pairs that pass the floor (best score per ticket is taken over its candidates)."""
    rows = [(t, e, float(s)) for t, e, s in candidates if s > 0]
    best: dict[Hashable, float] = defaultdict(float)
    for ticket, _, score in rows:
        best[ticket] = max(best[ticket], score)
    return [(t, e, s) for t, e, s in rows if s >= min_score and s >= min_share_of_best * best[t]]


def assign(
    candidates: Iterable[tuple[Hashable, Hashable, float]],
    capacity: Mapping[Hashable, int],
    *,
    min_score: float = 0.0,
    min_share_of_best: float = 0.5,
) -> Assignment:
    """The assignment of highest total relevance.

    >>> a = assign([("t1", "A", 0.9), ("t1", "B", 0.8), ("t2", "A", 0.85), ("t2", "B", 0.1)], {"A": 1, "B": 1})
    >>> a.pairs, round(a.total, 2)
    ({'t1': 'B', 't2': 'A'}, 1.65)
    """
    pairs = allowed_pairs(candidates, min_score=min_score, min_share_of_best=min_share_of_best)
    tickets = sorted({t for t, _, _ in pairs}, key=repr)
    ticket_index = {t: i for i, t in enumerate(tickets)}
    by_expert: dict[Hashable, list[tuple[int, float]]] = defaultdict(list)
    for ticket, expert, score in pairs:
        if capacity.get(expert, 0) > 0:
            by_expert[expert].append((ticket_index[ticket], score))
    # Column layout: one column per expert slot, then one private "unassigned" column per ticket.
    rows, cols, scores, slot_owner = [], [], [], []
    for expert in sorted(by_expert, key=repr):
        edges = by_expert[expert]
        for _ in range(min(capacity[expert], len(edges))):
            column = len(slot_owner)
            slot_owner.append(expert)
            for ticket, score in edges:
                rows.append(ticket)
                cols.append(column)
                scores.append(score)
    n_tickets, n_slots = len(tickets), len(slot_owner)
    rows += list(range(n_tickets))
    cols += [n_slots + i for i in range(n_tickets)]
    scores += [0.0] * n_tickets
    if not n_tickets:
        return Assignment(pairs={}, total=0.0, unassigned=[])
    values = np.asarray(scores)
    # Costs must be positive (a stored zero counts as a missing edge): cost = ceiling - score.
    ceiling = float(values.max()) + 1.0
    graph = sp.csr_matrix((ceiling - values, (rows, cols)), shape=(n_tickets, n_slots + n_tickets))
    _, matched = min_weight_full_bipartite_matching(graph)
    score_of = {(r, c): s for r, c, s in zip(rows, cols, scores)}
    result: dict[Hashable, Hashable] = {}
    total = 0.0
    for ticket_row, column in enumerate(matched):
        if column < n_slots:
            result[tickets[ticket_row]] = slot_owner[column]
            total += score_of[(ticket_row, column)]
    unassigned = [t for t in tickets if t not in result]
    return Assignment(pairs=result, total=total, unassigned=unassigned)


def assign_greedy(
    candidates: Iterable[tuple[Hashable, Hashable, float]],
    capacity: Mapping[Hashable, int],
    *,
    order: Sequence[Hashable] | None = None,
    min_score: float = 0.0,
    min_share_of_best: float = 0.5,
) -> Assignment:
    """The usual helpdesk way, for comparison: tickets one by one (in ``order``, default by id),
    each taking its best candidate with capacity left."""
    pairs = allowed_pairs(candidates, min_score=min_score, min_share_of_best=min_share_of_best)
    options: dict[Hashable, list[tuple[float, Hashable]]] = defaultdict(list)
    for ticket, expert, score in pairs:
        options[ticket].append((score, expert))
    left = dict(capacity)
    result: dict[Hashable, Hashable] = {}
    total = 0.0
    for ticket in order if order is not None else sorted(options, key=repr):
        for score, expert in sorted(options.get(ticket, []), key=lambda x: (-x[0], repr(x[1]))):
            if left.get(expert, 0) > 0:
                left[expert] -= 1
                result[ticket] = expert
                total += score
                break
    unassigned = [t for t in sorted(options, key=repr) if t not in result]
    return Assignment(pairs=result, total=total, unassigned=unassigned)


def optimum(
    candidates: Iterable[tuple[Hashable, Hashable, float]],
    capacity: Mapping[Hashable, int],
    *,
    min_score: float = 0.0,
    min_share_of_best: float = 0.5,
) -> float:
    """Exact optimum by integer programming (HiGHS), an independent check of ``assign``."""
    pairs = [(t, e, s) for t, e, s in allowed_pairs(candidates, min_score=min_score,
                                                     min_share_of_best=min_share_of_best)
             if capacity.get(e, 0) > 0]
    if not pairs:
        return 0.0
    tickets = {t: i for i, t in enumerate(sorted({t for t, _, _ in pairs}, key=repr))}
    experts = {e: i for i, e in enumerate(sorted({e for _, e, _ in pairs}, key=repr))}
    n = len(pairs)
    rows = [tickets[t] for t, _, _ in pairs] + [len(tickets) + experts[e] for _, e, _ in pairs]
    matrix = sp.csr_matrix((np.ones(2 * n), (rows, list(range(n)) * 2)), shape=(len(tickets) + len(experts), n))
    upper = np.concatenate([np.ones(len(tickets)), [capacity[e] for e in sorted(experts, key=experts.get)]])
    result = milp(
        c=-np.array([s for _, _, s in pairs]),
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
    return float(-result.fun)
