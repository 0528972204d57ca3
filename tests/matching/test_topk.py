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
    # Small seed budgets and a large left-out share make every pruning step do work here; the
    # common terms are the 40, 100 or 256 most frequent of 300, their norms stored in one band
    # (as shipped) or in four; half the corpora are read in ranges of 37 documents, as large
    # ones are in ranges of CHUNK.
    monkeypatch.setattr(topk, "SEED_POSTINGS", 50)
    monkeypatch.setattr(topk, "SEEDS_PER_K", 1)
    monkeypatch.setattr(topk, "COMMON_SHARE", 4.0)
    monkeypatch.setattr(topk, "COMMON", [40, 100, 256][seed % 3])
    monkeypatch.setattr(topk, "BANDS", (0, 256) if seed < 3 else (0, 16, 32, 64, 256))
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


@pytest.mark.parametrize("common_share", [0.0, 4.0])
@pytest.mark.parametrize("mode", ["mean", "mean_max"])
def test_shares_that_do_not_add_up_to_one(mode, common_share, monkeypatch):
    # An expert's score can then exceed its best document's: the pass over documents must
    # allow for it (``reach``), or it skips experts that belong in the top k.
    monkeypatch.setattr(topk, "SEED_POSTINGS", 50)
    monkeypatch.setattr(topk, "SEEDS_PER_K", 1)
    monkeypatch.setattr(topk, "COMMON", 60)
    monkeypatch.setattr(topk, "COMMON_SHARE", common_share)
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


def aggregate(per_document, owner, share, mode):
    n = owner.max() + 1
    mean = np.bincount(owner, weights=per_document * share, minlength=n)
    best = np.full(n, -np.inf)
    np.maximum.at(best, owner, per_document)
    return {"mean": mean, "max": best, "mean_max": 0.5 * (mean + best)}[mode]


@pytest.mark.parametrize("bands", [(0, 256), (0, 10, 25, 256)])
@pytest.mark.parametrize("mode", ["mean", "max", "mean_max"])
def test_candidates_are_every_expert_the_left_out_common_terms_could_lift_to_the_limit(mode, bands,
                                                                                     monkeypatch):
    # The pass skips blocks of documents on their best partial sum and norm bound, then bounds
    # the rest from their common terms' rounded weights: it must keep every expert whose exact
    # score (partial sums plus the left-out terms' real weights) reaches the limit, and what it
    # reports must bound that score from above, with the norms in one band (as shipped) or three.
    monkeypatch.setattr(topk, "COMMON", 50)
    monkeypatch.setattr(topk, "BANDS", bands)
    rng = np.random.default_rng(5)
    owner = np.repeat(np.arange(300), rng.integers(1, 4, size=300))  # 599 documents: a ragged last block
    share = rng.uniform(0.2, 1.5, size=len(owner))
    dense = rng.random((len(owner), 80)) * (rng.random((len(owner), 80)) < 0.3)
    documents = sp.csr_matrix(dense.astype(np.float32))
    index = PrunedIndex(documents, owner, share, mode)
    arrays = (index.row_starts, index.rows.indices, index.rows.data, index.owner, index.share, index.starts, index.tie)
    common_terms = np.argsort(-np.diff(documents.tocsc().indptr), kind="stable")[:50]
    assert sorted(common_terms.tolist()) == index.common_terms.tolist()
    for trial in range(30):
        acc = (rng.random(len(owner)) ** 4 * (rng.random(len(owner)) < 0.7)).astype(np.float32)
        left = rng.choice(50, size=int(rng.choice([0, 1, 5, 30])), replace=False)  # ids: frequency ranks
        weights = rng.random(len(left)) * 0.3
        qcid = np.full(50, -1)
        qv = np.zeros(50, dtype=np.float32)
        bound = np.zeros(50)
        qcid[:len(left)], qv[:len(left)] = left, weights
        bound[:len(left)] = weights * index.max_weight[common_terms[left]]
        chosen, left_out, scaled, norm_q = topk._leave_out(qv, qcid, bound, 0, 1.0, 1.0, np.inf, index.common)
        assert chosen.sum() == len(left)
        exact = acc + dense[:, common_terms[left]].astype(np.float32).astype(np.float64) @ qv[:len(left)]
        mult = rng.choice([0.0, 0.5, 1.0, 1.3], size=300)
        limit = float(rng.uniform(0.0, 1.2))
        state = np.zeros(300, dtype=np.int8)
        state[rng.choice(300, size=20, replace=False)] = 2  # already scored: not candidates again
        score = aggregate(exact, owner, share, mode) * mult
        # Lower bounds met on the way raise the limit, never past the k-th best unscored expert's
        # score (less the margin): every expert from there up must be found.
        open_ = (state == 0) & (mult > 0)
        k = 10
        kth = np.sort(score[open_])[::-1][k - 1] if open_.sum() >= k else 0.0
        must = {e for e in range(300) if open_[e] and 0 < score[e] and score[e] >= max(limit, kth - topk.MARGIN)}
        found, most = topk._candidates(acc, topk._block_maxima(acc), left_out, norm_q, scaled, index.common, index.reach * mult.max(),
                                       state, arrays, index.mode, mult, limit, k, topk.MARGIN)
        assert must <= set(found.tolist()), trial
        assert np.all(most >= limit)
        assert np.all(most >= score[found] - 1e-9)
        assert not set(found.tolist()) & set(np.flatnonzero(state == 2).tolist())


@pytest.mark.parametrize("bands", [(0, 256), (0, 10, 25, 256)])
def test_the_norm_pass_keeps_every_document_the_left_out_terms_could_lift_to_the_cut(bands, monkeypatch):
    # The block and document bounds of ``_by_norm`` (Cauchy-Schwarz per band) must never fall
    # below what the left-out common terms really add. Half the queries leave out only terms of
    # the rarer bands, where a bound that mixed up the bands would be too small.
    monkeypatch.setattr(topk, "COMMON", 50)
    monkeypatch.setattr(topk, "BANDS", bands)
    rng = np.random.default_rng(9)
    dense = rng.random((403, 80)) * (rng.random((403, 80)) < 0.3)
    documents = sp.csr_matrix(dense.astype(np.float32))
    index = PrunedIndex(documents, np.arange(403), np.ones(403), "mean")
    common_terms = np.argsort(-np.diff(documents.tocsc().indptr), kind="stable")[:50]
    offsets, ids, codes, scale, norms, block_norms, band, unit = index.common
    for trial in range(40):
        pool = np.arange(10 if trial % 2 else 0, 50)  # ids are frequency ranks
        left = rng.choice(pool, size=int(rng.integers(1, 25)), replace=False)
        weights = (rng.random(len(left)) * 0.5).astype(np.float32)
        bound = weights * index.max_weight[common_terms[left]]
        _, left_out, _, norm_q = topk._leave_out(weights, left, bound, 0, 1.0, 1.0, np.inf, index.common)
        acc = (rng.random(403) ** 3 * (rng.random(403) < 0.8)).astype(np.float32)
        exact = acc + dense[:, common_terms[left]].astype(np.float32).astype(np.float64) @ weights
        cut = float(np.quantile(exact, rng.uniform(0.5, 0.99)))
        docs, n_docs = topk._by_norm(acc, topk._block_maxima(acc), block_norms, norms, norm_q, left_out, cut)
        must = set(np.flatnonzero((exact >= cut) & (exact > 0)).tolist())
        assert must <= set(docs[:n_docs].tolist()), trial


def test_common_rows_round_weights_up_by_less_than_a_255th_of_the_best():
    rng = np.random.default_rng(8)
    dense = (rng.random((70, 400)) * (rng.random((70, 400)) < 0.4)).astype(np.float32)
    documents = sp.csr_matrix(dense)
    index = PrunedIndex(documents, np.arange(70), np.ones(70), "mean")
    offsets, ids, codes, scale, stored, block_norms, band, unit = index.common
    # Stored band-major, 16 documents per block: back to one row per document.
    norms = stored.transpose(0, 2, 1).reshape(-1, stored.shape[1])[:70]
    block_norms = block_norms.T
    common = np.argsort(-np.diff(documents.tocsc().indptr), kind="stable")[:topk.COMMON]
    rebuilt = np.zeros((70, topk.COMMON))
    for d in range(70):
        rebuilt[d, ids[offsets[d]:offsets[d + 1]]] = codes[offsets[d]:offsets[d + 1]] * scale[ids[offsets[d]:offsets[d + 1]]]
    real = dense[:, common].astype(np.float64)
    assert np.all(rebuilt >= real * (1 - 1e-12))
    assert np.all(rebuilt - real <= index.max_weight[common] / 255 + 1e-9)
    assert np.all((rebuilt > 0) == (real > 0))
    for b in range(len(topk.BANDS) - 1):
        in_band = real[:, topk.BANDS[b]:topk.BANDS[b + 1]]
        true = np.linalg.norm(in_band, axis=1)
        assert np.all(norms[:, b] * unit[b] >= true)
        assert np.all(norms[:, b] * unit[b] - true <= unit[b] * (1 + 1e-6))
        assert unit[b] <= true.max() / 255 * (1 + 1e-5)
    assert np.all(block_norms[4] == norms[64:70].max(axis=0))  # the ragged last block


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


def test_index_arrays_are_seen_unsigned_without_a_copy():
    from expert_match.matching.topk import _unsigned

    for dtype, unsigned in ((np.int32, np.uint32), (np.int64, np.uint64)):
        indices = np.array([0, 7, 2**31 - 1], dtype=dtype)
        view = _unsigned(indices)
        assert view.dtype == unsigned and np.shares_memory(view, indices)
        assert view.tolist() == indices.tolist()
