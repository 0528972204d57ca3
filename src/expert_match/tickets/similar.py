"""Tickets like a new one: possible duplicates from the same org (rapidfuzz on folded text), and
resolved tickets ranked by the matcher's TF-IDF (so earlier advice can be reused)."""

from __future__ import annotations

import bisect
import heapq
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz

from expert_match.matching.profiles import Document, ExpertProfile
from expert_match.matching.ranker import ExpertRanker

DUPLICATE_SCORE = 80.0  # token_set_ratio on folded text, 0-100
SIMILAR_SCORE = 0.2  # TF-IDF cosine over the whole text


def duplicate_scores(key: str, others: Sequence[tuple[int, str]]) -> list[tuple[int, float]]:
    """(id, similarity 0-1) of the ``others`` whose folded text nearly equals ``key``, best first.

    >>> duplicate_scores("may tinh khong nhan usb token", [(1, "may tinh khong nhan usb token chu ky so"), (2, "wifi")])
    [(1, 1.0)]
    """
    scored = [(i, fuzz.token_set_ratio(key, other) / 100.0) for i, other in others]
    return sorted([(i, s) for i, s in scored if s * 100 >= DUPLICATE_SCORE], key=lambda p: (-p[1], p[0]))


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="similar-refit", daemon=True).start()


class ResolvedSource(Protocol):
    """What the index reads from the database (``TicketRepository``)."""

    @property
    def event_ids_in_commit_order(self) -> bool: ...

    def last_event_id(self) -> int: ...

    def status_events_since(self, event_id: int) -> list[tuple[int, int]]: ...

    def resolved_among(self, ticket_ids: list[int]) -> set[int]: ...

    def newest_resolved_ids(self, limit: int) -> list[int]: ...

    def texts(self, ticket_ids: list[int]) -> list[tuple[int, str]]: ...


class ResolvedIndex:
    """TF-IDF over the newest ``limit`` resolved tickets, kept up to date as tickets are resolved
    or reopened.

    Each look reads only the status changes logged since the last one (event ids above a
    watermark), so a filing no longer reads every resolved ticket's id: in the steady-state soak
    that read, and the index holding every resolved ticket, grew with the closed tickets. New
    resolutions are added and reopened tickets dropped without a refit (``Segments.updated``);
    a full refit happens once the changes since the last one outnumber half the tickets held.
    Unlike the experts' index, unknown words are no refit trigger by default (``refit_drift``
    1.0): a ticket brings new word pairs for 10-20 % of its terms (about 65 per synthetic ticket),
    so a 5 % drift refitted at nearly every resolution.

    Refits after the first run in a background thread (``spawn``); the index they replace keeps
    answering, and the changes made meanwhile are replayed on the new one.

    PostgreSQL hands out event ids before commit, so a transaction can commit an event below
    ids already seen: the look re-reads the last ``overlap`` event ids (skipping events it has
    applied) at most every ``reread_every`` seconds, and every ``resync_every`` seconds the held
    set is compared with the database. SQLite's single writer hands them out in commit order, so
    there it re-reads none.
    The index holds about 10 KB per ticket (postings both ways, new bigrams in the vocabulary,
    the text), hence the bound.
    """

    def __init__(self, limit: int = 10_000, refit_drift: float = 1.0, resync_every: float = 300.0,
                 overlap: int = 500, reread_every: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 spawn: Callable[[Callable[[], None]], None] = _in_thread) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._refit_drift = refit_drift
        self._resync_every = resync_every
        self._overlap = overlap
        self._reread_every = reread_every
        self._reread_at: float | None = None
        self._clock = clock
        self._segments: Segments | None = None
        self._held: set[int] = set()
        self._order: list[int] = []  # the held ids, ascending
        self._watermark = 0  # newest status event applied
        self._applied: set[int] = set()  # event ids inside the overlap already applied
        self._synced_at: float | None = None
        self._changed = 0  # tickets added or dropped since the last fit
        self._spawn = spawn
        # While a refit runs in the background: the texts added since it started, to replay.
        self._since_refit: dict[int, str] | None = None

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    def similar(self, text: str, source: ResolvedSource, k: int = 20) -> list[tuple[int, float]]:
        """(ticket id, cosine) of the resolved tickets most like ``text``."""
        segments = self._current(source)
        if segments is None:
            return []
        ids, scores = segments.top(text, k)
        order = np.lexsort((ids, -scores))[:k]
        return [(int(ids[i]), round(float(scores[i]), 4)) for i in order if scores[i] >= SIMILAR_SCORE]

    def _current(self, source: ResolvedSource) -> Segments | None:
        with self._lock:
            if self._synced_at is None or self._clock() - self._synced_at >= self._resync_every:
                self._resync(source)
            else:
                self._follow(source)
            return self._segments

    def _resync(self, source: ResolvedSource) -> None:
        # The mark is read first: a change committed meanwhile is above it and seen next time.
        mark = source.last_event_id()
        wanted = set(source.newest_resolved_ids(self._limit))
        self._apply(sorted(wanted - self._held), sorted(self._held - wanted), source)
        self._watermark, self._applied = mark, set()
        self._synced_at = self._clock()

    def _follow(self, source: ResolvedSource) -> None:
        floor = max(self._watermark - self._reread(source), 0)
        events = [(e, t) for e, t in source.status_events_since(floor) if e not in self._applied]
        if not events:
            return
        changed = sorted({t for _e, t in events})
        resolved = source.resolved_among(changed)
        added = [t for t in changed if t in resolved and t not in self._held]
        removed = [t for t in changed if t not in resolved and t in self._held]
        self._apply(*self._newest_only(added, removed), source)
        self._watermark = max(self._watermark, max(e for e, _t in events))
        # Kept over the whole overlap even on a look that did not re-read it, so the next re-read
        # skips what was applied meanwhile.
        floor = self._watermark - self._overlap
        self._applied = {e for e in self._applied if e > floor} | {e for e, _t in events if e > floor}

    def _newest_only(self, added: list[int], removed: list[int]) -> tuple[list[int], list[int]]:
        """The changes, with the oldest tickets dropped when the index would hold more than its
        limit. Worked out from the few oldest held (``_order`` is ascending): set operations and
        a sort over all 10,000 held on every look cost a millisecond."""
        excess = len(self._held) + len(added) - len(removed) - self._limit
        if excess <= 0:
            return added, removed
        gone = set(removed)
        oldest = [t for t in self._order[:excess + len(removed)] if t not in gone]
        evicted = set(heapq.nsmallest(excess, oldest + added))
        return [t for t in added if t not in evicted], removed + sorted(evicted - set(added))

    def _reread(self, source: ResolvedSource) -> int:
        """How many event ids below the watermark this look reads again. None where no event can
        commit below one already seen (SQLite), and the overlap at most every ``reread_every``
        seconds elsewhere: re-read on every filing, it was 500 rows and PostgreSQL's costliest
        query in a filing (0.8 ms); a late commit now shows within a second."""
        if source.event_ids_in_commit_order:
            return 0
        now = self._clock()
        if self._reread_at is not None and now - self._reread_at < self._reread_every:
            return 0
        self._reread_at = now
        return self._overlap

    def _apply(self, added: list[int], removed: list[int], source: ResolvedSource) -> None:
        if not added and not removed and (self._segments is not None or not self._held):
            return
        self._hold(added, removed)
        refit = False
        if not self._held:
            self._segments = None
        elif self._segments is not None:
            texts = source.texts(added)
            self._segments = self._segments.updated(texts, removed)
            self._changed += len(added) + len(removed)
            if self._since_refit is not None:
                self._since_refit.update(texts)
            # Refit once the tickets added and dropped since the last fit outnumber half of those
            # held: the document frequencies are then stale, and words only dropped tickets used
            # still take room in the vocabulary. Refits grow geometrically while the index fills,
            # so their total cost stays proportional to the tickets held.
            stale = self._segments.unknown_share > self._refit_drift or self._changed > len(self._held) // 2
            refit = stale and self._since_refit is None
        else:
            self._segments, self._changed = Segments.fit(source.texts(self._order)), 0
        if refit:
            self._refit_in_background(list(self._order), source.texts(self._order))

    def _hold(self, added: list[int], removed: list[int]) -> None:
        self._held.difference_update(removed)
        self._held.update(added)
        for ticket_id in removed:
            del self._order[bisect.bisect_left(self._order, ticket_id)]
        for ticket_id in added:
            bisect.insort(self._order, ticket_id)

    def _refit_in_background(self, ids: list[int], texts: list[tuple[int, str]]) -> None:
        """Fit the held tickets in another thread while the current index keeps answering.

        On SQLite a filing's reads run on the event loop, so a refit there (1-2 s at 10,000
        tickets) stalled every request of the process: the soak's worst p99 rounds. The texts
        are read here, in the request's session; changes made meanwhile are replayed on the new
        index before it is swapped in. ``spawn`` must run the job later or elsewhere: it takes
        the lock the caller holds."""
        self._since_refit = {}

        def refit() -> None:
            fitted = Segments.fit(texts)
            with self._lock:
                recent, self._since_refit = self._since_refit or {}, None
                fitted_ids = set(ids)
                added = sorted(self._held - fitted_ids)
                removed = sorted(fitted_ids - self._held)
                if self._held:
                    self._segments = fitted.updated([(i, recent[i]) for i in added], removed)
                self._changed = len(added) + len(removed)

        self._spawn(refit)


@dataclass(frozen=True)
class Segments:
    """The tickets of the last fit, less those dropped since, beside the tickets added since.

    An update analyses the new tickets and rebuilds only the added rows. It used to rebuild the
    whole ranker (``ExpertRanker.updated``: every ticket's postings sorted again by term, the
    pruning tables, the filters): 150-190 ms a look at 10,000 tickets, paid by a filing whenever a
    ticket had been resolved since the last one.

    The added tickets are vectorised in the fitted space extended with their new words, exactly
    as ``ExpertRanker.updated`` did, so scores are those of one index holding them all. Immutable:
    a look scores the segments it was handed while an update builds new ones.

    >>> s = Segments.fit([(1, "USB token không ký số được"), (2, "Wi-Fi tầng hai chập chờn")])
    >>> s = s.updated([(3, "Cấp lại chứng thư số, USB token bị khoá")], removed=[1])
    >>> ids, scores = s.top("USB token bị khoá", k=3)
    >>> [int(i) for i in ids[np.argsort(-scores)]], 1 in ids
    ([3], False)
    """

    fitted: ExpertRanker
    alive: np.ndarray  # per fitted ticket (``fitted.expert_ids_`` order): not dropped since
    querier: ExpertRanker  # ``fitted`` analysing texts over the extended space
    added_ids: np.ndarray
    added: sp.csr_matrix  # one row per added ticket, the extended space's columns
    unknown: int = 0  # term occurrences of the added tickets the fit did not know
    total: int = 0
    multipliers: np.ndarray | None = None  # for the pruned top k: 0 for those dropped, None if none

    @classmethod
    def fit(cls, texts: list[tuple[int, str]]) -> Segments:
        # Glossary expansion and typo correction are for problems against expert profiles;
        # ticket against ticket compares the words themselves.
        fitted = ExpertRanker(expand_skills=False, correct_typos=False).fit(
            [ExpertProfile(i, (Document(t),)) for i, t in texts])
        width = len(fitted.space_.vocabulary)
        return cls(fitted, np.ones(len(fitted.expert_ids_), dtype=bool), fitted, np.zeros(0, dtype=np.int64),
                   sp.csr_matrix((0, width), dtype=np.float32))

    @property
    def unknown_share(self) -> float:
        """Share of the added tickets' term occurrences that the fit had not seen."""
        return self.unknown / self.total if self.total else 0.0

    def updated(self, texts: list[tuple[int, str]], removed: Sequence[int] = ()) -> Segments:
        """New segments with ``texts`` added (replacing tickets of the same id) and ``removed``
        dropped."""
        gone = np.array(sorted({*removed, *(i for i, _t in texts)}), dtype=np.int64)
        alive = self.alive & ~np.isin(self.fitted.expert_ids_, gone) if len(gone) else self.alive
        kept = ~np.isin(self.added_ids, gone)
        space, fresh, unknown, total = self.querier.space_.extended([t for _i, t in texts])
        rows = self.added if kept.all() else self.added[kept]
        # Stacked by hand: the rows are already in order, and scipy's vstack checked and copied
        # them again.
        added = sp.csr_matrix((np.concatenate([rows.data, fresh.data.astype(np.float32)]),
                               np.concatenate([rows.indices, fresh.indices]).astype(np.int32, copy=False),
                               np.concatenate([rows.indptr, fresh.indptr[1:] + rows.nnz])),
                              shape=(rows.shape[0] + fresh.shape[0], fresh.shape[1]))
        ids = np.concatenate([self.added_ids[kept], np.array([i for i, _t in texts], dtype=np.int64)])
        querier = self.querier if space is self.querier.space_ else self.fitted.with_space(space)
        return Segments(self.fitted, alive, querier, ids, added, self.unknown + unknown, self.total + total,
                        None if alive.all() else alive.astype(np.float64))

    def top(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ticket ids, cosine with ``text``) of the ``k`` held tickets most like it, unordered.

        The fitted tickets through the matcher's pruned top-k (dropped ones at multiplier 0):
        scoring every posting of a whole ticket's terms took 2.7 ms at 10,000 tickets."""
        columns, weights = self.querier.query_terms(text)
        width = self.fitted.documents_csc_.shape[1]
        inside = columns < width
        found, fitted = self.fitted.pruned_.top(columns[inside], weights[inside], k, self.multipliers)
        # The added rows against the query as a dense vector: a sparse product (scipy multiplies
        # two sparse matrices) took 4.7 ms for 2,500 added tickets, this 0.9 ms.
        added = np.zeros(0, dtype=np.float32)
        if len(self.added_ids):
            dense = np.zeros(self.added.shape[1], dtype=np.float32)
            dense[columns] = weights
            added = self.added @ dense
        # Read as an absolute similarity, a cosine must count the words no resolved ticket has.
        coverage = self.querier.space_.coverage(text)
        return (np.concatenate([self.fitted.expert_ids_[found], self.added_ids]),
                np.concatenate([fitted, added]) * coverage)
