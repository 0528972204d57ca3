"""The integer-code counting of the fit gives exactly the term counts of the analyzer's strings."""

from __future__ import annotations

import numpy as np
import pytest

from expert_match.fixtures import read_fixture
from expert_match.matching.analysis import Analyzer
from expert_match.matching.vectorize import TermSpace, Weighting
from expert_match.matching.vocabulary import CodedVocabulary

TEXTS = [
    *(p["description"] for p in read_fixture("problems.json")[:60]),
    *(e["bio"] for e in read_fixture("experts.json")[:60]),
    "Chữ ký số\nDigital signature\nCKS\nký số từ xa",  # a skills document: no n-gram crosses a line
    "",
    "Lỗi CKS khi nộp DVCTT; máy tính không nhận USB token. Networks down!",
    "Thµnh phè §µ N½ng",  # TCVN3, decoded
]


def counts_by_term(space: TermSpace, rows, cols, counts) -> dict[tuple[int, str], float]:
    names = {column: key for key, column in space.vocabulary.items()}
    return {(int(r), names[int(c)]): float(n) for r, c, n in zip(rows, cols, counts)}


@pytest.mark.parametrize("accented", [False, True])
@pytest.mark.parametrize("ngram_max", [1, 2])
def test_codes_count_what_the_strings_count(accented, ngram_max):
    fast, slow = (TermSpace(Analyzer(ngram_max=ngram_max, stem=True, accented=accented), Weighting())
                  for _ in range(2))
    rows, cols, counts, fast.vocabulary, _ = fast._count_codes(TEXTS)
    rows2, cols2, counts2, slow.vocabulary, _ = slow._count_terms(TEXTS)
    assert counts_by_term(fast, rows, cols, counts) == counts_by_term(slow, rows2, cols2, counts2)
    assert set(fast.vocabulary) == set(slow.vocabulary)
    assert ("f|ky so" in fast.vocabulary) == (ngram_max == 2) and "f|so digital" not in fast.vocabulary


def test_fitted_vectors_match_the_query_path():
    space = TermSpace(Analyzer(ngram_max=2, stem=True), Weighting(tf="log", idf="bm25"))
    fitted = space.fit_transform(TEXTS)
    again = space._vectors_of([space._known_and_new(t) for t in TEXTS], {})  # the path of updates
    assert abs(fitted - again).max() < 1e-12


TRICKY = [
    "Hoà Vang, KHOẺ\nthuý\r\nquý  (CKS),DVCTT;ATTT-cks",
    "Ðà\u200bNẵng\u00a0phường\tHòa\u2028Cường",
    "networks' servers...USB_token\n\n\nend",
    "chuyển đổi số",  # NFD
]


@pytest.mark.parametrize("text", TEXTS + TRICKY)
def test_token_pipeline_equals_the_whole_text_steps(text):
    import unicodedata

    from expert_match.matching.analysis import _LINE_OR_TOKEN, _expand, _fold_token, _light_stem

    text = unicodedata.normalize("NFD", text) if text == "chuyển đổi số" else text
    analyzer = Analyzer(stem=True)
    reference = [_light_stem(t) for t in _expand(_LINE_OR_TOKEN.findall(analyzer.prepare(text)))]
    accented, folded = analyzer._pipeline(text)
    assert accented == reference
    assert folded == [_fold_token(t) for t in reference]


def string_path(space: TermSpace, text: str) -> dict[int, float]:
    """A text's known terms looked up one string at a time: the reference for the coded path."""
    weights: dict[int, float] = {}
    for block, terms in space.analyzer.terms(text).items():
        for term, count in terms.items():
            column = space.vocabulary.get(f"{block}|{term}")
            if column is not None:
                weights[column] = float(space.weighting.tf_weights(np.array([float(count)]))[0] * space.idf[column])
    return weights


def coded_path(space: TermSpace, text: str) -> dict[int, float]:
    columns, weights = space._weighted_terms(text, ("a", "f"))
    assert len(set(columns.tolist())) == len(columns)
    return dict(zip(columns.tolist(), weights.tolist()))


NEW = ["Blockchain zkrollup cho phường Hòa Khánh\nzkrollup", "máy chủ quantumx, zkrollup chữ ký số"]


@pytest.mark.parametrize("accented", [False, True])
def test_the_coded_vocabulary_finds_the_terms_the_strings_find_before_and_after_updates(accented):
    space = TermSpace(Analyzer(ngram_max=2, stem=True, accented=accented), Weighting(tf="log"))
    space.fit_transform(TEXTS)
    assert isinstance(space.vocabulary, CodedVocabulary)
    queries = TEXTS[:20] + TRICKY + NEW + ["", "\n\n", "zkrollup"]
    for text in queries:
        assert coded_path(space, text) == pytest.approx(string_path(space, text)), text
    updated, _, _, _ = space.extended(NEW)
    assert not isinstance(updated.vocabulary, CodedVocabulary)  # the new terms sit on top
    new_columns = set(range(len(space.vocabulary), len(updated.vocabulary)))
    assert {updated.term_text(c) for c in new_columns} >= {"zkrollup", "zkrollup cho"}
    for text in queries:
        expected = string_path(updated, text)
        assert coded_path(updated, text) == pytest.approx(expected), text
    assert set(coded_path(updated, NEW[1])) & new_columns  # a new word and its bigrams are found
    assert "zkrollup" in updated.words("f") and "zkrollup" not in space.words("f")
    assert "ky so" not in space.words("f") and "so" in space.words("f")


def test_coded_terms_read_back_and_subset_keeps_their_order():
    space = TermSpace(Analyzer(ngram_max=2), Weighting())
    space.fit_transform(TEXTS[:10])
    vocabulary = space.vocabulary
    keys = list(vocabulary)
    assert [vocabulary[key] for key in keys] == list(range(len(vocabulary)))
    assert all(space.term_text(column) == key.split("|", 1)[1] for column, key in enumerate(keys))
    keep = np.arange(0, len(vocabulary), 3)
    smaller = vocabulary.subset(keep)
    assert list(smaller) == [keys[i] for i in keep]
    assert vocabulary.get("f|not-a-word-at-all") is None and "x|so" not in vocabulary


def test_a_pickled_space_looks_terms_up_with_the_token_ids_it_was_fitted_with():
    import pickle
    import subprocess
    import sys
    import textwrap

    space = TermSpace(Analyzer(ngram_max=2), Weighting())
    space.fit_transform(TEXTS[:10])
    text = TEXTS[3]
    expected = coded_path(space, text)
    # A fresh process has another token table (its ids are given in another order).
    script = textwrap.dedent(f"""
        import pickle, sys
        from expert_match.matching.analysis import TOKEN_IDS
        TOKEN_IDS.of(("zzz", "yyy", "xxx"))
        space = pickle.loads(sys.stdin.buffer.read())
        columns, weights = space._weighted_terms({text!r}, ("a", "f"))
        print(repr(dict(zip(columns.tolist(), weights.tolist()))))
    """)
    out = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(space), capture_output=True, check=True)
    assert eval(out.stdout.decode()) == pytest.approx(expected)


def test_find_through_the_hash_table_equals_a_plain_search():
    from expert_match.matching.vocabulary import MAX_LOAD, _find, _hash_table

    rng = np.random.default_rng(3)
    # Sizes around the table's growth points (it doubles once 3/4 full), consecutive codes
    # (unigrams are small consecutive ids) and a table filled to exactly its load limit.
    for size in (0, 1, 11, 12, 13, 48, 49, 1_000, 6_144):
        for codes in (np.unique(rng.integers(5, 10**12, size=size * 2))[:size].astype(np.int64),
                      np.arange(1, size + 1, dtype=np.int64)):
            keys, ranks, shift = _hash_table(codes)
            assert len(codes) <= MAX_LOAD * len(keys)
            probes = np.concatenate([codes, codes + 1, codes - 1, [0, 4, 10**12 + 1]]).astype(np.int64)
            for code in probes.tolist():
                at = int(np.searchsorted(codes, code))
                expected = at if at < len(codes) and codes[at] == code else -1
                assert _find(keys, ranks, shift, code) == expected, (size, code)


def test_forget_texts_makes_the_next_analysis_start_again():
    from expert_match.matching import analysis

    analyzer = Analyzer()
    text = "Lỗi CKS khi nộp DVCTT tại phường Hòa Cường"
    first = analyzer.terms(text)
    assert analyzer.terms(text) is first  # cached
    analysis.forget_texts()
    again = analyzer.terms(text)
    assert again is not first and again == first


def reference_normalized_sum(columns, values, block_of_term, weights):
    """Summed per column, each block to unit length times its weight, zeros dropped (numpy)."""
    unique, position = np.unique(columns, return_inverse=True)
    summed = np.bincount(position, weights=values, minlength=len(unique))
    block = block_of_term[unique]
    for b, weight in enumerate(weights):
        norm = np.sqrt(np.sum(summed[block == b] ** 2))
        summed[block == b] = summed[block == b] * (weight / norm) if norm > 0 else 0.0
    return unique[summed != 0], summed[summed != 0]


@pytest.mark.parametrize("seed", range(20))
def test_a_query_is_summed_per_column_and_normalised_per_block(seed):
    from expert_match.matching.vectorize import _normalized_sum

    rng = np.random.default_rng(seed)
    block_of_term = rng.integers(0, 2, 50).astype(np.int8)
    n = int(rng.integers(0, 80))
    columns = rng.integers(0, 50, n).astype(np.int64)  # repeats: the text and its expansions
    values = rng.random(n) * (rng.random(n) > 0.1)  # some zeros
    weights = [(0.5, 0.5), (0.0, 1.0), (1.0, 0.0)][seed % 3]
    unique, summed = _normalized_sum(columns, values, block_of_term, *weights)
    expected_columns, expected = reference_normalized_sum(columns, values, block_of_term, weights)
    assert unique.tolist() == expected_columns.tolist()
    assert summed == pytest.approx(expected, rel=1e-12)
    for b, weight in enumerate(weights):  # each block used has length ``weight``
        in_block = block_of_term[unique] == b
        if in_block.any():
            assert np.sqrt(np.sum(summed[in_block] ** 2)) == pytest.approx(weight)


def test_stream_columns_are_counted_in_column_order():
    from expert_match.matching.vocabulary import _count_columns

    words = np.array([5, -1, 3, 5, 9, -1], dtype=np.int64)
    pairs = np.array([-1, 7, 3, -1, -1, -1], dtype=np.int64)
    columns, counts = _count_columns(words, pairs)
    assert columns.tolist() == [3, 5, 7, 9] and counts.tolist() == [2.0, 2.0, 1.0, 1.0]
    empty = np.full(3, -1, dtype=np.int64)
    assert _count_columns(empty, empty)[0].tolist() == []


def test_updates_and_queries_never_name_every_fitted_term(monkeypatch):
    """An updated space's length is counted from its layers: ``ChainMap.__len__`` iterated the
    whole coded vocabulary (0.7 s at 10,000 tickets) on every query after the first update."""
    from expert_match.matching.ranker import ExpertRanker
    from expert_match.matching.profiles import Document, ExpertProfile

    ranker = ExpertRanker().fit([ExpertProfile(i, (Document(text),)) for i, text in enumerate(TEXTS[:40], 1)])
    assert isinstance(ranker.space_.vocabulary, CodedVocabulary)
    fitted_size = len(ranker.space_.vocabulary)

    def no_iteration(self):
        raise AssertionError("every fitted term was named")

    monkeypatch.setattr(CodedVocabulary, "__iter__", no_iteration)
    for round_ in range(12):  # past MAX_LAYERS, so the added layers are merged on the way
        ranker = ranker.updated([ExpertProfile(100 + round_, (Document(f"{NEW[round_ % 2]} mới{round_}x"),))])
    vocabulary = ranker.space_.vocabulary
    added = [key for layer in vocabulary.maps[:-1] for key in layer]
    assert len(added) == len(set(added)) and len(vocabulary) == fitted_size + len(added)
    assert sorted(vocabulary[key] for key in added) == list(range(fitted_size, len(vocabulary)))
    top = ranker.top_text("zkrollup quantumx mới11x", k=3)
    assert top[0] == 111


def coverage_term_by_term(space: TermSpace, text: str, blocks=("f",)) -> float:
    """The coverage's definition, one vocabulary lookup per term."""
    rarest = float(space.idf.max())
    known = total = 0.0
    for block, terms in space.analyzer.terms(text).items():
        for term, count in terms.items() if block in blocks else ():
            column = space.vocabulary.get(f"{block}|{term}")
            weight = float(space.weighting.tf_weights(np.array([float(count)]))[0])
            weight *= space.idf[column] if column is not None else rarest
            total += weight * weight
            known += weight * weight if column is not None else 0.0
    return float(np.sqrt(known / total)) if total > 0 else 0.0


@pytest.mark.parametrize("tf", ["log", "bm25"])
def test_coverage_counts_the_unknown_terms_as_the_definition_does(tf):
    space = TermSpace(Analyzer(ngram_max=2, stem=True), Weighting(tf=tf, idf="bm25"))
    space.fit_transform(TEXTS[:30])
    updated, _, _, _ = space.extended(NEW)
    for current in (space, updated):
        for text in TEXTS[25:] + TRICKY + NEW + ["", "\n", "zkrollup quantumx", TEXTS[3]]:
            assert current.coverage(text) == pytest.approx(coverage_term_by_term(current, text), abs=1e-9), text
    assert space.coverage(TEXTS[3]) == 1.0 and space.coverage("zkrollup quantumx") == 0.0
    assert updated.coverage(NEW[1]) == 1.0 > space.coverage(NEW[1]) > 0.0


def vectors_term_by_term(space: TermSpace, texts: list[str]):
    """Document vectors and (unknown, total) occurrences, one vocabulary lookup per term."""
    import scipy.sparse as sp

    rows, cols, counts = [], [], []
    unknown = total = 0
    for row, text in enumerate(texts):
        for block, terms in space.analyzer.terms(text).items():
            for term, count in terms.items():
                rows.append(row)
                cols.append(space.vocabulary[f"{block}|{term}"])
                counts.append(count)
                total += count
                unknown += count if cols[-1] >= space.fitted_terms else 0
    matrix = sp.csr_matrix((np.asarray(counts, dtype=np.float64), (rows, cols)),
                           shape=(len(texts), len(space.vocabulary)))
    return space._weigh(matrix, (1.0, 1.0)), unknown, total


@pytest.mark.parametrize("accented", [False, True])
def test_extending_a_space_twice_vectorises_as_the_terms_say(accented):
    space = TermSpace(Analyzer(ngram_max=2, stem=True, accented=accented), Weighting(tf="log", idf="bm25"))
    space.fit_transform(TEXTS[:40])
    batches = [NEW + TEXTS[40:45], [NEW[0] + " lần hai", "quantumx zkrollup\nzkrollup", TEXTS[2], ""]]
    for texts in batches:
        before = len(space.vocabulary)
        space, fresh, unknown, total = space.extended(texts)
        expected, expected_unknown, expected_total = vectors_term_by_term(space, texts)
        assert fresh.shape == expected.shape and abs(fresh - expected).max() < 1e-12
        assert (unknown, total) == (expected_unknown, expected_total) and unknown > 0
        assert len(space.vocabulary) > before
    assert space.vocabulary["f|zkrollup"] < len(space.vocabulary) - 2  # known from the first batch
