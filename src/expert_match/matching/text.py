"""Vietnamese text keys: NFC cleaning, one tone-mark placement, and diacritic folding.

Measured pitfalls behind each step are in ``shared/research/vietnamese.md`` §1: NFD input splits
tokens at combining marks, "hoà" and "hòa" are different code points in every normal form, "đ" has
no Unicode decomposition, and look-alike letters (Ð, ð) or invisible characters break equality.

Examples
--------
>>> fold("Chuyển Đổi Số")
'chuyen doi so'
>>> normalize("Hoà Vang") == normalize("Hòa Vang") == "hòa vang"
True
>>> fold_key("chữ kí số") == fold_key("Chữ ký số") == "chu ki so"
True
"""

from __future__ import annotations

import re
import unicodedata

# Look-alikes of Đ/đ (Eth, African D) and characters that are invisible but break equality.
_CLEAN = str.maketrans(
    {
        "\u00d0": "\u0110",  # Ð LATIN CAPITAL LETTER ETH -> Đ
        "\u0189": "\u0110",  # Ɖ LATIN CAPITAL LETTER AFRICAN D -> Đ
        "\u00f0": "\u0111",  # ð LATIN SMALL LETTER ETH -> đ
        "\u00a0": " ",  # no-break space
        "\u2007": " ",
        "\u202f": " ",
        "\u200b": None,  # zero-width space
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,  # byte-order mark
    }
)
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
# "New style" puts the tone on the second vowel of the open rhymes oa, oe, uy (hoà, khoẻ, thuý).
# The look-ahead keeps closed syllables (hoàng, thuyền) and the (?<![qQ]) keeps "quý" intact.
_NEW_STYLE = re.compile(
    r"(?<![qQ])([oOuU])([aeyAEY])([" + _TONE_MARKS + r"])(?![^\W\d_]|[\u0300-\u036f])"
)
_OPEN_PAIRS = {"o": "aeAE", "O": "aeAE", "u": "yY", "U": "yY"}
_D_TO_ASCII = str.maketrans({"đ": "d", "Đ": "D"})
# i/y spellings in official use for the same syllable (kỹ/kĩ, lý/lí); only for fuzzy keys.
_Y_AFTER_ONSET = re.compile(r"\b(ngh|ch|gh|kh|ng|nh|ph|th|tr|[bcdghklmnprstvx])y\b")
_QUI = re.compile(r"\bqui\b")
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """NFC-compose ``text`` and replace look-alike and invisible characters.

    Apply this first to every string that enters the system.

    >>> import unicodedata
    >>> nfc(unicodedata.normalize("NFD", "Chuyển đổi số")) == "Chuyển đổi số"
    True
    >>> nfc("Ðà\\u200bNẵng")
    'ĐàNẵng'
    """
    return unicodedata.normalize("NFC", text).translate(_CLEAN)


def clean_text(text: str) -> str:
    """``nfc`` plus trimmed ends and single spaces: the form in which short fields are stored.

    >>> clean_text("  Phường\\u00a0 Hòa   Cường Bắc ")
    'Phường Hòa Cường Bắc'
    """
    return _SPACES.sub(" ", nfc(text)).strip()


def tone_old_style(text: str) -> str:
    """Move tone marks of oa/oe/uy to the first vowel ("hoà" -> "hòa", "thuý" -> "thúy").

    >>> tone_old_style("Hoà Quý, khoẻ, thuỷ, hoàng")
    'Hòa Quý, khỏe, thủy, hoàng'
    """

    def swap(match: re.Match[str]) -> str:
        first, second, tone = match.groups()
        if second in _OPEN_PAIRS[first]:
            return first + tone + second
        return match.group(0)

    decomposed = unicodedata.normalize("NFD", nfc(text))
    return unicodedata.normalize("NFC", _NEW_STYLE.sub(swap, decomposed))


def normalize(text: str) -> str:
    """Canonical accented key: NFC, old-style tones, case-folded.

    >>> normalize("Thuỷ KHOẺ")
    'thủy khỏe'
    """
    return tone_old_style(text).casefold()


def fold(text: str) -> str:
    """Drop every diacritic (and map đ to d), case-folded.

    >>> fold("ĐÀ NẴNG") == fold("Ðà Nẵng") == "da nang"
    True
    """
    decomposed = unicodedata.normalize("NFD", nfc(text).translate(_D_TO_ASCII))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare).casefold()


def fold_key(text: str) -> str:
    """Key for fuzzy lookups: ``fold`` plus i/y unification, punctuation removed, spaces collapsed.

    >>> fold_key("Qui định (TTHC)") == fold_key("quy dinh tthc") == "quy dinh tthc"
    True
    """
    folded = re.sub(r"[^\w]+", " ", fold(text).replace("_", " "))
    folded = _QUI.sub("quy", _Y_AFTER_ONSET.sub(r"\1i", folded))
    return _SPACES.sub(" ", folded).strip()
