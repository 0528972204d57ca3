"""Exact top-k experts without scoring every posting: term-at-a-time MaxScore in numba.

A full ticket has 150-320 terms and touches 2-4 million postings at 100k experts, most of them
the few hundred most common words, whose weight can never lift an expert into the top k on its
own. ``_top`` runs in three steps:

1. read the most selective terms (about 10,000 postings) and score exactly the owners of the
   documents they lift most: a first threshold ``theta``;
2. leave out the query's common terms (the ``COMMON`` most frequent of the index) while their
   plain bounds add up to less than ``COMMON_SHARE`` times ``theta``, and read the rest; then
   score exactly the owners of the best documents of the 32 blocks of 16 with the highest
   partial sums (step 1 misses the best experts on a third of the tickets, and its threshold
   is then half the final one);
3. one pass over the documents' partial sums picks the experts whose bound still reaches the
   threshold; they are scored exactly from the row-wise (forward) index, best bound first,
   until the next bound falls below the k-th score.

What the common terms can add to a document is bounded twice, both cheap to check for 200,000
documents: by Cauchy-Schwarz, per band of term frequency (``BANDS``), ``sum_b |q_b| * |x_db|``
(the norms ``|x_db|`` of each document's common-term weights are stored in a byte per band,
rounded up, and their maxima per block of 16 documents), which is a fraction of the plain bound
``sum_t q_t * max_d x_dt``; and, for the few hundred documents that pass it, by reading their
common terms from a compact row (one byte of term id, one byte of weight rounded up). The
compact rows also bound each expert from below, and the k-th best lower bound raises the
threshold during the pass. Only the experts that these near-exact bounds keep in reach are
scored exactly.

Measured on the synthetic corpus at 100k experts (200,000 documents, 3.5 million postings per
ticket): about 360,000 postings are read, about 300 experts are bounded from their compact rows
and fewer than 10 scored exactly after the first threshold; the top k equals full scoring. The
kernel takes 1.25-1.6 ms on the median ticket (3.3 ms before the common terms were left out), and
much of it waits on memory: the candidate pass ran 0.28 ms with warm caches, 0.73 ms cold, before
its loads were grouped in stages.

numba earns its place here: the accumulate and rescoring loops are per posting, and numpy's
fancy indexing over a million postings cost more than the whole scoring it replaces.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

MODES = {"mean": 0, "max": 1, "mean_max": 2}
SEED_POSTINGS = 5_000  # postings read to find a first threshold (the most selective terms)
COMMON = 256  # most frequent terms, bounded per document instead of read (ids fit a byte)
# Common terms by frequency rank: one stored norm per band. One band: four (0, 32, 64, 128, 256)
# bound more tightly, but the pass reads four times the bytes, and beside the cache misses of a
# cold index that cost more than the documents it ruled out. The benchmark's 200 tickets at 100k
# experts, the variants in turn, each ticket after tantivy's search: 1,475 us with four bands,
# 1,399 with two (0, 32, 256), 1,308 with one; with caches flushed instead, kernel alone:
# 1,104-1,206, 1,067-1,125 and 1,010-1,013 us.
BANDS = (0, COMMON)
COMMON_SHARE = 2.0  # common terms are left out while their plain bounds add up to this much of theta
SEEDS_PER_K = 3  # experts scored exactly per place in the top k to set a threshold
RESCORED = 32  # experts scored exactly, once every term is read, to raise it
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
        self._ones = np.ones(n_experts)
        self._ones.flags.writeable = False
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
        self._build_common(np.diff(by_term.indptr))

    def _build_common(self, df: np.ndarray) -> None:
        """The common terms (id = frequency rank), their compact rows and per-band norms."""
        n_common = int(min(COMMON, np.count_nonzero(df)))
        common = np.argsort(-df, kind="stable")[:n_common]
        self.common_terms = np.sort(common)
        self.common_ids = np.argsort(common).astype(np.int64)  # the id of each of common_terms
        common_id = np.full(len(df), -1, dtype=np.int16)
        common_id[common] = np.arange(n_common)
        band = (np.searchsorted(BANDS, np.arange(COMMON), side="right") - 1).astype(np.int64)
        starts, ids, codes, norms = _common_rows(self.row_starts, self.rows.indices, self.rows.data,
                                                 common_id, self.max_weight, len(BANDS) - 1, band)
        # Weights were rounded up to 255ths of the term's best; norms to 255ths of the band's
        # largest (a byte per band: the candidate pass reads them scattered, with cold caches,
        # and float32 norms took 4 times the cache lines).
        scale = np.zeros(COMMON)
        scale[:n_common] = self.max_weight[common].astype(np.float64) / 255.0
        unit = np.maximum(norms.max(axis=0, initial=0.0), 1e-30) * (1.0 + 1e-6) / 255.0
        norms = np.minimum(np.ceil(norms * (1.0 + 1e-9) / unit), 255).astype(np.uint8)
        n_docs, n_bands = norms.shape
        padded = np.zeros((-(-n_docs // BLOCK) * BLOCK, n_bands), dtype=np.uint8)
        padded[:n_docs] = norms
        by_block = padded.reshape(-1, BLOCK, n_bands)
        # Band-major: the candidate pass bounds every block, then 16 documents at a time, with
        # vector instructions (document-major, one document at a time: 0.28 ms a ticket).
        block_norms = np.ascontiguousarray(by_block.max(axis=1).T)  # (band, block)
        norms = np.ascontiguousarray(by_block.transpose(0, 2, 1))  # (block, band, document)
        offsets = starts.astype(np.int32) if starts[-1] < 2**31 else starts
        self.common = (offsets, ids, codes, scale, norms, block_norms, band, unit)

    def top(self, columns: np.ndarray, weights: np.ndarray, k: int,
            multipliers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The indices of the ``k`` experts with the highest ``text * multiplier`` (text > 0,
        multiplier > 0), best first, ties to the lower id; and their text scores. ``multipliers`` (availability
        and boosts, one per expert) default to 1."""
        n_experts = len(self.starts) - 1
        if multipliers is None:  # kept: a fresh array and its maximum cost 60 us per query
            multipliers, highest = self._ones, 1.0
        else:
            multipliers = np.ascontiguousarray(multipliers, dtype=np.float64)
            highest = float(multipliers.max()) if n_experts else 0.0
        columns = np.asarray(columns, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.float32)
        if k <= 0 or n_experts == 0 or len(columns) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        columns, weights, bound, common_id = _selective_first(columns, weights, self.max_weight, self.column_starts,
                                                              self.common_terms, self.common_ids)
        rows, by_term = self.rows, self.columns
        index = (self.row_starts, _unsigned(rows.indices), rows.data, self.owner, self.share, self.starts, self.tie)
        return _top(columns, weights, bound, common_id,
                    self.column_starts, _unsigned(by_term.indices), by_term.data, index, self.common, multipliers,
                    self.reach * highest, self.mode, int(min(k, n_experts)), rows.shape[1],
                    SEED_POSTINGS, SEEDS_PER_K, RESCORED, COMMON_SHARE, MARGIN, CHUNK)


def _unsigned(indices: np.ndarray) -> np.ndarray:
    """The same index array seen as unsigned (no copy): indexing with a signed integer compiles
    to a check for negative indices on every access, and the postings' scatter into the partial
    sums ran 30 % faster without it (one process, 100 tickets, identical sums)."""
    return indices.view(np.uint32 if indices.itemsize == 4 else np.uint64)


@nb.njit(cache=True, nogil=True)
def _selective_first(columns, weights, max_weight, column_starts, common_terms, common_ids):
    """The query's terms, most selective first (much bound for few postings; the kernel leaves
    terms out from the end), with each one's bound and common-term id (-1 when not common).
    One compiled call: a dozen numpy calls on a few hundred terms cost 50 us per query."""
    n = len(columns)
    bound = np.empty(n)
    selectivity = np.empty(n)
    for i in range(n):
        bound[i] = np.float32(weights[i] * max_weight[columns[i]])  # as float32 arithmetic gave
        df = column_starts[columns[i] + 1] - column_starts[columns[i]]
        selectivity[i] = df / max(np.float32(bound[i]), np.float32(1e-30))
    order = np.argsort(selectivity, kind="mergesort")  # stable: ties keep column order
    common_id = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if len(common_terms):
            at = min(np.searchsorted(common_terms, columns[order[i]]), len(common_terms) - 1)
            if common_terms[at] == columns[order[i]]:
                common_id[i] = common_ids[at]
    return columns[order], weights[order], bound[order], common_id


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
def _common_rows(rptr, ridx, rval, common_id, max_weight, n_bands, band):
    """Each document's common terms (id, weight in 255ths of the term's best, rounded up) and
    the norm of its common-term weights per band."""
    n = len(rptr) - 1
    starts = np.zeros(n + 1, dtype=np.int64)
    for d in range(n):
        count = 0
        for p in range(rptr[d], rptr[d + 1]):
            if common_id[ridx[p]] >= 0:
                count += 1
        starts[d + 1] = starts[d] + count
    ids = np.empty(starts[n], dtype=np.uint8)
    codes = np.empty(starts[n], dtype=np.uint8)
    norms = np.zeros((n, n_bands))
    for d in range(n):
        q = starts[d]
        for p in range(rptr[d], rptr[d + 1]):
            c = common_id[ridx[p]]
            if c >= 0:
                x = np.float64(rval[p])
                ids[q] = c
                codes[q] = min(255, max(1, int(np.ceil(x * 255.0 / max_weight[ridx[p]]))))
                norms[d, band[c]] += x * x
                q += 1
    return starts, ids, codes, np.sqrt(norms)


@nb.njit(cache=True, nogil=True)
def _common_part(d, common, scaled):
    """At least what the left-out common terms add to document ``d``: ``scaled`` holds each
    left-out term's query weight times its code's unit (0 for the others); and at most, as each
    weight was rounded up by less than one unit, the same with every code less one."""
    offsets, ids, codes, scale, norms, block_norms, band, unit = common
    most = 0.0
    least = 0.0
    for p in range(offsets[d], offsets[d + 1]):
        most += scaled[ids[p]] * codes[p]
        least += scaled[ids[p]] * (codes[p] - 1)
    return most, least


@nb.njit(cache=True, nogil=True)
def _bounds(e, acc, starts, share, mode, common, scaled):
    """The expert's score from its documents' partial sums, each plus the most and the least
    the left-out common terms may add to it: an upper and a lower bound of its exact score."""
    mean = 0.0
    best = 0.0
    mean_low = 0.0
    best_low = 0.0
    for d in range(starts[e], starts[e + 1]):
        most, least = _common_part(d, common, scaled)
        s = acc[d] + most
        mean += share[d] * s
        best = max(best, s)
        s = acc[d] + least
        mean_low += share[d] * s
        best_low = max(best_low, s)
    return _aggregate(mean, best, mode), _aggregate(mean_low, best_low, mode)


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
def _block_maxima(acc):
    """The highest partial sum of each block of ``BLOCK`` documents."""
    n = len(acc)
    full = n - n % BLOCK
    best = np.empty((n + BLOCK - 1) // BLOCK, dtype=np.float32)
    for block in range(0, n, BLOCK):
        top = acc[block]
        if block < full:  # a fixed trip count: compiled to vector instructions (3x faster)
            for d in range(block + 1, block + BLOCK):
                top = max(top, acc[d])
        else:
            for d in range(block + 1, n):
                top = max(top, acc[d])
        best[block // BLOCK] = top
    return best


@nb.njit(cache=True, nogil=True)
def _rescore(best, acc, wanted, state, index, query, mode, mult, heap, size, k):
    """Score exactly the owners of the best documents of about ``wanted`` blocks with the
    highest partial sums, all read terms counted: the first threshold came from the most
    selective terms alone and is far too low when they missed the best experts (a third of
    the benchmark's tickets), which let nearly every block through the candidate pass.
    The blocks are found with a histogram: sorting them cost more than the pass."""
    top = best.max() if len(best) else 0.0
    if top <= 0.0:
        return size
    bins = np.zeros(65, dtype=np.int64)
    for b in range(len(best)):
        if best[b] > 0.0:
            bins[int(best[b] / top * 64)] += 1
    count = 0
    edge = 64
    while edge > 1 and count + bins[edge] <= wanted:
        count += bins[edge]
        edge -= 1
    threshold = (edge + 1) * top / 64 if count else top
    docs = np.empty(len(best), dtype=np.int64)
    n_docs = 0
    for b in range(len(best)):
        if best[b] >= threshold:
            for d in range(b * BLOCK, min(b * BLOCK + BLOCK, len(acc))):
                if acc[d] == best[b]:
                    docs[n_docs] = d
                    n_docs += 1
                    break
    return _seed(docs[:n_docs], wanted, acc, state, index, query, mode, mult, heap, size, k)


@nb.njit(cache=True, nogil=True)
def _by_norm(acc, best, block_norms, norms, norm_q, left_out, cut):
    """The documents whose partial sum plus what the left-out common terms may add reaches
    ``cut``: blocks of 16 first. What they may add to a document (or a block) with these
    per-band norms (in units of ``norm_q``'s) is Cauchy-Schwarz per band, and never more than
    their plain bound ``left_out``. One call for the whole pass (per-block calls ran 2.5 times
    slower); the bounds are summed band by band, in the same order for a block and a document."""
    n = len(acc)
    n_bands, n_blocks = block_norms.shape
    block_added = np.zeros(n_blocks)
    for b in range(n_bands):
        q = norm_q[b]
        for block in range(n_blocks):
            block_added[block] += q * block_norms[b, block]
    # The blocks that pass first, without branching (which block passes is unpredictable, and
    # each misprediction held up the loads of the next blocks), then their documents.
    passing = np.empty(n_blocks, dtype=np.int64)
    n_passing = 0
    for block in range(n_blocks):
        top = best[block] + min(block_added[block], left_out)
        passing[n_passing] = block
        n_passing += (top >= cut) & (top > 0.0)
    docs = np.empty(n, dtype=np.int64)
    n_docs = 0
    added = np.empty(BLOCK)
    for block in passing[:n_passing]:
        added[:] = 0.0
        for b in range(n_bands):
            q = norm_q[b]
            for i in range(BLOCK):
                added[i] += q * norms[block, b, i]
        first = block * BLOCK
        for i in range(min(BLOCK, n - first)):
            x = acc[first + i] + min(added[i], left_out)
            docs[n_docs] = first + i
            n_docs += (x >= cut) & (x > 0.0)
    return docs, n_docs


@nb.njit(cache=True, nogil=True)
def _touch_rows(docs, offsets, ids, codes):
    """Read where these documents' compact rows start, then their first bytes, each stage at
    once (see ``_touch``)."""
    starts = np.empty(len(docs), dtype=np.int64)
    for i in range(len(docs)):
        starts[i] = offsets[docs[i]]
    x = 0
    for i in range(len(docs)):
        if starts[i] < len(ids):
            x += ids[starts[i]] + codes[starts[i]]
    return x


@nb.njit(cache=True, nogil=True)
def _touch_experts(experts, state, mult, starts, tie):
    """Read what bounding these experts reads first, all at once (see ``_touch``)."""
    x = 0.0
    for e in experts:
        x += mult[e] + state[e] + starts[e] + tie[e]
    return x


@nb.njit(cache=True, nogil=True)
def _candidates(acc, best, left_out, norm_q, scaled, common, reach, state, index, mode, mult, limit, k, margin):
    """Experts not yet scored whose bound (partial score plus what the left-out common terms may
    add), times their multiplier, reaches the limit, with that bound.

    An expert's score is at most ``reach`` times its best document's, so a pass over the
    documents' partial sums and norm bounds, a block of 16 at a time, skips nearly all of them
    without reading their owners; the rest are bounded from their common terms' compact rows,
    which also bound their scores from below: the k-th best lower bound raises the limit as the
    pass goes. ``best`` holds each block's highest partial sum.
    """
    rptr, ridx, rval, owner, share, starts, tie = index
    offsets, ids, codes, scale, norms, block_norms, band, unit = common
    low = (np.empty(k, dtype=np.int64), np.empty(k, dtype=np.int64), np.empty(k), np.empty(k))
    m, n_low = 0, 0
    # Below ``cut`` a document cannot lift its expert to ``limit``.
    cut = limit / reach if reach > 0.0 else np.inf
    # In stages, each a loop of independent loads the memory system serves together: the
    # candidates' norms, compact rows and owners come from memory, and one document at a time
    # waited on each miss in turn (in one process: 1.69 -> 1.54 ms on the median ticket).
    docs, n_docs = _by_norm(acc, best, block_norms, norms, norm_q, left_out, cut)
    bound = np.empty(n_docs)
    kept = 0
    _touch_rows(docs[:n_docs], offsets, ids, codes)
    for i in range(n_docs):
        d = docs[i]
        added, _ = _common_part(d, common, scaled)
        if acc[d] + added >= cut and acc[d] + added > 0.0:
            docs[kept] = d
            bound[kept] = acc[d] + added
            kept += 1
    found = np.empty(kept, dtype=np.int64)  # at most one expert per document kept
    most = np.empty(kept)
    owners = np.empty(kept, dtype=np.int64)
    for i in range(kept):
        owners[i] = owner[docs[i]]
    _touch_experts(owners, state, mult, starts, tie)
    for i in range(kept):
        if bound[i] < cut:  # the limit rose since
            continue
        e = owners[i]
        if state[e] != 0 or mult[e] <= 0.0:
            continue
        state[e] = 1
        upper, lower = _bounds(e, acc, starts, share, mode, common, scaled)
        upper *= mult[e]
        if upper > 0.0 and upper >= limit:
            found[m] = e
            most[m] = upper
            m += 1
        if lower > 0.0:
            n_low = _offer(e, tie[e], lower, lower * mult[e], low[0], low[1], low[2], low[3], n_low, k)
            if n_low == k and low[3][0] - margin > limit:
                limit = low[3][0] - margin
                cut = limit / reach if reach > 0.0 else np.inf
    return found[:m], most[:m]


@nb.njit(cache=True, nogil=True)
def _leave_out(qv, qcid, bound, first, theta, reach, share, common):
    """Which of the terms from ``first`` on are left out: common terms, least selective first,
    while their plain bounds add up to less than ``share`` of the threshold. Also the query's
    side of their bounds: each one's weight in code units, and the norm of their weights per
    band in the band's norm units."""
    offsets, ids, codes, scale, norms, block_norms, band, unit = common
    left = np.zeros(len(qv), dtype=np.bool_)
    scaled = np.zeros(len(scale))
    norm_q = np.zeros(norms.shape[1])  # (block, band, document)
    left_out = 0.0
    for i in range(len(qv) - 1, first - 1, -1):
        c = qcid[i]
        if c >= 0 and (left_out + bound[i]) * reach < share * theta:
            left[i] = True
            left_out += bound[i]
            scaled[c] = qv[i] * scale[c]
            norm_q[band[c]] += np.float64(qv[i]) * qv[i]
    return left, left_out, scaled, np.sqrt(norm_q) * unit


@nb.njit(cache=True, nogil=True)
def _top(qi, qv, bound, qcid, cptr, cidx, cval, index, common, mult, reach, mode, k, n_terms,
         seed_postings, seeds_per_k, rescored, common_share, margin, chunk):
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
    # 2. Leave out the common terms, read the rest.
    left, left_out, scaled, norm_q = _leave_out(qv, qcid, bound, j, theta, reach, common_share, common)
    kept = np.flatnonzero(~left[j:]) + j
    _accumulate_terms(qi[kept], qv[kept], 0, len(kept), cptr, cidx, cval, acc, chunk)
    # 3. Score exactly, best bound first, every expert whose bound can still reach the top k;
    # stop at the first that cannot (the threshold only rises). With fewer than k found nothing
    # was left out, and an expert no term reached scores 0.
    best = _block_maxima(acc)
    size = _rescore(best, acc, rescored, state, index, query, mode, mult, heap, size, k)
    limit = heap[3][0] - margin if size == k else 0.0
    found, most = _candidates(acc, best, left_out, norm_q, scaled, common, reach, state, index, mode, mult, limit,
                              k, margin)
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
