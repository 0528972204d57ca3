"""The integer-code counting of the fit gives exactly the term counts of the analyzer's strings."""

from __future__ import annotations

import pytest

from expert_match.fixtures import read_fixture
from expert_match.matching.analysis import Analyzer
from expert_match.matching.vectorize import TermSpace, Weighting

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
    again = space._document_vectors(TEXTS)  # the per-text Counter path used for updates
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
