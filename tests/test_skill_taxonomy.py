"""Free-text skill normalisation onto the canonical taxonomy (pure, no database)."""

import unicodedata

import pytest

from expert_match.experts.skills import SkillEntry, SkillTaxonomy

ENTRIES = [
    SkillEntry(1, "cybersecurity", "An toàn thông tin", "Information security",
               ("ATTT", "an ninh mạng", "cyber security")),
    SkillEntry(2, "digital-signature", "Chữ ký số", "Digital signature", ("CKS", "ký số từ xa", "USB token")),
    SkillEntry(3, "online-public-services", "Dịch vụ công trực tuyến", "Online public services", ("DVCTT", "DVC")),
    SkillEntry(4, "lgsp", "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)", "Local government service platform",
               ("LGSP",)),
    SkillEntry(5, "css", "Thiết kế CSS", "CSS styling", ("CSS",)),
]


@pytest.fixture
def taxonomy():
    return SkillTaxonomy(ENTRIES)


@pytest.mark.parametrize(
    "text",
    ["an toan thong tin", "An toàn thông tin", "ATTT", "attt", "information security", "Information Security",
     unicodedata.normalize("NFD", "An toàn thông tin"), "cybersecurity", "thong tin an toan"],
)
def test_security_spellings_map_to_one_skill(taxonomy, text):
    assert taxonomy.resolve(text).slug == "cybersecurity"


@pytest.mark.parametrize("text", ["chu ki so", "chữ ký số", "Chữ kí số", "CKS", "digital signature", "CHU KY SO"])
def test_signature_spellings_map_to_one_skill(taxonomy, text):
    resolution = taxonomy.resolve(text)
    assert resolution.slug == "digital-signature"
    assert resolution.method == "exact"


@pytest.mark.parametrize(("text", "slug"), [("DVCTT", "online-public-services"), ("LGSP", "lgsp"),
                                             ("dich vu cong truc tuyen", "online-public-services")])
def test_abbreviations_and_unaccented_names(taxonomy, text, slug):
    assert taxonomy.resolve(text).slug == slug


def test_typos_are_matched_fuzzily_with_a_score(taxonomy):
    resolution = taxonomy.resolve("Infomation securty")
    assert resolution.slug == "cybersecurity"
    assert resolution.method == "fuzzy"
    assert 88 <= resolution.score < 100


def test_unknown_skill_is_reported_not_dropped(taxonomy):
    resolution = taxonomy.resolve("Lập trình PLC")
    assert resolution.known is False
    assert resolution.method == "unknown"
    assert resolution.text == "Lập trình PLC"


def test_short_abbreviations_never_fuzz_into_another(taxonomy):
    # "CKSS" is one edit from "CKS" and from "CSS": too short to guess, so it stays free text.
    assert taxonomy.resolve("CKSS").known is False


def test_suggestions_rank_closest_first_one_per_skill(taxonomy):
    suggestions = taxonomy.suggest("an toan", limit=3)
    assert suggestions[0].slug == "cybersecurity"
    assert len({s.slug for s in suggestions}) == len(suggestions)
