"""TF-IDF over the two analyzer blocks, with the weighting choices the evaluation measures.

Terms are keyed ``"<block>|<term>"`` in one vocabulary. Each block of a document vector is
L2-normalised on its own. A query's blocks are L2-normalised too and scaled so the weights of the
blocks it uses add up to 1: a score is then a weighted mean of per-block cosines, in [0, 1]
whether or not the query was typed with diacritics, so scores of different problems compare.
"""

from __future__ import annotations

import copy
from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

import numba as nb
import numpy as np
import scipy.sparse as sp

from expert_match.matching.analysis import ACCENTED, FOLDED, TOKEN_IDS, Analyzer
from expert_match.matching.vocabulary import CodedVocabulary, _count_columns

BLOCKS = (ACCENTED, FOLDED)


@dataclass(frozen=True, slots=True)
class Weighting:
    """How counts become weights.

    ``tf``: "raw" (count), "log" (1 + ln count, sublinear) or "bm25" (saturating, k1 = 1.2, no
    length normalisation since vectors are L2-normalised afterwards). ``idf``: "smooth"
    (ln((1 + N) / (1 + df)) + 1, scikit-learn's default) or "bm25" (ln(1 + (N - df + 0.5) / (df + 0.5))).
    """

    tf: str = "log"
    idf: str = "smooth"
    accented_weight: float = 1.0
    folded_weight: float = 1.0

    def tf_weights(self, counts: np.ndarray) -> np.ndarray:
        if self.tf == "raw":
            return counts
        if self.tf == "log":
            return 1.0 + np.log(counts)
        if self.tf == "bm25":
            return counts * 2.2 / (counts + 1.2)
        raise ValueError(f"unknown tf weighting {self.tf!r}")

    def idf_weights(self, df: np.ndarray, n_docs: int) -> np.ndarray:
        if self.idf == "smooth":
            return np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        if self.idf == "bm25":
            return np.log1p((n_docs - df + 0.5) / (df + 0.5))
        raise ValueError(f"unknown idf weighting {self.idf!r}")


class TermSpace:
    """A fitted vocabulary with idf: turns texts into normalised sparse vectors."""

    def __init__(self, analyzer: Analyzer, weighting: Weighting, max_df: float = 1.0) -> None:
        self.analyzer = analyzer
        self.weighting = weighting
        self.max_df = max_df
        self.vocabulary: Mapping[str, int] = {}
        self.fitted_terms = 0  # columns below this were learnt by fit; later ones by extended()
        self.idf = np.zeros(0)
        self.df = np.zeros(0)
        self.block_of_term = np.zeros(0, dtype=np.int8)
        self.n_docs = 0

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn the vocabulary and idf from ``texts`` and return their vectors (one row each)."""
        try:
            if self.analyzer.ngram_max > 2:
                raise OverflowError("codes cover uni- and bigrams only")
            rows, cols, counts_array, vocabulary, block_of_term = self._count_codes(texts)
        except OverflowError:
            rows, cols, counts_array, vocabulary, block_of_term = self._count_terms(texts)
        df = np.bincount(cols, minlength=len(vocabulary)).astype(np.float64)
        if self.max_df < 1.0 and len(texts):
            # Terms in more than max_df of the documents carry almost no idf and the longest posting
            # lists: dropping them is the corpus's own stopword list (research: never a generic one).
            keep = np.flatnonzero(df <= self.max_df * len(texts))
            new_column = np.full(len(vocabulary), -1, dtype=np.int64)
            new_column[keep] = np.arange(len(keep))
            mapped = new_column[cols]
            mask = mapped >= 0
            rows, cols, counts_array = rows[mask], mapped[mask], counts_array[mask]
            if isinstance(vocabulary, CodedVocabulary):
                vocabulary = vocabulary.subset(keep)
            else:
                keys = list(vocabulary)
                vocabulary = {keys[old]: new for new, old in enumerate(keep.tolist())}
            df, block_of_term = df[keep], block_of_term[keep]
        self.vocabulary = vocabulary
        n_terms = self.fitted_terms = len(vocabulary)
        self.block_of_term = block_of_term
        counts_matrix = sp.csr_matrix((counts_array, (rows, cols)), shape=(len(texts), n_terms))
        self.n_docs = len(texts)
        self.df = df
        self.idf = self.weighting.idf_weights(df, self.n_docs)
        return self._weigh(counts_matrix, (1.0, 1.0))

    def _count_codes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, CodedVocabulary, np.ndarray]:
        """(row, column, count) of every term of every text, with uni- and bigrams counted as
        integer codes in numpy rather than as strings: a token gets an id, a bigram the code
        ``T + first * T + second``, and one sort counts them all. Only the distinct terms become
        codes are kept (the vocabulary), no string per term."""
        streams: dict[str, list[int]] = {b: [] for b in BLOCKS}
        lengths: dict[str, list[int]] = {b: [] for b in BLOCKS}
        for text in texts:
            for block, tokens in self.analyzer.id_streams(text).items():
                streams[block].extend(tokens)
                lengths[block].append(len(tokens))
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        sizes = []
        blocks: dict[str, np.ndarray] = {}
        base = len(TOKEN_IDS.names)
        offset = 0
        for block in BLOCKS:
            if not lengths[block]:
                sizes.append(0)
                continue
            rows, columns, counts, codes, base = _ngram_codes(streams[block], lengths[block], self.analyzer.ngram_max)
            blocks[block] = codes
            parts.append((rows, columns + offset, counts))
            sizes.append(len(codes))
            offset += len(codes)
        # Both blocks' codes were made with the same base: no token is registered in between
        # (the streams above registered them all), and the table only grows.
        vocabulary = CodedVocabulary(base, blocks)
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0), vocabulary, np.zeros(0, dtype=np.int8)
        rows = np.concatenate([p[0] for p in parts])
        cols = np.concatenate([p[1] for p in parts])
        counts = np.concatenate([p[2] for p in parts]).astype(np.float64)
        return rows, cols, counts, vocabulary, np.repeat(np.arange(len(BLOCKS), dtype=np.int8), sizes)

    def _count_terms(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int], np.ndarray]:
        """The string path (any n-gram length): each text's term counts from the analyzer."""
        terms: dict[str, list[str]] = {b: [] for b in BLOCKS}
        counts: dict[str, list[int]] = {b: [] for b in BLOCKS}
        lengths: dict[str, list[int]] = {b: [] for b in BLOCKS}
        for text in texts:
            for block, found in self.analyzer.terms(text).items():
                terms[block].extend(found.keys())
                counts[block].extend(found.values())
                lengths[block].append(len(found))
        vocabulary: dict[str, int] = {}
        rows_parts, cols_parts, count_parts, block_sizes = [], [], [], []
        for block in BLOCKS:
            index = {term: i for i, term in enumerate(dict.fromkeys(terms[block]))}
            columns = np.fromiter(map(index.__getitem__, terms[block]), dtype=np.int64, count=len(terms[block]))
            offset = len(vocabulary)
            vocabulary.update({f"{block}|{term}": offset + i for term, i in index.items()})
            block_sizes.append(len(index))
            cols_parts.append(columns + offset)
            # A block the analyzer does not build has no terms in any document.
            rows_parts.append(np.repeat(np.arange(len(texts)), lengths[block] or [0] * len(texts)))
            count_parts.append(np.asarray(counts[block], dtype=np.float64))
        rows = np.concatenate(rows_parts)
        cols = np.concatenate(cols_parts)
        block_of_term = np.repeat(np.arange(len(BLOCKS), dtype=np.int8), block_sizes)
        return rows, cols, np.concatenate(count_parts), vocabulary, block_of_term

    def query(self, text: str, *, blocks: Sequence[str] = BLOCKS, extra: str = "",
              extra_weight: float = 0.5, dtype: type = np.float64) -> sp.csr_matrix:
        """One problem as a 1-row vector (``query_terms`` as a sparse matrix)."""
        columns, weights = self.query_terms(text, blocks=blocks, extra=extra, extra_weight=extra_weight,
                                            dtype=dtype)
        return sp.csr_matrix((weights, columns, np.array([0, len(columns)])),
                             shape=(1, len(self.vocabulary)))

    def query_terms(self, text: str, *, blocks: Sequence[str] = BLOCKS, extra: str = "",
                    extra_counts: Sequence[tuple[np.ndarray, np.ndarray]] = (), extra_weight: float = 0.5,
                    dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """One problem's (columns, weights), ascending by column: documents' weighting (tf x
        idf, each block to unit length, then the query's block weights), built with plain numpy:
        a problem is ranked on every request, and sparse-matrix plumbing cost more than the
        arithmetic. Unknown terms are dropped (they match no expert); ``extra`` (expansions)
        counts ``extra_weight`` as much. ``extra_counts`` are more extra lines already counted
        (``term_counts``), added to those of ``extra`` before tf is taken, as if they had been
        lines of it: n-grams never cross a line, so a text's counts are the sums of its lines'."""
        columns, values = self._weighted_terms(text, blocks)
        parts = [*extra_counts, self.term_counts(extra, blocks)] if extra else list(extra_counts)
        if parts:
            more_columns, more_counts = _summed_counts(parts)
            columns = np.concatenate([columns, more_columns])
            values = np.concatenate([values, extra_weight * self._tf_idf(more_columns, more_counts)])
        accented, folded = self.query_block_weights(blocks)
        unique, summed = _normalized_sum(columns, values, self.block_of_term, accented, folded)
        return unique, summed.astype(dtype)

    def _weighted_terms(self, text: str, blocks: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Known terms of ``text`` as (columns, tf x idf), unnormalised."""
        columns, counts = self.term_counts(text, blocks)
        return columns, self._tf_idf(columns, counts)

    def _tf_idf(self, columns: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return self.weighting.tf_weights(counts) * self.idf[columns] if len(columns) else np.zeros(0)

    def term_counts(self, text: str, blocks: Sequence[str] = BLOCKS) -> tuple[np.ndarray, np.ndarray]:
        """Known terms of ``text`` in ``blocks`` as (columns, counts); a column appears once."""
        fitted, added = self._layers()
        column_parts: list[np.ndarray] = []
        count_parts: list[np.ndarray] = []
        if fitted is not None:
            for block, tokens in self.analyzer.streams(text).items():
                if block in blocks and tokens:
                    columns, counts = self._coded_terms(fitted, added, block, tokens)
                    column_parts.append(columns)
                    count_parts.append(counts)
        else:
            for block, terms in self.analyzer.terms(text).items():
                if block in blocks and terms:
                    columns, counts = self._string_terms(block, terms)
                    column_parts.append(columns)
                    count_parts.append(counts)
        if not column_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if len(column_parts) == 1:
            return column_parts[0], count_parts[0]
        return np.concatenate(column_parts), np.concatenate(count_parts)

    def _layers(self) -> tuple[CodedVocabulary | None, ChainMap | None]:
        """The fitted coded vocabulary, if the fit made one, and the terms added since (None
        when there are none)."""
        vocabulary = self.vocabulary
        if isinstance(vocabulary, CodedVocabulary):
            return vocabulary, None
        if isinstance(vocabulary, ChainMap) and isinstance(vocabulary.maps[-1], CodedVocabulary):
            return vocabulary.maps[-1], ChainMap(*vocabulary.maps[:-1])
        return None, None

    def _string_terms(self, block: str, terms: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """Columns and counts of known terms, looked up one string at a time."""
        keys = map((block + "|").__add__, terms)
        columns = np.fromiter(map(self.vocabulary.get, keys, repeat(-1)), dtype=np.int64, count=len(terms))
        known = columns >= 0
        return columns[known], np.fromiter(terms.values(), dtype=np.float64, count=len(terms))[known]

    def _coded_terms(self, fitted: CodedVocabulary, added: ChainMap | None, block: str,
                     tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns and counts of known terms, from the token stream's codes (the same terms as
        the analyzer's n-grams: "\n" has id 0 and breaks them). Only the terms the fit lacks
        become strings, when terms were added since."""
        if not added:
            ids = np.fromiter(map(fitted.ids.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
            return fitted.stream_counts(block, ids, self.analyzer.ngram_max)
        columns, counts, _missing = self._coded_split(fitted, added, block, tokens)
        return columns, counts

    def _coded_split(self, fitted: CodedVocabulary, added: ChainMap | None, block: str,
                     tokens: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """``_coded_terms`` with the counts of the terms neither the fit nor the layers added
        since know, by term."""
        ids = np.fromiter(map(fitted.ids.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        words, pairs = fitted.stream_columns(block, ids, self.analyzer.ngram_max)
        columns, counts = _count_columns(words, pairs)
        word_found, pair_found = words >= 0, pairs >= 0
        missing: dict[str, int] = {}
        bigrams = self.analyzer.ngram_max >= 2
        for at, token in enumerate(tokens):
            if token == "\n":
                continue
            if not word_found[at]:
                missing[token] = missing.get(token, 0) + 1
            if bigrams and at + 1 < len(tokens) and tokens[at + 1] != "\n" and not pair_found[at]:
                pair = f"{token} {tokens[at + 1]}"
                missing[pair] = missing.get(pair, 0) + 1
        if not added:
            return columns, counts, missing
        more = {term: (column, count) for term, count in missing.items()
                if (column := added.get(f"{block}|{term}")) is not None}
        if not more:
            return columns, counts, missing
        columns = np.concatenate([columns, np.array([c for c, _ in more.values()], dtype=np.int64)])
        counts = np.concatenate([counts, np.array([n for _, n in more.values()], dtype=np.float64)])
        return columns, counts, {term: count for term, count in missing.items() if term not in more}

    def words(self, block: str) -> list[str]:
        """The single words of ``block`` in the vocabulary (the speller's list)."""
        fitted, added = self._layers()
        prefix = block + "|"

        def plain(keys: Iterable[str]) -> list[str]:
            return [key[len(prefix):] for key in keys if key.startswith(prefix) and " " not in key]

        if fitted is None:
            return plain(self.vocabulary)
        return fitted.words(block) + (plain(added) if added else [])

    def coverage(self, text: str, blocks: Sequence[str] = (FOLDED,)) -> float:
        """Share of the text's weight (L2) on terms the space knows, unknown terms weighing as
        much as the rarest known term. ``query`` drops unknown terms before normalising, which
        is right for ordering documents but inflates a cosine read as an absolute similarity;
        multiplying by this gives the cosine of the full text.

        >>> from expert_match.matching.analysis import Analyzer
        >>> space = TermSpace(Analyzer(), Weighting())
        >>> _ = space.fit_transform(["chữ ký số", "mạng wifi"])
        >>> space.coverage("chữ ký số"), round(space.coverage("chữ ký số máy in"), 2)
        (1.0, 0.75)
        """
        every = [np.fromiter(terms.values(), dtype=np.float64, count=len(terms))
                 for block, terms in self.analyzer.terms(text).items() if block in blocks and terms]
        if not every:
            return 0.0
        columns, counts = self.term_counts(text, blocks)
        if len(columns) == 0:
            return 0.0
        tf_known = self.weighting.tf_weights(counts)
        known = float(np.sum((tf_known * self.idf[columns]) ** 2))
        unknown = 0.0
        if len(columns) < sum(len(c) for c in every):
            # The known terms are among all the text's terms, so the unknown ones' tf is the rest
            # (found in one pass each: a vocabulary lookup per term cost 2.5 ms for a ticket).
            tf_every = self.weighting.tf_weights(np.concatenate(every))
            rarest = float(self.idf.max())
            unknown = rarest * rarest * max(float(np.sum(tf_every ** 2) - np.sum(tf_known ** 2)), 0.0)
        return float(np.sqrt(known / (known + unknown)))

    def extended(self, texts: Sequence[str]) -> tuple[TermSpace, sp.csr_matrix, int, int]:
        """A space that also knows the new terms of ``texts`` (this one is left unchanged), their
        vectors, and (unknown, total) term occurrences against the fitted vocabulary.

        A new term gets the idf of a term seen in as many of the fitted documents as it is in
        ``texts`` (usually 1: rare, so distinctive). The true df comes with the next ``fit``; the
        unknown share tells the owner when that refit is due.
        """
        new_terms: dict[str, int] = {}
        new_df: dict[str, int] = {}
        unknown = total = 0
        size = len(self.vocabulary)
        found: list[list[tuple[str, np.ndarray, np.ndarray, dict[str, int]]]] = []
        for text in texts:
            found.append(self._known_and_new(text))
            for block, columns, counts, missing in found[-1]:
                new_count = sum(missing.values())
                total += int(counts.sum()) + new_count
                unknown += int(counts[columns >= self.fitted_terms].sum()) + new_count
                for term in missing:
                    key = f"{block}|{term}"
                    new_terms.setdefault(key, size + len(new_terms))
                    new_df[key] = new_df.get(key, 0) + 1
        space = self
        if new_terms:
            space = copy.copy(self)
            space.vocabulary = layered(self.vocabulary, new_terms)
            df = np.array([new_df[key] for key in new_terms], dtype=np.float64)
            space.df = np.concatenate([self.df, df])
            # As if the new documents had been part of the fit: N grows by their number, so a new
            # term's df never exceeds N (BM25 idf would turn negative).
            space.idf = np.concatenate([self.idf, self.weighting.idf_weights(df, self.n_docs + len(texts))])
            blocks = np.array([BLOCKS.index(key[0]) for key in new_terms], dtype=np.int8)
            space.block_of_term = np.concatenate([self.block_of_term, blocks])
            space._by_column = None
            space._skill_keys = skill_keys_kept(self.__dict__.get("_skill_keys", {}), new_terms)
        return space, space._vectors_of(found, new_terms), unknown, total

    def _known_and_new(self, text: str) -> list[tuple[str, np.ndarray, np.ndarray, dict[str, int]]]:
        """Per block of ``text``: the columns and counts of the terms the space knows, and the
        counts of those it does not, by term. On a coded fit the known ones come from the token
        codes and only the others become strings: a lookup per term string cost 4.7 ms for a
        ticket, paid on every update of the similar-ticket index."""
        fitted, added = self._layers()
        split = []
        if fitted is not None:
            for block, tokens in self.analyzer.streams(text).items():
                if tokens:
                    split.append((block, *self._coded_split(fitted, added, block, tokens)))
            return split
        for block, terms in self.analyzer.terms(text).items():
            keys = [f"{block}|{term}" for term in terms]
            columns = np.fromiter(map(self.vocabulary.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))
            counts = np.fromiter(terms.values(), dtype=np.float64, count=len(terms))
            known = columns >= 0
            missing = {term: count for (term, count), seen in zip(terms.items(), known.tolist()) if not seen}
            split.append((block, columns[known], counts[known], missing))
        return split

    def _vectors_of(self, found: list[list[tuple[str, np.ndarray, np.ndarray, dict[str, int]]]],
                    new_terms: Mapping[str, int]) -> sp.csr_matrix:
        """Document vectors from ``_known_and_new``, the new terms at their ``new_terms`` column."""
        rows, cols, counts = [], [], []
        for row, blocks in enumerate(found):
            for block, columns, block_counts, missing in blocks:
                extra = [new_terms[f"{block}|{term}"] for term in missing]
                cols += [columns, np.array(extra, dtype=np.int64)]
                counts += [block_counts, np.fromiter(missing.values(), dtype=np.float64, count=len(missing))]
                rows.append(np.full(len(columns) + len(extra), row, dtype=np.int64))
        matrix = sp.csr_matrix(
            (np.concatenate(counts) if counts else np.zeros(0),
             (np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
              np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64))),
            shape=(len(found), len(self.vocabulary)))
        return self._weigh(matrix, (1.0, 1.0))

    def query_block_weights(self, blocks: Sequence[str]) -> tuple[float, float]:
        """Weights of the blocks a query uses, summing to 1 (so its scores stay in [0, 1])."""
        accented = self.weighting.accented_weight if ACCENTED in blocks else 0.0
        folded = self.weighting.folded_weight if FOLDED in blocks else 0.0
        total = accented + folded
        return accented / total, folded / total

    def _weigh(self, counts: sp.csr_matrix, block_weights: tuple[float, float]) -> sp.csr_matrix:
        return self._normalize(self._tfidf(counts), block_weights)

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        matrix = counts.copy()
        matrix.sum_duplicates()
        matrix.data = self.weighting.tf_weights(matrix.data) * self.idf[matrix.indices]
        return matrix

    def _normalize(self, matrix: sp.csr_matrix, block_weights: tuple[float, float]) -> sp.csr_matrix:
        """Each block of each row to unit length, times the block's weight."""
        matrix = matrix.copy()
        matrix.sum_duplicates()
        row_of = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        block = self.block_of_term[matrix.indices]
        scale = np.ones_like(matrix.data)
        for b, weight in enumerate(block_weights):
            in_block = block == b
            norms = np.sqrt(np.bincount(row_of[in_block], weights=matrix.data[in_block] ** 2,
                                        minlength=matrix.shape[0]))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(norms > 0, weight / norms, 0.0)
            scale[in_block] = factor[row_of[in_block]]
        matrix.data *= scale
        matrix.eliminate_zeros()
        return matrix

    def term_text(self, column: int) -> str:
        fitted, _ = self._layers()
        if fitted is not None and column < len(fitted):
            return fitted.term(column)
        return self._terms_by_column()[column]

    def _terms_by_column(self) -> dict[int, str]:
        """Column -> term for the string-keyed terms (with a coded fit, only those added since:
        naming every fitted term would build hundreds of thousands of strings)."""
        cached = getattr(self, "_by_column", None)
        if cached is None or cached[0] != len(self.vocabulary):
            fitted, added = self._layers()
            keyed = self.vocabulary if fitted is None else (added or {})
            cached = (len(self.vocabulary), {column: key.split("|", 1)[1] for key, column in keyed.items()})
            self._by_column = cached
        return cached[1]


def aggregation_matrix(owner: Sequence[int], weights: Sequence[float], n_owners: int) -> sp.csr_matrix:
    """Row e averages the rows (documents) owned by e, weighted: the expert centroid."""
    owner_arr = np.asarray(owner, dtype=np.int64)
    weight_arr = np.asarray(weights, dtype=np.float64)
    totals = np.bincount(owner_arr, weights=weight_arr, minlength=n_owners)
    values = weight_arr / np.where(totals[owner_arr] > 0, totals[owner_arr], 1.0)
    return sp.csr_matrix((values, (owner_arr, np.arange(len(owner_arr)))), shape=(n_owners, len(owner_arr)))


MAX_LAYERS = 8


class LayeredVocabulary(ChainMap):
    """A ``ChainMap`` of vocabulary layers whose length is counted once.

    Layers never share a key (``extended`` only adds terms the vocabulary lacks), so the length
    is the sum of theirs. ``ChainMap.__len__`` unions every layer's keys instead, and on a coded
    fit that names every fitted term: 0.7 s at 10,000 resolved tickets, paid by every query after
    the first update (``query_vector`` takes the length) and by every new term of an update.
    """

    def __init__(self, *maps: Mapping[str, int]) -> None:
        super().__init__(*maps)
        self._length = sum(len(layer) for layer in maps)

    def __len__(self) -> int:
        return self._length

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        # One pass: ChainMap.get asks every layer whether it holds the key, then again for it.
        for layer in self.maps:
            column = layer.get(key)
            if column is not None:
                return column
        return default


def skill_keys_kept(cache: dict, new_terms: Mapping[str, int]) -> dict:
    """The skill keys cached for a space (``explain.skill_keys``) that hold for the space
    extended with ``new_terms``: the fitted columns keep their idf, so only a name with a term
    that was unseen and is now known changes. Recomputing every key cost 240 ms per update at
    13,000 experts. The smooth idf array is dropped: it grows with the columns."""
    folded = {key.split("|", 1)[1] for key in new_terms if key.startswith(FOLDED + "|")}
    return {key: keys for key, keys in cache.items()
            if key != "_smooth_idf" and not any(term in folded for weights in keys[1] for term in weights)}


def layered(vocabulary: Mapping[str, int], new_terms: dict[str, int]) -> LayeredVocabulary:
    """``vocabulary`` with ``new_terms`` on top, the fitted dict left unchanged (readers may be
    using it). Each update used to add one layer, so a long-lived index (the resolved tickets,
    updated by nearly every filing) looked words up through thousands of dicts and kept them all;
    past ``MAX_LAYERS`` the added layers are merged into one.

    >>> v = {"a": 0}
    >>> for i in range(20):
    ...     v = layered(v, {f"t{i}": i + 1})
    >>> len(v.maps) <= MAX_LAYERS + 1, v["t0"], v["t19"], v["a"], len(v)
    (True, 1, 20, 0, 21)
    """
    maps = vocabulary.maps if isinstance(vocabulary, ChainMap) else [vocabulary]
    if len(maps) <= MAX_LAYERS:
        return LayeredVocabulary(new_terms, *maps)
    merged: dict[str, int] = {}
    for layer in reversed(maps[:-1]):
        merged.update(layer)
    merged.update(new_terms)
    return LayeredVocabulary(merged, maps[-1])


DENSE_SPAN = 2**26  # codes below this are ranked with a presence table instead of a sort


def _distinct(codes: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(codes, return_inverse=True)``; without sorting when the code space is small
    (a few thousand distinct syllables, as Vietnamese has, give a few million bigram codes): a
    presence table and its running count rank every code in two linear passes.

    >>> _distinct(np.array([7, 3, 7, 0]), span=10)
    (array([0, 3, 7]), array([2, 1, 2, 0], dtype=int32))
    """
    if span > DENSE_SPAN:
        return np.unique(codes, return_inverse=True)
    present = np.zeros(span, dtype=bool)
    present[codes] = True
    rank = np.cumsum(present, dtype=np.int32) - 1
    return np.flatnonzero(present), rank[codes]


def _ngram_codes(token_ids: list[int], lengths: list[int], ngram_max: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Count the uni- (and bi-)grams of many token streams at once.

    ``token_ids`` is every document's stream of analyzer token ids, one after the other
    (``lengths`` says where each ends); id 0 ("\\n") breaks lines. Returns (document, term index,
    count) per distinct pair, the terms' codes (ascending: a term's index is its rank) and the
    code base (``CodedVocabulary``).
    """
    ids = np.array(token_ids, dtype=np.int64)
    distinct = TOKEN_IDS.names
    if (len(distinct) + 1) ** 2 >= 2**62:
        raise OverflowError("too many distinct tokens for int64 n-gram codes")
    n_docs, n_tokens = len(lengths), len(distinct)
    docs = np.repeat(np.arange(n_docs, dtype=np.int32), lengths)
    word = ids != 0
    parts = [(docs[word], ids[word])]
    if ngram_max >= 2 and len(ids) > 1:
        pair = word[:-1] & word[1:] & (docs[:-1] == docs[1:])
        parts.append((docs[:-1][pair], n_tokens + ids[:-1][pair] * n_tokens + ids[1:][pair]))
    # One pass ranks the distinct terms (their columns); each part's repeated (document, term)
    # pairs are summed row by row by the sparse matrix (documents are already in order), cheaper
    # than sorting all pairs again.
    term_codes, columns = _distinct(np.concatenate([codes for _, codes in parts]),
                                    span=n_tokens + n_tokens * n_tokens)
    matrix = None
    start = 0
    for part_docs, codes in parts:
        part_columns = columns[start:start + len(codes)]
        start += len(codes)
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(part_docs, minlength=n_docs), out=indptr[1:])
        counted = sp.csr_matrix((np.ones(len(codes), dtype=np.float32), part_columns, indptr),
                                shape=(n_docs, len(term_codes)))
        counted.sum_duplicates()
        matrix = counted if matrix is None else matrix + counted
    assert matrix is not None
    doc_of_key = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(matrix.indptr))
    columns, counts = matrix.indices, matrix.data
    return doc_of_key, columns.astype(np.int64), counts, term_codes.astype(np.int64), n_tokens


def _summed_counts(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Counted lines' (columns, counts) as one text's: counts of the same column added."""
    if len(parts) == 1:
        return parts[0]
    return _sum_by_column(np.concatenate([c for c, _ in parts]), np.concatenate([n for _, n in parts]))


@nb.njit(cache=True, nogil=True)
def _sum_by_column(columns, counts):
    """(columns ascending, each once; the counts of each column added up)."""
    order = np.argsort(columns, kind="mergesort")
    unique = np.empty(len(columns), dtype=np.int64)
    summed = np.zeros(len(columns), dtype=np.float64)
    n = 0
    for i in order:
        if n == 0 or unique[n - 1] != columns[i]:
            unique[n] = columns[i]
            n += 1
        summed[n - 1] += counts[i]
    return unique[:n], summed[:n]


@nb.njit(cache=True, nogil=True)
def _normalized_sum(columns, values, block_of_term, accented_weight, folded_weight):
    """Values summed per column (columns ascending), each block scaled to unit length times its
    weight, zeros dropped: a query's last step in one compiled call instead of a dozen numpy
    calls on a few hundred terms."""
    unique, summed = _sum_by_column(columns, values)
    n = len(unique)
    squares = np.zeros(2)
    for i in range(n):
        squares[block_of_term[unique[i]]] += summed[i] * summed[i]
    scale = np.zeros(2)
    for b, weight in enumerate((accented_weight, folded_weight)):
        scale[b] = weight / np.sqrt(squares[b]) if squares[b] > 0 else 0.0
    kept = 0
    for i in range(n):
        value = summed[i] * scale[block_of_term[unique[i]]]
        if value != 0:
            unique[kept] = unique[i]
            summed[kept] = value
            kept += 1
    return unique[:kept], summed[:kept]
