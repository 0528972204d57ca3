"""The fitted vocabulary as sorted integer codes instead of a dict of strings.

The fit already counts terms as integer codes (a token is its analyzer id, a bigram "a b" the
code ``base + a * base + b``, ``base`` being the number of token ids at the fit). Keeping those
codes, one sorted array per block, instead of turning every distinct term into a string key:

- a ticket's terms are looked up from its token ids in one compiled loop (``stream_columns``):
  the dict lookups of 300 fresh strings missed the cache three or four times each and cost
  0.2 ms per ticket; a plain binary search over the codes missed about 8 times per term;
- the vocabulary takes 8 bytes per term for its codes and 16-32 for a hash table over them (770,000
  terms at 100k experts: 6 + 13 MB instead of 95 MB as a dict of strings), and the fit no longer
  builds a string per term.

The hash table (open addressing, at most 3/4 full) finds a code with one or two cache misses. A
binary search over a directory of every 64th code, then over 64 codes, took several misses in a
row, and a ticket is analysed right after the kernel (or, in the benchmark, another engine) has
evicted all of it: a ticket's lookups with flushed caches took 94-100 us that way, 32-34 us by
hash (200 tickets at 100k experts).

A column is the block's offset plus the code's rank in the block: the fit ranks codes in that
order. Terms stay readable (``name``, ``term``) through the process-wide token table, which only
grows, so a code keeps its meaning for the life of the process; a vocabulary holds the table
itself, so a pickled one takes the ids its codes were made with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numba as nb
import numpy as np

from expert_match.matching.analysis import TOKEN_IDS


class CodedVocabulary(Mapping[str, int]):
    """``"<block>|<term>" -> column`` for uni- and bigrams, backed by sorted codes.

    >>> from expert_match.matching.analysis import Analyzer
    >>> from expert_match.matching.vectorize import TermSpace, Weighting
    >>> space = TermSpace(Analyzer(), Weighting())
    >>> _ = space.fit_transform(["chữ ký số", "mạng wifi"])
    >>> vocabulary = space.vocabulary
    >>> vocabulary["f|ky so"] == space.vocabulary.get("f|ky so"), "f|so ky" in vocabulary
    (True, False)
    >>> vocabulary.term(vocabulary["f|ky so"])
    'ky so'
    """

    def __init__(self, base: int, blocks: dict[str, np.ndarray]) -> None:
        self.base = base
        # The process's token table itself (not a copy): it only grows. Held here so a pickled
        # vocabulary carries the ids its codes were made with.
        self.ids, self.names = TOKEN_IDS.ids, TOKEN_IDS.names
        self.blocks = blocks  # block -> its terms' codes, ascending (in BLOCKS order)
        self.tables = {block: _hash_table(codes) for block, codes in blocks.items()}
        self.offsets: dict[str, int] = {}
        offset = 0
        for block, codes in blocks.items():
            self.offsets[block] = offset
            offset += len(codes)
        self._length = offset

    # -- single terms --------------------------------------------------------------------------
    def code(self, term: str) -> int:
        """The term's code, -1 when one of its tokens was not in the fit (so neither is it)."""
        ids, base = self.ids, self.base
        parts = term.split(" ")
        if len(parts) == 1:
            token = ids.get(parts[0], -1)
            return token if 0 < token < base else -1
        if len(parts) == 2:
            first, second = ids.get(parts[0], -1), ids.get(parts[1], -1)
            if 0 < first < base and 0 < second < base:
                return base + first * base + second
        return -1

    def name(self, code: int) -> str:
        names = self.names
        if code < self.base:
            return names[code]
        first, second = divmod(code - self.base, self.base)
        return f"{names[first]} {names[second]}"

    def term(self, column: int) -> str:
        """The text of the term in ``column``."""
        for block, codes in self.blocks.items():
            at = column - self.offsets[block]
            if 0 <= at < len(codes):
                return self.name(int(codes[at]))
        raise IndexError(column)

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        block, _, term = key.partition("|")
        codes = self.blocks.get(block)
        code = self.code(term) if codes is not None else -1
        if code < 0:
            return default
        # Compiled: numpy on one value cost 4 us of call overhead.
        at = _find(*self.tables[block], code)
        return self.offsets[block] + at if at >= 0 else default

    def __getitem__(self, key: str) -> int:
        column = self.get(key)
        if column is None:
            raise KeyError(key)
        return column

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[str]:
        """Keys in column order."""
        for block, codes in self.blocks.items():
            for code in codes.tolist():
                yield f"{block}|{self.name(code)}"

    def words(self, block: str) -> list[str]:
        """The block's single words (the speller's list), without building every bigram."""
        codes = self.blocks.get(block, np.zeros(0, dtype=np.int64))
        names = self.names
        return [names[code] for code in codes[codes < self.base].tolist()]

    # -- many terms at once ----------------------------------------------------------------------
    def stream_columns(self, block: str, token_ids: np.ndarray,
                       ngram_max: int) -> tuple[np.ndarray, np.ndarray]:
        """For each position of a token-id stream ("\n" is id 0, tokens outside the fit -1), the
        column of the word there and of the bigram starting there, -1 where the vocabulary has
        none (the same terms as the analyzer's n-grams: "\n" breaks them)."""
        codes = self.blocks.get(block)
        if codes is None or len(codes) == 0:
            missing = np.full(len(token_ids), -1, dtype=np.int64)
            return missing, missing.copy()
        return _stream_columns(token_ids, self.base, ngram_max >= 2, *self.tables[block], self.offsets[block])

    def stream_counts(self, block: str, token_ids: np.ndarray, ngram_max: int) -> tuple[np.ndarray, np.ndarray]:
        """The known terms of a token-id stream as (columns ascending, counts): what
        ``stream_columns`` finds, counted in the same compiled call (numpy's ``unique`` on a
        few hundred columns cost more than finding them)."""
        return _count_columns(*self.stream_columns(block, token_ids, ngram_max))

    def subset(self, keep: np.ndarray) -> CodedVocabulary:
        """Only the columns in ``keep`` (ascending), numbered again from 0 in the same order."""
        blocks = {}
        for block, codes in self.blocks.items():
            offset = self.offsets[block]
            inside = keep[(keep >= offset) & (keep < offset + len(codes))] - offset
            blocks[block] = codes[inside]
        smaller = CodedVocabulary(self.base, blocks)
        smaller.ids, smaller.names = self.ids, self.names
        return smaller


MAX_LOAD = 0.75  # codes per slot of the hash table at most
FIBONACCI = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads consecutive codes


def _hash_table(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(slots' codes, -1 where empty; slots' ranks in ``codes``; the hash's shift)."""
    bits = 4
    while (1 << bits) * MAX_LOAD < len(codes):
        bits += 1
    keys = np.full(1 << bits, -1, dtype=np.int64)
    ranks = np.zeros(1 << bits, dtype=np.int32 if len(codes) < 2**31 else np.int64)
    _fill(np.asarray(codes, dtype=np.int64), keys, ranks, 64 - bits)
    return keys, ranks, 64 - bits


@nb.njit(cache=True, nogil=True)
def _slot(code, shift):
    return np.int64((np.uint64(code) * FIBONACCI) >> np.uint64(shift))


@nb.njit(cache=True, nogil=True)
def _fill(codes, keys, ranks, shift):
    mask = len(keys) - 1
    for rank in range(len(codes)):
        at = _slot(codes[rank], shift)
        while keys[at] >= 0:
            at = (at + 1) & mask
        keys[at] = codes[rank]
        ranks[at] = rank


@nb.njit(cache=True, nogil=True)
def _find(keys, ranks, shift, code):
    """The rank of ``code`` among the block's codes, -1 if absent (linear probing)."""
    mask = len(keys) - 1
    at = _slot(code, shift)
    while keys[at] >= 0:
        if keys[at] == code:
            return np.int64(ranks[at])
        at = (at + 1) & mask
    return -1


@nb.njit(cache=True, nogil=True)
def _stream_columns(ids, base, bigrams, keys, ranks, shift, offset):
    n = len(ids)
    words = np.full(n, -1, dtype=np.int64)
    pairs = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        first = ids[i]
        if first <= 0 or first >= base:
            continue
        at = _find(keys, ranks, shift, first)
        if at >= 0:
            words[i] = offset + at
        if bigrams and i + 1 < n and 0 < ids[i + 1] < base:
            at = _find(keys, ranks, shift, base + first * base + ids[i + 1])
            if at >= 0:
                pairs[i] = offset + at
    return words, pairs


@nb.njit(cache=True, nogil=True)
def _count_columns(words, pairs):
    found = np.concatenate((words[words >= 0], pairs[pairs >= 0]))
    found.sort()
    columns = np.empty(len(found), dtype=np.int64)
    counts = np.empty(len(found), dtype=np.float64)
    n = 0
    for i in range(len(found)):
        if n and columns[n - 1] == found[i]:
            counts[n - 1] += 1.0
        else:
            columns[n] = found[i]
            counts[n] = 1.0
            n += 1
    return columns[:n], counts[:n]
