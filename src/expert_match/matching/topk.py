"""Exact top-k experts without scoring every posting: term-at-a-time MaxScore in numba.

A full ticket has 150-320 terms and touches 2-4 million postings at 100k experts, most of them
common words whose weight can never lift an expert into the top k. With each term's best posting
weight ``U_t = q_t * max_d x_dt`` known, the terms left out may add at most ``R = sum U_t`` to
any document, so once ``k`` real scores are known (threshold ``theta``) only documents whose
partial score is within ``R`` of ``theta`` can still enter the top k; those are scored exactly
from the row-wise (forward) index. Measured on the synthetic corpus at 100k experts: 20-40 % of
the postings are read and the top k equals full scoring.

numba earns its place here: the accumulate and rescoring loops are per posting, and numpy's
fancy indexing over a million postings cost more than the whole scoring it replaces.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

MODES = {"mean": 0, "max": 1, "mean_max": 2}
SEED_POSTINGS = 10_000  # postings read to find a first threshold (the most selective terms)
LEFT_OUT_SHARE = 0.25  # terms left out may add at most this share of the first threshold
SEEDS_PER_K = 8  # experts scored exactly per place in the top k to set a threshold
MARGIN = 1e-4  # float32 partial sums against float64 exact scores: never prune on rounding


class PrunedIndex:
    """The postings by term (CSC) and by document (CSR) of a ranker, with each term's best weight.

    >>> import scipy.sparse as sp
    >>> docs = sp.csr_matrix(np.array([[0.6, 0.8, 0.0], [0.0, 0.6, 0.8], [1.0, 0.0, 0.0]], dtype=np.float32))
    >>> index = PrunedIndex(docs, owner=np.array([0, 1, 2]), share=np.ones(3), mode="mean")
    >>> experts, scores = index.top(np.array([0, 1]), np.array([0.6, 0.8], dtype=np.float32), k=2)
    >>> experts.tolist(), np.round(scores, 2).tolist()
    ([0, 2], [1.0, 0.6])
    """

    def __init__(self, documents: sp.csr_matrix, owner: np.ndarray, share: np.ndarray, mode: str,
                 by_term: sp.csc_matrix | None = None, ids: np.ndarray | None = None) -> None:
        by_term = documents.tocsc() if by_term is None else by_term
        self.rows = documents
        self.columns = by_term
        # int64 offsets once (scipy keeps int32 when it can): copying them per query cost more
        # than the pruning saved.
        self.row_starts = documents.indptr.astype(np.int64)
        self.column_starts = by_term.indptr.astype(np.int64)
        self.owner = np.ascontiguousarray(owner, dtype=np.int64)
        self.share = np.ascontiguousarray(share, dtype=np.float64)
        n_experts = int(self.owner.max()) + 1 if len(self.owner) else 0
        self.starts = np.searchsorted(self.owner, np.arange(n_experts + 1)).astype(np.int64)
        # Ties go to the lower id (the expert's index when no ids are given).
        self.tie = np.arange(n_experts, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        self.mode = MODES[mode]
        self.df = np.diff(by_term.indptr).astype(np.int64)
        self.max_weight = np.zeros(by_term.shape[1], dtype=np.float32)
        present = np.flatnonzero(self.df)
        if len(present):
            self.max_weight[present] = np.maximum.reduceat(by_term.data, by_term.indptr[present])

    def top(self, columns: np.ndarray, weights: np.ndarray, k: int,
            multipliers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The indices of the ``k`` experts with the highest ``text * multiplier`` (text > 0,
        multiplier > 0), best first, ties to the lower id; and their text scores. ``multipliers`` (availability
        and boosts, one per expert) default to 1."""
        n_experts = len(self.starts) - 1
        if multipliers is None:
            multipliers = np.ones(n_experts)
        multipliers = np.ascontiguousarray(multipliers, dtype=np.float64)
        columns = np.asarray(columns, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.float32)
        if k <= 0 or n_experts == 0 or len(columns) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        bound = weights * self.max_weight[columns]
        # Most selective first: much bound for few postings. Left out from the end.
        order = np.argsort(self.df[columns] / np.maximum(bound, 1e-30), kind="stable")
        rows, by_term = self.rows, self.columns
        return _top(columns[order], weights[order], bound[order].astype(np.float64),
                    self.column_starts, by_term.indices, by_term.data,
                    self.row_starts, rows.indices, rows.data,
                    self.owner, self.share, self.starts, self.tie, multipliers, float(multipliers.max()),
                    self.mode, int(min(k, n_experts)), rows.shape[1], SEED_POSTINGS, SEEDS_PER_K,
                    LEFT_OUT_SHARE, MARGIN)


@nb.njit(cache=True, nogil=True)
def _aggregate(mean, best, mode):
    """An expert's score from the weighted mean and the best of its documents' scores."""
    if mode == 0:
        return mean
    if mode == 1:
        return best
    return 0.5 * (mean + best)


@nb.njit(cache=True, nogil=True)
def _expert_score(e, starts, rptr, ridx, rval, qdense, share, mode):
    mean = 0.0
    best = 0.0
    for d in range(starts[e], starts[e + 1]):
        s = 0.0
        for p in range(rptr[d], rptr[d + 1]):
            s += rval[p] * qdense[ridx[p]]
        mean += share[d] * s
        best = max(best, s)
    return _aggregate(mean, best, mode)


@nb.njit(cache=True, nogil=True)
def _partial(e, acc, extra, starts, share, mode):
    """The expert's score from its documents' partial sums, each plus ``extra``: with ``extra``
    the most the terms not read could add, an upper bound of its exact score."""
    mean = 0.0
    best = 0.0
    for d in range(starts[e], starts[e + 1]):
        s = acc[d] + extra
        mean += share[d] * s
        best = max(best, s)
    return _aggregate(mean, best, mode)


@nb.njit(cache=True, nogil=True)
def _worse(total_a, key_a, total_b, key_b):
    """Whether a ranks after b: lower total, or the same total and a higher key (expert id)."""
    return total_a < total_b or (total_a == total_b and key_a > key_b)


@nb.njit(cache=True, nogil=True)
def _offer(e, key, text, total, heap_e, heap_key, heap_text, heap_total, size, k):
    """Keep the k best (total descending, then key ascending) in arrays whose slot 0 is the
    worst (a small k: linear scans suffice)."""
    if size < k:
        heap_e[size] = e
        heap_key[size] = key
        heap_text[size] = text
        heap_total[size] = total
        size += 1
    elif _worse(heap_total[0], heap_key[0], total, key):
        heap_e[0] = e
        heap_key[0] = key
        heap_text[0] = text
        heap_total[0] = total
    else:
        return size
    worst = 0
    for i in range(1, size):
        if _worse(heap_total[i], heap_key[i], heap_total[worst], heap_key[worst]):
            worst = i
    heap_e[0], heap_e[worst] = heap_e[worst], heap_e[0]
    heap_key[0], heap_key[worst] = heap_key[worst], heap_key[0]
    heap_text[0], heap_text[worst] = heap_text[worst], heap_text[0]
    heap_total[0], heap_total[worst] = heap_total[worst], heap_total[0]
    return size


@nb.njit(cache=True, nogil=True)
def _accumulate(t, w, cptr, cidx, cval, acc):
    for p in range(cptr[t], cptr[t + 1]):
        acc[cidx[p]] += w * cval[p]


@nb.njit(cache=True, nogil=True)
def _seed(seeds_per_k, acc, scored, tie, starts, rptr, ridx, rval, qdense, share, mode, mult,
          heap_e, heap_key, heap_text, heap_total, size, k):
    """Score exactly the ``seeds_per_k * k`` experts with the best partial scores (a threshold near the final one)."""
    seeds = seeds_per_k * k
    seed_e = np.empty(seeds, dtype=np.int64)
    seed_partial = np.empty(seeds)
    unused = np.empty(seeds)
    unused_key = np.empty(seeds, dtype=np.int64)
    n_seeds = 0
    for e in range(len(starts) - 1):  # in order: the arrays are read sequentially, not at random
        if mult[e] <= 0.0:
            continue
        partial = _partial(e, acc, 0.0, starts, share, mode) * mult[e]
        if partial > 0.0 and (n_seeds < seeds or partial > seed_partial[0]):
            n_seeds = _offer(e, e, 0.0, partial, seed_e, unused_key, unused, seed_partial, n_seeds, seeds)
    for i in range(n_seeds):
        e = seed_e[i]
        if not scored[e]:
            scored[e] = True
            text = _expert_score(e, starts, rptr, ridx, rval, qdense, share, mode)
            if text > 0.0:
                size = _offer(e, tie[e], text, text * mult[e], heap_e, heap_key, heap_text, heap_total, size, k)
    return size


@nb.njit(cache=True, nogil=True)
def _top(qi, qv, bound, cptr, cidx, cval, rptr, ridx, rval, owner, share, starts, tie, mult, mult_max,
         mode, k, n_terms, seed_postings, seeds_per_k, left_out_share, margin):
    n_docs = len(rptr) - 1
    n_experts = len(starts) - 1
    acc = np.zeros(n_docs, dtype=np.float32)
    scored = np.zeros(n_experts, dtype=np.bool_)
    qdense = np.zeros(n_terms, dtype=np.float32)
    for j in range(len(qi)):
        qdense[qi[j]] = qv[j]
    heap_e = np.empty(k, dtype=np.int64)
    heap_key = np.empty(k, dtype=np.int64)
    heap_text = np.empty(k)
    heap_total = np.empty(k)
    size = 0
    # 1. The most selective terms, then a first threshold from the experts they found.
    j = 0
    postings = 0
    while j < len(qi) and postings < seed_postings:
        _accumulate(qi[j], qv[j], cptr, cidx, cval, acc)
        postings += cptr[qi[j] + 1] - cptr[qi[j]]
        j += 1
    size = _seed(seeds_per_k, acc, scored, tie, starts, rptr, ridx, rval, qdense, share, mode, mult,
                 heap_e, heap_key, heap_text, heap_total, size, k)
    theta = heap_total[0] if size == k else 0.0
    # 2. Leave out the least selective terms whose bounds add up to a share of the threshold.
    end = len(qi)
    left_out = 0.0
    while end > j and (left_out + bound[end - 1]) * mult_max < left_out_share * theta:
        end -= 1
        left_out += bound[end]
    while j < end:
        _accumulate(qi[j], qv[j], cptr, cidx, cval, acc)
        j += 1
    # 3. A threshold near the final one, from the best partial scores, then score exactly what
    # can still reach the top k; the threshold rises as experts are found.
    size = _seed(seeds_per_k, acc, scored, tie, starts, rptr, ridx, rval, qdense, share, mode, mult,
                 heap_e, heap_key, heap_text, heap_total, size, k)
    # An expert no kept term reaches scores at most left_out * mult_max < theta: skipped too.
    for e in range(n_experts):
        if scored[e] or mult[e] <= 0.0:
            continue
        most = _partial(e, acc, left_out, starts, share, mode) * mult[e]
        if most <= 0.0 or (size == k and most < heap_total[0] - margin):
            continue
        scored[e] = True
        text = _expert_score(e, starts, rptr, ridx, rval, qdense, share, mode)
        if text > 0.0:
            size = _offer(e, tie[e], text, text * mult[e], heap_e, heap_key, heap_text, heap_total, size, k)
    order = np.empty(size, dtype=np.int64)
    for i in range(size):
        order[i] = i
    # Best first: total descending, then key ascending (insertion sort: k is small).
    for a in range(1, size):
        b = a
        while b > 0 and _worse(heap_total[order[b - 1]], heap_key[order[b - 1]],
                               heap_total[order[b]], heap_key[order[b]]):
            order[b - 1], order[b] = order[b], order[b - 1]
            b -= 1
    return heap_e[order], heap_text[order]
