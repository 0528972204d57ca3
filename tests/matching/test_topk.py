"""The pruned top-k equals scoring every expert, whatever is left out on the way."""

import numpy as np
import pytest
import scipy.sparse as sp

import expert_match.matching.topk as topk
from expert_match.evaluation.synthetic import build
from expert_match.matching.topk import PrunedIndex


def corpus(seed: int, n_experts: int = 400, n_terms: int = 300):
    """Experts with one to three documents; Zipf-like term use so some terms are everywhere."""
    rng = np.random.default_rng(seed)
    owner = np.repeat(np.arange(n_experts), rng.integers(1, 4, size=n_experts))
    popularity = 1.0 / np.arange(1, n_terms + 1)
    rows = []
    for _ in owner:
        terms = rng.choice(n_terms, size=int(rng.integers(3, 30)), p=popularity / popularity.sum())
        row = np.zeros(n_terms)
        np.add.at(row, terms, rng.random(len(terms)))
        rows.append(row / np.linalg.norm(row))
    documents = sp.csr_matrix(np.array(rows, dtype=np.float32))
    totals = np.bincount(owner)
    share = 1.0 / totals[owner]
    return documents, owner, share


def reference(documents, owner, share, mode, columns, weights, multipliers, ids, k):
    per_document = documents.toarray().astype(np.float64) @ np.bincount(
        columns, weights=weights, minlength=documents.shape[1])
    n = owner.max() + 1
    mean = np.bincount(owner, weights=per_document * share, minlength=n)
    best = np.full(n, -np.inf)
    np.maximum.at(best, owner, per_document)
    text = {"mean": mean, "max": best, "mean_max": 0.5 * (mean + best)}[mode]
    total = text * multipliers
    keep = np.flatnonzero((text > 0) & (multipliers > 0))
    order = np.lexsort((ids[keep], -total[keep]))[:k]
    return keep[order], text[keep[order]]


@pytest.mark.parametrize("mode", ["mean", "max", "mean_max"])
@pytest.mark.parametrize("seed", range(6))
def test_pruned_top_k_equals_full_scoring(mode, seed, monkeypatch):
    # Small seed budgets and a large left-out share make every pruning step do work here; half
    # the corpora are read in ranges of 37 documents, as large ones are in ranges of CHUNK.
    monkeypatch.setattr(topk, "SEED_POSTINGS", 50)
    monkeypatch.setattr(topk, "SEEDS_PER_K", 1)
    monkeypatch.setattr(topk, "LEFT_OUT_SHARE", 0.9)
    if seed % 2:
        monkeypatch.setattr(topk, "CHUNK", 37)
    documents, owner, share = corpus(seed)
    rng = np.random.default_rng(100 + seed)
    ids = rng.permutation(len(np.unique(owner))) * 3 + 7  # not in index order: ties follow ids
    index = PrunedIndex(documents, owner, share, mode, ids=ids)
    for _ in range(10):
        columns = np.unique(rng.choice(documents.shape[1], size=int(rng.integers(1, 120))))
        weights = rng.random(len(columns)).astype(np.float32)
        multipliers = rng.choice([0.0, 0.6, 1.0, 1.2], size=len(ids))
        k = int(rng.choice([1, 5, 10, 50]))
        found, text = index.top(columns, weights, k, multipliers)
        expected, expected_text = reference(documents, owner, share, mode, columns, weights, multipliers, ids, k)
        assert found.tolist() == expected.tolist()
        assert np.allclose(text, expected_text, rtol=1e-5)


@pytest.mark.parametrize("left_out_share", [0.0, 0.9])
@pytest.mark.parametrize("mode", ["mean", "mean_max"])
def test_shares_that_do_not_add_up_to_one(mode, left_out_share, monkeypatch):
    # An expert's score can then exceed its best document's: the pass over documents must
    # allow for it (``reach``), or it skips experts that belong in the top k.
    monkeypatch.setattr(topk, "SEED_POSTINGS", 50)
    monkeypatch.setattr(topk, "SEEDS_PER_K", 1)
    monkeypatch.setattr(topk, "LEFT_OUT_SHARE", left_out_share)
    documents, owner, _ = corpus(11)
    rng = np.random.default_rng(11)
    share = rng.uniform(0.2, 1.5, size=len(owner))
    ids = np.arange(owner.max() + 1)
    index = PrunedIndex(documents, owner, share, mode, ids=ids)
    for _ in range(20):
        columns = np.unique(rng.choice(documents.shape[1], size=int(rng.integers(1, 120))))
        weights = rng.random(len(columns)).astype(np.float32)
        multipliers = np.ones(len(ids))
        found, _ = index.top(columns, weights, 10, multipliers)
        expected, _ = reference(documents, owner, share, mode, columns, weights, multipliers, ids, 10)
        assert found.tolist() == expected.tolist()


@pytest.mark.parametrize("mode", ["mean", "max", "mean_max"])
def test_candidates_are_every_expert_whose_bound_reaches_the_limit(mode):
    # The pass over documents skips a block of them on its best partial sum alone: it must not
    # lose an expert whose bound (partial sums plus what was left out) reaches the limit.
    rng = np.random.default_rng(5)
    owner = np.repeat(np.arange(300), rng.integers(1, 4, size=300))  # 599 documents: a ragged last block
    share = rng.uniform(0.2, 1.5, size=len(owner))
    index = PrunedIndex(sp.csr_matrix((len(owner), 4), dtype=np.float32), owner, share, mode)
    arrays = (index.row_starts, index.rows.indices, index.rows.data, index.owner, index.share, index.starts, index.tie)
    for trial in range(30):
        acc = (rng.random(len(owner)) ** 4 * (rng.random(len(owner)) < 0.7)).astype(np.float32)
        left_out = float(rng.choice([0.0, 0.05, 0.3]))
        mult = rng.choice([0.0, 0.5, 1.0, 1.3], size=300)
        limit = float(rng.uniform(0.0, 1.0))
        state = np.zeros(300, dtype=np.int8)
        state[rng.choice(300, size=20, replace=False)] = 2  # already scored: not candidates again
        expected = sorted(e for e in range(300)
                          if state[e] == 0 and mult[e] > 0
                          and 0 < topk._partial(e, acc, left_out, index.starts, index.share, index.mode) * mult[e]
                          and topk._partial(e, acc, left_out, index.starts, index.share, index.mode) * mult[e] >= limit)
        found, most = topk._candidates(acc, left_out, index.reach * mult.max(), state, arrays, index.mode, mult, limit)
        assert sorted(found.tolist()) == expected, trial
        assert np.all(most >= limit)


def test_terms_read_in_ranges_of_documents_sum_like_one_pass():
    documents, _, _ = corpus(2)
    by_term = documents.tocsc()
    rng = np.random.default_rng(2)
    terms = rng.permutation(documents.shape[1])[:150].astype(np.int64)
    weights = rng.random(150).astype(np.float32)
    sums = []
    for chunk in (1 << 18, 64, 1):
        acc = np.zeros(documents.shape[0], dtype=np.float32)
        topk._accumulate_terms(terms, weights, 20, 140, by_term.indptr, by_term.indices, by_term.data, acc, chunk)
        sums.append(acc)
    expected = documents[:, terms[20:140]] @ weights[20:140]
    for acc in sums:
        assert np.allclose(acc, expected, rtol=1e-5, atol=1e-7)


def test_query_table_finds_every_query_term_and_nothing_else():
    rng = np.random.default_rng(3)
    for size in (1, 7, 64, 300, 1000):
        terms = np.unique(rng.choice(2_000_000, size=size, replace=False)).astype(np.int64)
        weights = rng.random(len(terms)).astype(np.float32) + 0.1
        query = topk._query_table(terms, weights, 2_000_000)
        assert [topk._weight(t, query) for t in terms] == weights.tolist()
        others = np.setdiff1d(rng.choice(2_000_000, size=2000), terms)
        assert all(topk._weight(t, query) == 0.0 for t in others)


def test_ties_go_to_the_lower_id():
    # Three experts with the same document: equal scores, ranked by id, not by position.
    documents = sp.csr_matrix(np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]], dtype=np.float32))
    index = PrunedIndex(documents, np.arange(4), np.ones(4), "mean", ids=np.array([30, 10, 20, 5]))
    found, text = index.top(np.array([0]), np.array([1.0], dtype=np.float32), k=2)
    assert found.tolist() == [1, 2]
    assert text.tolist() == [1.0, 1.0]


def test_nothing_to_find():
    documents = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0]], dtype=np.float32))
    index = PrunedIndex(documents, np.arange(2), np.ones(2), "mean_max")
    assert index.top(np.array([1]), np.array([1.0], dtype=np.float32), k=5)[0].tolist() == []
    assert index.top(np.array([], dtype=np.int64), np.array([], dtype=np.float32), k=5)[0].tolist() == []
    # Nobody available: nobody is returned, however relevant.
    assert index.top(np.array([0]), np.array([1.0], dtype=np.float32), k=5, multipliers=np.zeros(2))[0].tolist() == []


def test_ranker_top_text_equals_full_scoring_on_synthetic_tickets():
    from expert_match.evaluation.bench import brute_force_scores, top_k
    from expert_match.matching.ranker import ExpertRanker

    data = build(1500, 30, seed=7)
    ranker = ExpertRanker().fit(data.experts)
    for text in data.tickets:
        assert ranker.top_text(text) == top_k(brute_force_scores(ranker, text), ranker.expert_ids_)
