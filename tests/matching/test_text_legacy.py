"""The test strings of research/vietnamese.md §1.2, plus abbreviations."""

import unicodedata

from expert_match.matching.analysis import Analyzer
from expert_match.matching.text import (
    detect_legacy,
    fix_legacy,
    fold,
    fold_key,
    nfc,
    normalize,
    tone_old_style,
)


def test_research_test_strings():
    assert nfc(unicodedata.normalize("NFD", "Chuyển đổi số")) == "Chuyển đổi số"
    assert normalize("Hoà Vang") == normalize("Hòa Vang") == "hòa vang" and normalize("Thuỷ KHOẺ") == "thủy khỏe"
    assert all(tone_old_style(w) == w for w in ["quý", "hoàng", "khuya", "thuyền", "hoặc", "người", "khuỵu"])
    assert fold("ĐÀ NẴNG") == fold("Ðà Nẵng") == fold(unicodedata.normalize("NFD", "Đà Nẵng")) == "da nang"
    assert fold_key("chữ kí số") == fold_key("Chữ ký số") == "chu ki so" and fold_key("qui định") == fold_key("quy định")
    assert fix_legacy("Thµnh phè §µ N½ng") == fix_legacy("Thaønh phoá Ñaø Naüng") == "Thành phố Đà Nẵng"
    assert fix_legacy("ph\u00adêng Hßa C\u00adêng") == "phường Hòa Cường"
    assert detect_legacy("Café crème brûlée à São Paulo") == "unknown"
    assert detect_legacy("chuyen doi so") == "unknown" and detect_legacy("Nhiệt độ 30°C") == "unicode"


def test_legacy_text_in_a_ticket_is_decoded_whole():
    assert fix_legacy("Lçi ch÷ ký sè trªn m¸y tÝnh") == "Lỗi chữ ký số trên máy tính"


def test_abbreviations_expand_whatever_the_case_or_accents():
    analyzer = Analyzer()
    assert analyzer.tokens("loi CKS")[1] == ["loi", "cks", "chu", "ky", "so"]
    assert analyzer.tokens("CĐS cấp phường")[0] == ["cđs", "chuyển", "đổi", "số", "cấp", "phường"]
    assert analyzer.tokens("ANTT")[0] == ["antt"]  # ambiguous: left alone
    assert analyzer.tokens("docks")[0] == ["docks"]  # whole words only
