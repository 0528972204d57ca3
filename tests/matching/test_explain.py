"""An explanation's accented spellings: looking up only the shown terms gives what spelling every
term of the expert's texts gives."""

from __future__ import annotations

import random

from expert_match.fixtures import read_fixture
from expert_match.matching.analysis import FOLDED, Analyzer
from expert_match.matching.explain import accented_forms


def expert_texts(expert: dict) -> list[str]:
    return [expert["headline"], expert["bio"], "\n".join(skill["name"] for skill in expert["skills"])]


def test_the_wanted_terms_are_spelled_as_in_the_full_table():
    analyzer = Analyzer()
    rng = random.Random(2026)
    checked = bigrams = 0
    for expert in read_fixture("experts.json")[:80]:
        texts = expert_texts(expert)
        full = accented_forms(texts, analyzer)
        # Shown terms: some of the expert's own (the first spelling met anywhere in the texts),
        # and some the expert never wrote, which get none.
        wanted = rng.sample(sorted(full), min(8, len(full))) + ["khong co tu nay", "zzz"]
        got = accented_forms(texts, analyzer, wanted=wanted)
        assert got == {key: full[key] for key in wanted if key in full}, expert["email"]
        assert list(got) == [key for key in wanted if key in full]  # in the order asked
        checked += len(got)
        bigrams += sum(" " in key for key in got)
    assert checked > 300 and bigrams > 100


def test_a_term_is_spelled_where_it_first_occurs():
    texts = ["Hệ thống thông tin", "thong tin dia ly; thông tín", "Thống kê"]
    got = accented_forms(texts, Analyzer(), wanted=["thong tin", "thong", "tin", "dia ly", "thong ke"])
    assert got == {"thong tin": "thông tin", "thong": "thống", "tin": "tin", "dia ly": "dia ly",
                   "thong ke": "thống kê"}


def test_skill_names_are_tested_against_the_problems_folded_terms_as_counted():
    """``folded_terms`` (what explanations test skill names against) is the folded block of
    ``terms``, over the fixtures' problems and profiles: NFD, legacy encodings and line breaks."""
    analyzer = Analyzer(ngram_max=3)
    texts = [f"{p['title']}\n{p['description']}" for p in read_fixture("problems.json")]
    texts += ["\n".join(expert_texts(e)) for e in read_fixture("experts.json")[:40]]
    texts += ["Chu\u0309 ky\u0301 số\n\nlỗi", "Chuyeån ñoåi soá", ""]
    for text in texts:
        assert analyzer.folded_terms(text) == set(analyzer.terms(text)[FOLDED]), text
