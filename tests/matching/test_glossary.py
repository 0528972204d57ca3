"""The glossary finds a skill name wherever its words appear in sequence, and nowhere else."""

from __future__ import annotations

from expert_match.fixtures import read_fixture
from expert_match.matching.analysis import Analyzer, has_diacritics
from expert_match.matching.bilingual import TERMS
from expert_match.matching.glossary import MIN_SINGLE_WORD, Glossary
from expert_match.matching.profiles import SkillEvidence


def naive_found(glossary: Glossary, analyzer: Analyzer, text: str) -> list[int]:
    """Every entry with a name whose words occur in sequence: all names against all positions."""
    accented = has_diacritics(text)
    words = analyzer.tokens(text)[0 if accented else 1]
    hits = set()
    for index, names in enumerate(glossary._names):
        for name in names:
            tokens = tuple(analyzer.tokens(name)[0 if accented else 1])
            if not tokens or (len(tokens) == 1 and len(tokens[0]) < MIN_SINGLE_WORD):
                continue
            if any(tuple(words[i:i + len(tokens)]) == tokens for i in range(len(words))):
                hits.add(index)
    return sorted(hits)


def test_found_equals_matching_every_name_at_every_position():
    analyzer = Analyzer()
    glossary = Glossary(analyzer, [SkillEvidence(words[0], words[1:]) for words in TERMS])
    texts = [p["description"] for p in read_fixture("problems.json")[:80]]
    texts += ["chu ky so va chu ky so tu xa", "Chữ ký số; digital signature token", "GIS", "so"]
    total = 0
    for text in texts:
        found = glossary.found(text)
        assert found == naive_found(glossary, analyzer, text), text
        total += len(found)
    assert total > 20  # the texts do name skills


def test_names_sharing_their_first_two_words_are_checked_in_full():
    analyzer = Analyzer()
    glossary = Glossary(analyzer, [
        SkillEvidence("An toàn", ()), SkillEvidence("An toàn thông tin", ("ATTT",)),
        SkillEvidence("An toàn thông tin mạng", ()), SkillEvidence("thông tin địa lý", ("GIS",)),
    ])
    texts = ["an toàn thông tin", "an toàn thông", "an toàn thông tin mạng lưới", "an toàn, thông tin mạng",
             "thông tin địa", "hệ thống thông tin địa lý và an toàn", "an toan thong tin mang"]
    for text in texts:
        assert glossary.found(text) == naive_found(glossary, analyzer, text), text
    assert glossary.found("an toàn thông") == [0]
    assert glossary.found("an toàn thông tin mạng") == [0, 1, 2]
