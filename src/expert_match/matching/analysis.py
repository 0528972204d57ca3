"""Turn text into weighted terms: syllable uni/bigrams on an accented and a folded key.

Why this shape (measured in shared/research/vietnamese.md §2): word segmenters gain at most one
ticket in 26 on clean text and collapse on text typed without diacritics, while syllable bigrams
already capture "đổi số", "vụ công". Two blocks, one on the accented key and one on the folded key,
let "chuyen doi so" meet "chuyển đổi số" without losing the difference between "cấp" and "cáp".
There is no generic stopword list: every public Vietnamese list deletes domain words (số, chính,
mới). Inverse document frequency does that job for function words.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from itertools import chain
from dataclasses import dataclass
from functools import lru_cache

from expert_match.matching.text import ABBREVIATIONS, fix_legacy, fold, nfc, normalize, tone_old_style

ACCENTED = "a"
FOLDED = "f"
_TOKEN = re.compile(r"[^\W_]+")
_LINE_OR_TOKEN = re.compile(r"[^\W_]+|\n")
# Letters only Vietnamese uses (ă â đ ê ô ơ ư and the tone-marked vowels of U+1EA0..U+1EF9):
# an "é" in an English abstract must not switch the accented block on.
_VIETNAMESE = re.compile("[ĂăÂâĐđÊêÔôƠơƯưĨĩŨũ\u1ea0-\u1ef9]")


@lru_cache(maxsize=200_000)
def _fold_token(token: str) -> str:
    return fold(token)


@lru_cache(maxsize=200_000)
def _light_stem(token: str) -> str:
    """Plural/verb-form stripping for English words (an "S-stemmer"); Vietnamese syllables are short
    and never end in these suffixes, so they pass unchanged."""
    if len(token) <= 4 or not token.isascii():
        return token
    if token.endswith("ies") and len(token) > 5:
        return token[:-3] + "y"
    if token.endswith("sses"):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


@dataclass(frozen=True, slots=True)
class Analyzer:
    """Text -> term counts per block. Hyperparameters only; the analyzer has no fitted state.

    Parameters
    ----------
    ngram_max : int
        Longest n-gram of syllables (1 = unigrams only, 2 = uni- and bigrams).
    stem : bool
        Strip English plural endings ("networks" -> "network").
    accented : bool
        Also build the accented block (see ``ExpertRanker(accented_block=...)``).

    Examples
    --------
    >>> terms = Analyzer(accented=True).terms("Chữ ký số")
    >>> sorted(terms[ACCENTED])
    ['chữ', 'chữ ký', 'ký', 'ký số', 'số']
    >>> sorted(terms[FOLDED])
    ['chu', 'chu ky', 'ky', 'ky so', 'so']
    """

    ngram_max: int = 2
    stem: bool = False
    accented: bool = False

    def prepare(self, text: str) -> str:
        """The canonical accented form: legacy encodings decoded, NFC, one tone placement, lower case."""
        return normalize(fix_legacy(text))

    def tokens(self, text: str) -> tuple[list[str], list[str]]:
        """(accented, folded) tokens. Cached like ``terms``: a problem is tokenised for its
        vector, the glossary and the speller; callers must not mutate the lists."""
        return _cached_tokens(self, text)

    def _tokens(self, text: str) -> tuple[list[str], list[str]]:
        accented, folded = _cached_pipeline(self, text)
        return [t for t in accented if t != "\n"], [t for t in folded if t != "\n"]

    def _pipeline(self, text: str, *, accented: bool = True) -> tuple[list[str], list[str]]:
        """(accented, folded) token streams with "\\n" at line breaks (accented empty when not
        asked for).

        The text is cleaned once (legacy decoding, NFC, look-alikes: C-level) and split at
        whitespace (C-level; no token spans whitespace); every distinct chunk is split into tokens
        and each distinct token goes through the rest once per process (cached): tone placement,
        case folding, abbreviation expansion, stemming, folding. Same tokens as running each step
        on the whole text (``_prepared_tokens`` shows the equivalence), at a fraction of the cost.
        """
        cache = _TOKEN_CACHES[self.stem]
        if len(cache) > _TOKEN_CACHE_SIZE:  # bounded: unusual input must not grow it forever
            cache.clear()
            cache.accented.clear()
        raws = _chunks(nfc(fix_legacy(text)))
        folded = list(chain.from_iterable(map(cache.__getitem__, raws)))  # fills cache.accented too
        if not accented:
            return [], folded
        return list(chain.from_iterable(map(cache.accented.__getitem__, raws))), folded

    def id_streams(self, text: str) -> dict[str, list[int]]:
        """``streams`` as token ids (``token_name`` turns one back into text; "\\n" is id 0):
        the fit counts n-grams from these without looking every token up again."""
        cache = _TOKEN_CACHES[self.stem]
        if len(cache) > _TOKEN_CACHE_SIZE:
            cache.clear()
            cache.accented.clear()
            cache.folded_ids.clear()
            cache.accented_ids.clear()
        chunks = _chunks(nfc(fix_legacy(text)))
        streams = {FOLDED: list(chain.from_iterable(map(cache.folded_ids.__getitem__, chunks)))}
        if self.accented:
            streams[ACCENTED] = list(chain.from_iterable(map(cache.accented_ids.__getitem__, chunks)))
        return streams

    def terms(self, text: str) -> dict[str, Counter[str]]:
        """Term counts per block. Cached: evaluation and refits analyse the same texts again;
        callers must not mutate the result."""
        return _cached_terms(self, text)

    def _terms(self, text: str) -> dict[str, Counter[str]]:
        return {block: self._ngrams(tokens) for block, tokens in self.streams(text).items()}

    def streams(self, text: str) -> dict[str, list[str]]:
        """The token stream of each block, with "\\n" tokens where lines break: n-grams never
        cross a line break (lists such as skills and glossary expansions are one item per line).
        The whole text is tokenised at once and n-grams holding "\\n" are dropped, cheaper than a
        pass per line. ``TermSpace.fit_transform`` builds its n-grams from these streams directly."""
        accented, folded = _cached_pipeline(self, text)
        streams = {FOLDED: folded}
        if self.accented:
            streams[ACCENTED] = accented
        return streams

    def folded_terms(self, text: str) -> set[str]:
        r"""``set(terms(text)[FOLDED])`` without counting, nor the accented block: what an
        explanation tests skill names against (counting both blocks cost 0.2 ms a problem).

        >>> sorted(Analyzer().folded_terms("Chữ ký số\nlỗi"))
        ['chu', 'chu ky', 'ky', 'ky so', 'loi', 'so']
        """
        tokens = _cached_pipeline(self, text)[1]
        found = set(tokens)
        for n in range(2, self.ngram_max + 1):
            found.update(gram for gram in map(" ".join, zip(*(tokens[i:] for i in range(n)))) if "\n" not in gram)
        found.discard("\n")
        return found

    def _ngrams(self, tokens: list[str]) -> Counter[str]:
        counts = Counter(tokens)
        for n in range(2, self.ngram_max + 1):
            counts.update(gram for gram in map(" ".join, zip(*(tokens[i:] for i in range(n)))) if "\n" not in gram)
        counts.pop("\n", None)
        return counts


def _prepared_tokens(text: str) -> list[str]:
    r"""Tokens of ``prepare(text)``, line breaks kept as "\n" tokens, at a fraction of the cost:
    the text is composed and cleaned once (C-level), split, and each distinct token is given its
    tone placement and case folding once (cached), instead of decomposing and recomposing the
    whole text. Same tokens: a normalised piece is split again, as the whole text would have been.

    >>> _prepared_tokens("Hoà Vang, KHOẺ\nthuý") == _LINE_OR_TOKEN.findall(Analyzer().prepare("Hoà Vang, KHOẺ\nthuý"))
    True
    """
    out: list[str] = []
    for raw in _LINE_OR_TOKEN.findall(nfc(fix_legacy(text))):
        out.extend(_normal_token(raw))
    return out


def _chunks(cleaned: str) -> list[str]:
    """Whitespace-free chunks of a cleaned text, "\\n" between lines."""
    if "\n" not in cleaned:
        return cleaned.split()
    chunks: list[str] = []
    for number, line in enumerate(cleaned.split("\n")):
        if number:
            chunks.append("\n")
        chunks.extend(line.split())
    return chunks


class _TokenIds:
    """Process-wide token ids for the fit's integer n-gram codes ("\\n" is 0). Only fitted
    texts register tokens, so the table grows with the experts' vocabulary, not with queries."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {"\n": 0}
        self.names: list[str] = ["\n"]
        self.lock = threading.Lock()

    def of(self, tokens: tuple[str, ...]) -> tuple[int, ...]:
        ids = self.ids
        if all(t in ids for t in tokens):
            return tuple(ids[t] for t in tokens)
        with self.lock:  # a background refit and a request may register at once
            for token in tokens:
                if token not in ids:
                    ids[token] = len(self.names)
                    self.names.append(token)
            return tuple(ids[t] for t in tokens)


TOKEN_IDS = _TokenIds()


def token_name(token_id: int) -> str:
    return TOKEN_IDS.names[token_id]


class _IdCache(dict):
    def __init__(self, tokens: dict[str, tuple[str, ...]], fill: dict) -> None:
        super().__init__()
        self.tokens, self.fill = tokens, fill

    def __missing__(self, chunk: str) -> tuple[int, ...]:
        if chunk not in self.tokens:
            self.fill[chunk]  # computes both token forms of the chunk
        ids = self[chunk] = TOKEN_IDS.of(self.tokens[chunk])
        return ids


class _TokenCache(dict):
    """whitespace-free chunk of text ("(CKS),") -> its folded tokens (and, in ``accented``, its
    accented tokens), computed on first sight. Lookups are plain dict reads, so a text's stream
    is built by C-level iteration."""

    def __init__(self, stem: bool) -> None:
        super().__init__()
        self.stem = stem
        self.accented: dict[str, tuple[str, ...]] = {}
        self.folded_ids = _IdCache(self, self)
        self.accented_ids = _IdCache(self.accented, self)

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        if chunk == "\n":
            accented, folded = ("\n",), ("\n",)
        else:
            tokens = _expand([t for raw in _TOKEN.findall(chunk) for t in _normal_token(raw)])
            if self.stem:  # only ASCII words of 5+ letters change; no Vietnamese syllable ends in -s
                tokens = list(map(_light_stem, tokens))
            accented, folded = tuple(tokens), tuple(map(_fold_token, tokens))
        self.accented[chunk] = accented
        self[chunk] = folded
        return folded


_TOKEN_CACHES = {False: _TokenCache(False), True: _TokenCache(True)}
_TOKEN_CACHE_SIZE = 500_000


@lru_cache(maxsize=500_000)
def _normal_token(raw: str) -> tuple[str, ...]:
    if raw == "\n":
        return (raw,)
    return tuple(_TOKEN.findall(tone_old_style(raw).casefold()))


def _expand(tokens: list[str]) -> list[str]:
    """Each known abbreviation is followed by its expansion: "cks" -> "cks chữ ký số". On
    tokens, this costs one cached lookup per word.

    >>> _expand(["lỗi", "cks", "khi", "nộp", "dvctt"])
    ['lỗi', 'cks', 'chữ', 'ký', 'số', 'khi', 'nộp', 'dvctt', 'dịch', 'vụ', 'công', 'trực', 'tuyến']
    """
    if not any(map(_abbreviation, tokens)):
        return tokens
    out: list[str] = []
    for token in tokens:
        out.append(token)
        out.extend(_abbreviation(token))
    return out


@lru_cache(maxsize=200_000)
def _abbreviation(token: str) -> tuple[str, ...]:
    expansion = ABBREVIATIONS.get(fold(token)) if len(token) <= 6 else None
    return tuple(_TOKEN.findall(normalize(expansion))) if expansion else ()


# 2,048: every filing's text passes through here (5-10 KB of tokens for a long ticket), and 8,192
# of them grew each server process by some 60 MB over a soak; skill names and profile lines, the
# entries worth keeping, are short.
# A ticket's streams serve its tokens (glossary, speller) and its terms (the vector); callers
# must not mutate them. 512 long tickets' streams take about 3 MB.
@lru_cache(maxsize=512)
def _cached_pipeline(analyzer: Analyzer, text: str) -> tuple[list[str], list[str]]:
    return analyzer._pipeline(text)


@lru_cache(maxsize=2048)
def _cached_tokens(analyzer: Analyzer, text: str) -> tuple[list[str], list[str]]:
    return analyzer._tokens(text)


# Small: a filing analyses its text three or four times (ranking, explanation, similar tickets),
# and a long ticket's counts take about 10 KB. 8,192 entries grew each server process by some
# 80 MB over a soak, for no measurable gain (the gold-standard evaluation ran 14.8 s with them
# and 14.0 s with 256).
@lru_cache(maxsize=256)
def _cached_terms(analyzer: Analyzer, text: str) -> dict[str, Counter[str]]:
    return analyzer._terms(text)


def forget_texts() -> None:
    """Empty the per-text caches (token streams, tokens, term counts); the per-token ones stay.
    A benchmark timing a text a second time calls this first, so it is analysed again."""
    _cached_pipeline.cache_clear()
    _cached_tokens.cache_clear()
    _cached_terms.cache_clear()


# Function words that tell English from Vietnamese typed without diacritics. Neither list is used
# to delete anything: they only decide which blocks a problem is compared on.
_ENGLISH = frozenset(
    "the of and to in for with on our we is are was were be been it its this that these those "
    "from by at as an or not can could must should would will have has had do does did there "
    "their they you your which who what when how my me us i".split()
)
_VIETNAMESE_UNACCENTED = frozenset(
    "khong cua va cac nhung duoc la co trong khi thi ma nay do da dang se rat cung van nhung "
    "hoac de tu theo ve lai ra vao nen neu vi boi nhu cho voi tai can bi phuong xa".split()
)


def query_blocks(text: str) -> tuple[str, ...]:
    """Which blocks a problem is compared on.

    With Vietnamese diacritics: both. Without them, English is compared on exact words only,
    so "to" (English) never meets "tổ" folded to "to"; Vietnamese typed without diacritics is
    compared on the folded block, where "chu ky so" meets "chữ ký số".

    >>> query_blocks("lỗi chữ ký số"), query_blocks("loi chu ky so"), query_blocks("our token is not working")
    (('a', 'f'), ('f',), ('a',))
    """
    if has_diacritics(text):
        return (ACCENTED, FOLDED)
    words = _TOKEN.findall(text.casefold())
    english = sum(w in _ENGLISH for w in words)
    vietnamese = sum(w in _VIETNAMESE_UNACCENTED for w in words)
    return (ACCENTED,) if english >= 2 and english > vietnamese else (FOLDED,)


def without_english_function_words(text: str) -> str:
    """An English problem without "to", "the", "in"...: folded, they are Vietnamese syllables
    (tổ, thể, in) and would match Vietnamese profiles.

    >>> without_english_function_words("The printer is not connected to the network")
    'printer connected network'
    """
    return " ".join(word for word in _TOKEN.findall(text) if word.casefold() not in _ENGLISH)


def has_diacritics(text: str) -> bool:
    """True when ``text`` has Vietnamese diacritics; a problem without them skips the accented block.

    >>> has_diacritics("chuyen doi so"), has_diacritics("chuyển đổi số"), has_diacritics("Café crème")
    (False, True, False)
    """
    return bool(_VIETNAMESE.search(nfc(fix_legacy(text))))
