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
_CLEAN_FOUND = re.compile("[" + "".join(chr(c) for c in _CLEAN) + "]")
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
# "New style" puts the tone on the second vowel of the open rhymes oa, oe, uy (hoà, khoẻ, thuý).
# The look-ahead keeps closed syllables (hoàng, thuyền) and the (?<![qQ]) keeps "quý" intact.
_NEW_STYLE = re.compile(
    r"(?<![qQ])([oOuU])([aeyAEY])([" + _TONE_MARKS + r"])(?![^\W\d_]|[\u0300-\u036f])"
)
_OPEN_PAIRS = {"o": "aeAE", "O": "aeAE", "u": "yY", "U": "yY"}


class _MarkTable(dict):
    """Code point -> None for a combining mark (category Mn), else itself; filled as characters
    are met, so ``str.translate`` drops the marks at C speed: folding a load-test ticket (which
    filing does for its duplicate key) went from 0.18 to 0.13 ms, the rest being NFC and NFD."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code)) == "Mn" else code
        self[code] = kept
        return kept


_WITHOUT_MARKS = _MarkTable()
# i/y spellings in official use for the same syllable (kỹ/kĩ, lý/lí); only for fuzzy keys.
_Y_AFTER_ONSET = re.compile(r"\b(ngh|ch|gh|kh|ng|nh|ph|th|tr|[bcdghklmnprstvx])y\b")
_QUI = re.compile(r"\bqui\b")
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")


def nfc(text: str) -> str:
    """NFC-compose ``text`` and replace look-alike and invisible characters.

    Apply this first to every string that enters the system.

    >>> import unicodedata
    >>> nfc(unicodedata.normalize("NFD", "Chuyển đổi số")) == "Chuyển đổi số"
    True
    >>> nfc("Ðà\\u200bNẵng")
    'ĐàNẵng'
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    # str.translate with a mapping is slow on non-ASCII text; most text has nothing to replace.
    return text.translate(_CLEAN) if _CLEAN_FOUND.search(text) else text


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
    # Two replaces, not ``str.translate``: a translation table costs a dict lookup per character
    # of non-ASCII text (64 against 4 us for an 850-character problem).
    undotted = nfc(text).replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", undotted)
    return unicodedata.normalize("NFC", decomposed.translate(_WITHOUT_MARKS)).casefold()


def fold_key(text: str) -> str:
    """Key for fuzzy lookups: ``fold`` plus i/y unification, punctuation removed, spaces collapsed.

    Each whitespace-free chunk is keyed once per process and the keys joined: every step is
    local to a chunk (``_chunk_key`` of the whole text gives the same key; a property test holds
    them equal). Filing keys its whole problem for duplicate detection; chunk by chunk, that went
    from 0.37 to 0.05 ms for an 850-character problem.

    >>> fold_key("Qui định (TTHC)") == fold_key("quy dinh tthc") == "quy dinh tthc"
    True
    """
    if len(_CHUNK_KEYS) > _CHUNK_KEYS_SIZE:  # bounded: unusual input must not grow it forever
        _CHUNK_KEYS.clear()
    keys = []
    for chunk in text.split():
        key = _CHUNK_KEYS.get(chunk)
        if key is None:
            key = _CHUNK_KEYS[chunk] = _chunk_key(chunk)
        if key:
            keys.append(key)
    return " ".join(keys)


_CHUNK_KEYS: dict[str, str] = {}
_CHUNK_KEYS_SIZE = 200_000


def _chunk_key(text: str) -> str:
    folded = _NON_WORD.sub(" ", fold(text).replace("_", " "))
    folded = _QUI.sub("quy", _Y_AFTER_ONSET.sub(r"\1i", folded))
    return _SPACES.sub(" ", folded).strip()


# --- Legacy 8-bit Vietnamese (TCVN3/ABC and VNI-Windows fonts read as Latin-1) -----------------
# TCVN3: 67 lowercase letters and 7 capitals, one Latin-1 character each (same table as glibc's
# iconv TCVN5712-1). The soft hyphen U+00AD is the letter "ư" here, which is why legacy text is
# decoded before invisible characters are cleaned.
_TCVN3_SRC = "¸µ¶·¹¨¾»¼½Æ©ÊÇÈÉË®ÐÌÎÏÑªÕÒÓÔÖÝ×ØÜÞãßáâä«èåæçé¬íêëìîóïñòô\u00adøõö÷ùýúûüþ¡¢§£¤¥¦"
_TCVN3_DST = "áàảãạăắằẳẵặâấầẩẫậđéèẻẽẹêếềểễệíìỉĩịóòỏõọôốồổỗộơớờởỡợúùủũụưứừửữựýỳỷỹỵĂÂĐÊÔƠƯ"
_TCVN3 = str.maketrans(_TCVN3_SRC, _TCVN3_DST)
# VNI: a base vowel followed by a Latin-1 "mark" character; ơ, ư, đ and some i/y forms are single.
_VNI_MARKS = {
    "ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323",
    "â": "\u0302", "á": "\u0302\u0301", "à": "\u0302\u0300", "å": "\u0302\u0309", "ã": "\u0302\u0303",
    "ä": "\u0302\u0323", "ê": "\u0306", "é": "\u0306\u0301", "è": "\u0306\u0300", "ú": "\u0306\u0309",
    "ü": "\u0306\u0303", "ë": "\u0306\u0323",
}
_VNI_MARKS.update({k.upper(): v for k, v in list(_VNI_MARKS.items())})
_VNI_SINGLE = {"ô": "ơ", "ö": "ư", "ñ": "đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ"}
_VNI_SINGLE.update({k.upper(): v.upper() for k, v in list(_VNI_SINGLE.items())})
_VNI = re.compile("([aeiouyAEIOUYôöÔÖ])([" + "".join(_VNI_MARKS) + "])|([" + "".join(_VNI_SINGLE) + "])")
_VIETNAMESE_LETTER = re.compile("[ĂăĐđĨĩŨũƠơƯư\u1ea0-\u1ef9]")
_TCVN3_SIGN = re.compile("[µ¸¶·¹¨¾»¼½©®ª×ÇÐÞß«¬\u00ad÷þ¡¢§£¤¥¦]")
_VNI_SIGN = re.compile("[aeouyAEOUY][ùøûõïÙØÛÕÏ]|[ñÑ][aeiouyAEIOUY]")


def detect_legacy(text: str) -> str:
    """Which encoding ``text`` was typed in: ``"unicode"``, ``"tcvn3"``, ``"vni"`` or ``"unknown"``.

    >>> detect_legacy("Thµnh phè §µ N½ng"), detect_legacy("Thaønh phoá Ñaø Naüng")
    ('tcvn3', 'vni')
    >>> detect_legacy("chuyen doi so"), detect_legacy("Café crème à São Paulo"), detect_legacy("Đà Nẵng")
    ('unknown', 'unknown', 'unicode')
    """
    if _VIETNAMESE_LETTER.search(text):
        return "unicode"
    tcvn3, vni = len(_TCVN3_SIGN.findall(text)), len(_VNI_SIGN.findall(text))
    if max(tcvn3, vni) < 2:
        return "unknown"  # ASCII, unaccented Vietnamese, or another Latin-script language
    return "tcvn3" if tcvn3 > vni else "vni"


def decode_tcvn3(text: str) -> str:
    return text.translate(_TCVN3)


def decode_vni(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(3):
            return _VNI_SINGLE[match.group(3)]
        base = _VNI_SINGLE.get(match.group(1), match.group(1))
        return unicodedata.normalize("NFC", base + _VNI_MARKS[match.group(2)])

    return _VNI.sub(replace, text)


def fix_legacy(text: str) -> str:
    """Decode TCVN3 or VNI text when detected; anything else is returned unchanged.

    >>> fix_legacy("Thµnh phè §µ N½ng") == fix_legacy("Thaønh phoá Ñaø Naüng") == "Thành phố Đà Nẵng"
    True
    >>> fix_legacy("ph\\u00adêng Hßa C\\u00adêng")
    'phường Hòa Cường'
    """
    kind = detect_legacy(text)
    if kind == "tcvn3":
        return decode_tcvn3(text)
    if kind == "vni":
        return decode_vni(text)
    return text


# --- Abbreviations officials type in tickets ------------------------------------------------
# Keyed by the folded abbreviation; the analyzer adds the expansion right after it (the
# abbreviation stays, since experts' skills list it too). "ANTT" is left out: it means both an ninh trật tự (public
# order) and an ninh thông tin (information security).
ABBREVIATIONS = {
    "cks": "chữ ký số",
    "attt": "an toàn thông tin",
    "dvc": "dịch vụ công",
    "dvctt": "dịch vụ công trực tuyến",
    "tthc": "thủ tục hành chính",
    "csdl": "cơ sở dữ liệu",
    "ubnd": "ủy ban nhân dân",
    "hdnd": "hội đồng nhân dân",
    "cds": "chuyển đổi số",
    "cntt": "công nghệ thông tin",
    "httt": "hệ thống thông tin",
    "cccd": "căn cước công dân",
    "tslcd": "truyền số liệu chuyên dùng",
    "qlvb": "quản lý văn bản",
    "hddt": "hóa đơn điện tử",
    "tmdt": "thương mại điện tử",
    "bhxh": "bảo hiểm xã hội",
    "bhyt": "bảo hiểm y tế",
    "dnnvv": "doanh nghiệp nhỏ và vừa",
    "cchc": "cải cách hành chính",
    "cpdt": "chính phủ điện tử",
    "bvdlcn": "bảo vệ dữ liệu cá nhân",
    "vneid": "định danh điện tử",
    "lgsp": "nền tảng tích hợp chia sẻ dữ liệu",
    "ndxp": "nền tảng tích hợp chia sẻ dữ liệu quốc gia",
    "ioc": "trung tâm giám sát điều hành thông minh",
    "gis": "hệ thống thông tin địa lý bản đồ số",
}
