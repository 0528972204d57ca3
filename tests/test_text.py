"""Vietnamese text keys (matching/text.py), with the pitfalls measured in research/vietnamese.md §1."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expert_match.matching.text import clean_text, fold, fold_key, nfc, normalize, tone_old_style


def test_nfc_composes_nfd_input():
    nfd = unicodedata.normalize("NFD", "Chuyển đổi số")
    assert len(nfd) > len("Chuyển đổi số")
    assert nfc(nfd) == "Chuyển đổi số"


@pytest.mark.parametrize("lookalike", ["Ðà Nẵng", "\u0189à Nẵng"])
def test_nfc_replaces_lookalike_d(lookalike):
    assert nfc(lookalike) == "Đà Nẵng"


def test_nfc_drops_invisible_characters_and_nbsp():
    assert nfc("\ufeffĐà\u200b Nẵng\u00a0city") == "Đà Nẵng city"


def test_clean_text_collapses_spaces():
    assert clean_text("  Phường \t Hòa   Cường Bắc \n") == "Phường Hòa Cường Bắc"


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [("hoà", "hòa"), ("Hoà Vang", "Hòa Vang"), ("thuý", "thúy"), ("khoẻ", "khỏe"), ("uỷ ban", "ủy ban")],
)
def test_tone_marks_move_to_the_old_style_position(new_style, old_style):
    assert tone_old_style(new_style) == old_style
    assert normalize(new_style) == normalize(old_style)


@pytest.mark.parametrize("word", ["quý", "hoàng", "khuya", "thuyền", "hoặc", "người", "khuỵu"])
def test_tone_placement_leaves_closed_syllables_alone(word):
    assert tone_old_style(word) == word


def test_fold_maps_d_bar_which_unicode_does_not_decompose():
    assert unicodedata.decomposition("đ") == ""
    assert fold("Đổi số ĐÀ NẴNG") == "doi so da nang"


def test_fold_is_the_same_for_accented_nfd_and_lookalike_input():
    forms = ["Đà Nẵng", "ĐÀ NẴNG", "Ðà Nẵng", unicodedata.normalize("NFD", "Đà Nẵng")]
    assert {fold(f) for f in forms} == {"da nang"}


def test_fold_key_unifies_i_and_y_spellings_and_punctuation():
    assert fold_key("chữ kí số") == fold_key("Chữ ký số") == fold_key("CHU KY SO") == "chu ki so"
    assert fold_key("qui định") == fold_key("quy định")
    assert fold_key("Số hóa hồ sơ, tài liệu") == "so hoa ho so tai lieu"


def test_fold_key_keeps_distinct_words_distinct():
    assert fold_key("cấp") == fold_key("cáp")  # folding is lossy by design (research §1) ...
    assert normalize("cấp") != normalize("cáp")  # ... which is why the accented key is kept too


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
       | st.text(alphabet="aăâeêioôơuưyđĐ\u0300\u0301\u0303\u0309\u0323\u0306\u0302\u031b ÀỰ\u0951\u05b0", max_size=40))
def test_fold_drops_exactly_the_combining_marks(text):
    """The mark table gives what testing each character's category gives, on any text."""
    decomposed = unicodedata.normalize("NFD", nfc(text).translate(str.maketrans({"đ": "d", "Đ": "D"})))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    assert fold(text) == unicodedata.normalize("NFC", bare).casefold()


def _whole_text_key(text):
    """``fold_key`` as defined: every step on the whole text at once."""
    folded = re.sub(r"[^\w]+", " ", fold(text).replace("_", " "))
    folded = re.sub(r"\bqui\b", "quy", re.sub(r"\b(ngh|ch|gh|kh|ng|nh|ph|th|tr|[bcdghklmnprstvx])y\b", r"\1i", folded))
    return re.sub(r"\s+", " ", folded).strip()


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
       | st.text(alphabet="qukhngtyiaăâđĐ_-.,( \t\n\u00a0\u2007\u202f\u200b\u0301\u0323Ðÿß", max_size=60)
       | st.lists(st.sampled_from(["Qui", "định", "kỹ", "ký", "thuật", "quy", "my", "Tây", "(TTHC)", "nghỵ",
                                   "a_b", "ky-so", "\u0301y", "ĐÀ", "ﬁ", "½", "\u00a0", "\u200b"]),
                  max_size=12).map(" ".join))
def test_fold_key_chunk_by_chunk_equals_the_whole_text_key(text):
    """Keying each whitespace-free chunk (cached) and joining gives the whole text's key."""
    assert fold_key(text) == _whole_text_key(text)
    assert fold_key(text) == _whole_text_key(text)  # again, from the cache


def test_fold_key_cache_stays_bounded(monkeypatch):
    from expert_match.matching import text as text_module

    monkeypatch.setattr(text_module, "_CHUNK_KEYS_SIZE", 50)
    for number in range(200):
        assert fold_key(f"Chữ-ký số{number}") == f"chu ki so{number}"
    assert len(text_module._CHUNK_KEYS) <= 52
