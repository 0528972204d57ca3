"""Tickets like a new one: possible duplicates from the same org (rapidfuzz on folded text), and
resolved tickets ranked by the matcher's TF-IDF (so earlier advice can be reused)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
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
    resolutions are added and reopened tickets dropped without a refit (``ExpertRanker.updated``);
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
        self._ranker: ExpertRanker | None = None
        self._held: set[int] = set()
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
        ranker = self._current(source)
        if ranker is None:
            return []
        # Read as an absolute similarity, a cosine must count the words no resolved ticket has.
        scores = ranker.text_scores(text) * ranker.space_.coverage(text)
        order = np.lexsort((ranker.expert_ids_, -scores))[:k]
        return [(int(ranker.expert_ids_[i]), round(float(scores[i]), 4)) for i in order if scores[i] >= SIMILAR_SCORE]

    def _current(self, source: ResolvedSource) -> ExpertRanker | None:
        with self._lock:
            if self._synced_at is None or self._clock() - self._synced_at >= self._resync_every:
                self._resync(source)
            else:
                self._follow(source)
            return self._ranker

    def _resync(self, source: ResolvedSource) -> None:
        # The mark is read first: a change committed meanwhile is above it and seen next time.
        mark = source.last_event_id()
        self._apply(set(source.newest_resolved_ids(self._limit)), source)
        self._watermark, self._applied = mark, set()
        self._synced_at = self._clock()

    def _follow(self, source: ResolvedSource) -> None:
        floor = max(self._watermark - self._reread(source), 0)
        events = [(e, t) for e, t in source.status_events_since(floor) if e not in self._applied]
        if not events:
            return
        changed = sorted({t for _e, t in events})
        wanted = (self._held - set(changed)) | source.resolved_among(changed)
        if len(wanted) > self._limit:  # the newest only; sorting 10,000 ids on every look is waste
            wanted = set(sorted(wanted)[-self._limit:])
        self._apply(wanted, source)
        self._watermark = max(self._watermark, max(e for e, _t in events))
        # Kept over the whole overlap even on a look that did not re-read it, so the next re-read
        # skips what was applied meanwhile.
        floor = self._watermark - self._overlap
        self._applied = {e for e in self._applied if e > floor} | {e for e, _t in events if e > floor}

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

    def _apply(self, wanted: set[int], source: ResolvedSource) -> None:
        if wanted == self._held and (self._ranker is not None or not wanted):
            return
        refit = False
        if not wanted:
            self._ranker = None
        elif self._ranker is not None:
            added, removed = sorted(wanted - self._held), sorted(self._held - wanted)
            texts = source.texts(added)
            self._ranker = self._ranker.updated(_tickets(texts), removed)
            self._changed += len(added) + len(removed)
            if self._since_refit is not None:
                self._since_refit.update(texts)
            # Refit once the tickets added and dropped since the last fit outnumber half of those
            # held: the document frequencies are then stale, and words only dropped tickets used
            # still take room in the vocabulary. Refits grow geometrically while the index fills,
            # so their total cost stays proportional to the tickets held.
            stale = self._ranker.unknown_share_ > self._refit_drift or self._changed > len(wanted) // 2
            refit = stale and self._since_refit is None
        if wanted and self._ranker is None:
            self._ranker, self._changed = _fit(source.texts(sorted(wanted))), 0
        self._held = wanted
        if refit:
            self._refit_in_background(sorted(wanted), source.texts(sorted(wanted)))

    def _refit_in_background(self, ids: list[int], texts: list[tuple[int, str]]) -> None:
        """Fit the held tickets in another thread while the current index keeps answering.

        On SQLite a filing's reads run on the event loop, so a refit there (1-2 s at 10,000
        tickets) stalled every request of the process: the soak's worst p99 rounds. The texts
        are read here, in the request's session; changes made meanwhile are replayed on the new
        index before it is swapped in. ``spawn`` must run the job later or elsewhere: it takes
        the lock the caller holds."""
        self._since_refit = {}

        def refit() -> None:
            fitted = _fit(texts)
            with self._lock:
                recent, self._since_refit = self._since_refit or {}, None
                fitted_ids = set(ids)
                added = sorted(self._held - fitted_ids)
                removed = sorted(fitted_ids - self._held)
                if self._held:
                    self._ranker = fitted.updated(_tickets([(i, recent[i]) for i in added]), removed)
                self._changed = len(added) + len(removed)

        self._spawn(refit)


def _fit(texts: list[tuple[int, str]]) -> ExpertRanker:
    # Glossary expansion and typo correction are for problems against expert profiles; ticket
    # against ticket compares the words themselves.
    return ExpertRanker(expand_skills=False, correct_typos=False).fit(_tickets(texts))


def _tickets(texts: list[tuple[int, str]]) -> list[ExpertProfile]:
    return [ExpertProfile(i, (Document(t),)) for i, t in texts]
