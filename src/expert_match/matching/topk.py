"""Exact top-k experts without scoring every posting: term-at-a-time MaxScore in numba.

A full ticket has 150-320 terms and touches 2-4 million postings at 100k experts, most of them
common words whose weight can never lift an expert into the top k. With each term's best posting
weight ``U_t = q_t * max_d x_dt`` known, the terms left out may add at most ``R = sum U_t`` to
any document, so once ``k`` real scores are known (threshold ``theta``) only documents whose
partial score is within ``R`` of ``theta`` can still enter the top k. ``_top`` runs in three steps:

1. read the most selective terms (about 10,000 postings) and score exactly the owners of the
   documents they lift most: a first threshold, 99 % of the final one on the median ticket;
2. leave out the least selective terms whose bounds add up to a quarter of it, read the rest;
3. one pass over the documents' partial sums picks the experts whose bound still reaches the
   threshold; they are scored exactly from the row-wise (forward) index, best bound first,
   until the next bound falls below the k-th score.

Measured on the synthetic corpus at 100k experts: about 1.4 million of 3 million postings are
read and about 300 experts are scored exactly; the top k equals full scoring.

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
TOUCH = 16  # experts whose rows are fetched together before scoring them
BLOCK = 16  # documents whose partial sums are compared at once (their maximum first)
CHUNK = 1 << 18  # documents whose partial sums (1 MB) are accumulated at a time


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
        # scipy's offsets as they are (int32 below 2**31 postings): the kernels compile for
        # either width, and int64 copies cost 40 MB at 500k experts.
        self.row_starts = documents.indptr
        self.column_starts = by_term.indptr
        self.owner = np.ascontiguousarray(owner, dtype=np.int64)
        self.share = np.ascontiguousarray(share, dtype=np.float64)
        n_experts = int(self.owner.max()) + 1 if len(self.owner) else 0
        self.starts = np.searchsorted(self.owner, np.arange(n_experts + 1)).astype(np.int64)
        # Ties go to the lower id (the expert's index when no ids are given).
        self.tie = np.arange(n_experts, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        self.mode = MODES[mode]
        # The most an expert's score can be per unit of its best document's score (1 when the
        # shares of its documents add up to 1).
        weight_sum = np.add.reduceat(self.share, self.starts[:-1]) if n_experts else np.zeros(0)
        weight_sum[np.diff(self.starts) == 0] = 0.0
        reach = {"mean": weight_sum, "max": np.ones(n_experts), "mean_max": 0.5 * (weight_sum + 1.0)}[mode]
        self.reach = float(reach.max()) if n_experts else 0.0
        self.max_weight = np.zeros(by_term.shape[1], dtype=np.float32)
        present = np.flatnonzero(np.diff(by_term.indptr))
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
        df = self.column_starts[columns + 1] - self.column_starts[columns]
        order = np.argsort(df / np.maximum(bound, 1e-30), kind="stable")
        rows, by_term = self.rows, self.columns
        index = (self.row_starts, rows.indices, rows.data, self.owner, self.share, self.starts, self.tie)
        return _top(columns[order], weights[order], bound[order].astype(np.float64),
                    self.column_starts, by_term.indices, by_term.data, index, multipliers,
                    self.reach * float(multipliers.max()), self.mode, int(min(k, n_experts)), rows.shape[1],
                    SEED_POSTINGS, SEEDS_PER_K, LEFT_OUT_SHARE, MARGIN, CHUNK)


@nb.njit(cache=True, nogil=True)
def _aggregate(mean, best, mode):
    """An expert's score from the weighted mean and the best of its documents' scores."""
    if mode == 0:
        return mean
    if mode == 1:
        return best
    return 0.5 * (mean + best)


@nb.njit(cache=True, nogil=True)
def _query_table(qi, qv, n_terms):
    """The query's weights by term for scoring a document from its row: a bitmap over the
    vocabulary (96 KB at 100k experts) says whether a term is in the query at all, which it
    mostly is not, and an open-addressing table of a few KB holds the weights. A dense array
    over the vocabulary had to be zeroed for every query (3 MB at 100k experts) and missed the
    cache on most lookups."""
    present = np.zeros((n_terms >> 6) + 1, dtype=np.uint64)
    bits = 6
    while (1 << bits) < 4 * len(qi):
        bits += 1
    keys = np.full(1 << bits, -1, dtype=np.int64)
    values = np.zeros(1 << bits, dtype=np.float32)
    mask = (1 << bits) - 1
    for j in range(len(qi)):
        term = qi[j]
        present[term >> 6] |= np.uint64(1) << np.uint64(term & 63)
        slot = _slot(term, bits)
        while keys[slot] >= 0 and keys[slot] != term:
            slot = (slot + 1) & mask
        keys[slot] = term
        values[slot] = qv[j]
    return present, keys, values, bits


@nb.njit(cache=True, nogil=True)
def _slot(term, bits):
    # Fibonacci hashing on 32 bits: term ids are below 2**31, so the product fits in int64.
    return ((term * 2654435761) & 0xFFFFFFFF) >> (32 - bits)


@nb.njit(cache=True, nogil=True)
def _weight(term, query):
    present, keys, values, bits = query
    if not (present[term >> 6] >> np.uint64(term & 63)) & np.uint64(1):
        return 0.0
    mask = (1 << bits) - 1
    slot = _slot(term, bits)
    while keys[slot] != term:
        slot = (slot + 1) & mask
    return values[slot]


@nb.njit(cache=True, nogil=True)
def _expert_score(e, starts, rptr, ridx, rval, query, share, mode):
    mean = 0.0
    best = 0.0
    for d in range(starts[e], starts[e + 1]):
        s = 0.0
        for p in range(rptr[d], rptr[d + 1]):
            s += rval[p] * _weight(ridx[p], query)
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
def _accumulate_terms(qi, qv, start, end, cptr, cidx, cval, acc, chunk):
    """Terms ``start`` to ``end``. Past ``chunk`` documents, the accumulator (4 MB at 500k
    experts) no longer fits in L2 cache: the terms are then read a range of documents at a
    time, each term resuming where it stopped (measured at 500k: p50 19.3 -> 14.6 ms)."""
    if len(acc) <= chunk:
        for j in range(start, end):
            _accumulate(qi[j], qv[j], cptr, cidx, cval, acc)
        return
    resume = np.empty(end - start, dtype=np.int64)
    for j in range(start, end):
        resume[j - start] = cptr[qi[j]]
    for upper in range(chunk, len(acc) + chunk, chunk):
        for j in range(start, end):
            w = qv[j]
            p = resume[j - start]
            last = cptr[qi[j] + 1]
            while p < last and cidx[p] < upper:
                acc[cidx[p]] += w * cval[p]
                p += 1
            resume[j - start] = p


@nb.njit(cache=True, nogil=True)
def _accumulate_touched(t, w, cptr, cidx, cval, acc, touched, n_touched):
    """``_accumulate`` that also lists the documents it reaches for the first time."""
    for p in range(cptr[t], cptr[t + 1]):
        d = cidx[p]
        if acc[d] == 0.0:
            touched[n_touched] = d
            n_touched += 1
        acc[d] += w * cval[p]
    return n_touched


@nb.njit(cache=True, nogil=True)
def _touch(experts, index):
    """Read one value per cache line of these experts' rows. The loads are independent, so the
    memory system serves them in parallel; scoring experts one by one waited on each row's
    misses in turn (measured on 300 random experts with cold caches: 1.9 -> 1.2 us each)."""
    rptr, ridx, rval, owner, share, starts, tie = index
    x = 0.0
    for e in experts:
        for p in range(rptr[starts[e]], rptr[starts[e + 1]], 16):
            x += rval[p] + ridx[p]
    return x


@nb.njit(cache=True, nogil=True)
def _score_into(e, index, query, mode, mult, heap, size, k):
    """Score expert ``e`` exactly and offer it to the top k."""
    rptr, ridx, rval, owner, share, starts, tie = index
    heap_e, heap_key, heap_text, heap_total = heap
    text = _expert_score(e, starts, rptr, ridx, rval, query, share, mode)
    if text > 0.0:
        size = _offer(e, tie[e], text, text * mult[e], heap_e, heap_key, heap_text, heap_total, size, k)
    return size


@nb.njit(cache=True, nogil=True)
def _seed(docs, seeds, acc, state, index, query, mode, mult, heap, size, k):
    """Score exactly the owners of the ``seeds`` documents among ``docs`` with the highest
    partial sums: a first threshold. Chosen by the sums alone, which sit in cache: looking up
    every touched document's owner and multiplier first cost more than scoring the seeds."""
    rptr, ridx, rval, owner, share, starts, tie = index
    best_d = np.empty(seeds, dtype=np.int64)
    best_acc = np.empty(seeds)
    unused = np.empty(seeds)
    unused_key = np.empty(seeds, dtype=np.int64)
    n_best = 0
    for d in docs:
        if n_best < seeds or acc[d] > best_acc[0]:
            n_best = _offer(d, d, 0.0, acc[d], best_d, unused_key, unused, best_acc, n_best, seeds)
    for i in range(n_best):
        if i % TOUCH == 0:
            _touch(owner[best_d[i:min(i + TOUCH, n_best)]], index)
        e = owner[best_d[i]]
        if state[e] == 0 and mult[e] > 0.0:
            state[e] = 2
            size = _score_into(e, index, query, mode, mult, heap, size, k)
    return size


@nb.njit(cache=True, nogil=True)
def _candidates(acc, left_out, reach, state, index, mode, mult, limit):
    """Experts not yet scored whose partial score plus ``left_out`` per document, times their
    multiplier, reaches ``limit``, with that bound. An expert's score is at most ``reach`` times
    its best document's, so a pass over the documents' partial sums alone, a block of 16 at a
    time, skips nearly all of them without reading their owners."""
    rptr, ridx, rval, owner, share, starts, tie = index
    found = np.empty(len(starts) - 1, dtype=np.int64)
    most = np.empty(len(starts) - 1)
    m = 0
    # Below ``cut`` a document cannot lift its expert to ``limit``.
    cut = limit / reach - left_out if reach > 0.0 else np.inf
    n = len(acc)
    full = n - n % BLOCK
    for block in range(0, n, BLOCK):
        best = acc[block]
        if block < full:  # a fixed trip count: compiled to vector instructions (3x faster)
            for d in range(block + 1, block + BLOCK):
                best = max(best, acc[d])
        else:
            for d in range(block + 1, n):
                best = max(best, acc[d])
        if best < cut or best + left_out <= 0.0:
            continue
        for d in range(block, min(block + BLOCK, n)):
            if acc[d] < cut or acc[d] + left_out <= 0.0:
                continue
            e = owner[d]
            if state[e] != 0 or mult[e] <= 0.0:
                continue
            state[e] = 1
            bound = _partial(e, acc, left_out, starts, share, mode) * mult[e]
            if bound > 0.0 and bound >= limit:
                found[m] = e
                most[m] = bound
                m += 1
    return found[:m], most[:m]


@nb.njit(cache=True, nogil=True)
def _top(qi, qv, bound, cptr, cidx, cval, index, mult, reach, mode, k, n_terms,
         seed_postings, seeds_per_k, left_out_share, margin, chunk):
    rptr, ridx, rval, owner, share, starts, tie = index
    acc = np.zeros(len(rptr) - 1, dtype=np.float32)
    state = np.zeros(len(starts) - 1, dtype=np.int8)  # 0 not looked at, 1 bounded, 2 scored
    query = _query_table(qi, qv, n_terms)
    heap = (np.empty(k, dtype=np.int64), np.empty(k, dtype=np.int64), np.empty(k), np.empty(k))
    # 1. The most selective terms, then a first threshold from the experts they reached.
    j = 0
    postings = 0
    while j < len(qi) and postings < seed_postings:
        postings += cptr[qi[j] + 1] - cptr[qi[j]]
        j += 1
    touched = np.empty(postings, dtype=np.int64)
    n_touched = 0
    for i in range(j):
        n_touched = _accumulate_touched(qi[i], qv[i], cptr, cidx, cval, acc, touched, n_touched)
    size = _seed(touched[:n_touched], seeds_per_k * k, acc, state, index, query, mode, mult, heap, 0, k)
    theta = heap[3][0] if size == k else 0.0
    # 2. Leave out the least selective terms whose bounds add up to a share of the threshold.
    end = len(qi)
    left_out = 0.0
    while end > j and (left_out + bound[end - 1]) * reach < left_out_share * theta:
        end -= 1
        left_out += bound[end]
    _accumulate_terms(qi, qv, j, end, cptr, cidx, cval, acc, chunk)
    # 3. Score exactly, best bound first, every expert whose bound can still reach the top k;
    # stop at the first that cannot (the threshold only rises). With fewer than k found nothing
    # was left out, and an expert no term reached scores 0.
    limit = heap[3][0] - margin if size == k else 0.0
    found, most = _candidates(acc, left_out, reach, state, index, mode, mult, limit)
    order = np.argsort(-most)
    for i in range(len(order)):
        if size == k and most[order[i]] < heap[3][0] - margin:
            break
        if i % TOUCH == 0:
            _touch(found[order[i:i + TOUCH]], index)
        size = _score_into(found[order[i]], index, query, mode, mult, heap, size, k)
    heap_e, heap_key, heap_text, heap_total = heap
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
