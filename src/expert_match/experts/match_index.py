"""The matcher's index over the registry: fitted at start-up, refreshed as experts change.

Readers always use the current ranker snapshot; a change builds a new snapshot with
``ExpertRanker.updated`` and swaps the reference under a lock, so a request never waits for a
refit. Changes are found through the database (profiles written since a watermark), so an edit
made by another instance or by ``expert-match import-experts`` is seen within
``poll_seconds`` (in the app, a due poll runs beside the request that found it due). When
updates bring too many words the fitted vocabulary lacks, a full refit runs in a background
thread and is swapped in when ready.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from expert_match.experts.models import ExpertProfile as ExpertRow
from expert_match.experts.repository import ExpertRepository
from expert_match.matching.heap import collection_paused
from expert_match.matching.profiles import (
    BIO,
    HEADLINE,
    TICKET,
    Document,
    ExpertProfile,
    Match,
    Period,
    Problem,
    SkillEvidence,
)
from expert_match.matching.ranker import ExpertRanker
from expert_match.timeutil import utc_now

log = logging.getLogger("expert_match.matching")

# Rows written this long before the watermark are read again: a transaction that stamped its
# rows earlier but committed after the last poll must not be missed.
OVERLAP = timedelta(seconds=60)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def match_profile(row: ExpertRow, resolved: Sequence[str] = ()) -> ExpertProfile:
    """The matcher's plain view of a registry profile; ``resolved`` are the texts of tickets the
    expert resolved with good feedback (one document each)."""
    skills = []
    for item in row.skills:
        if item.skill is not None:
            names = (item.skill.name_en, *(item.skill.aliases or ()))
            skills.append(SkillEvidence(item.skill.name_vi, names, item.level))
        elif item.free_text:
            skills.append(SkillEvidence(item.free_text, (), item.level))
    return ExpertProfile(
        expert_id=row.id,
        documents=(Document(row.headline, HEADLINE), Document(row.bio or "", BIO),
                   *(Document(text, TICKET) for text in resolved)),
        skills=tuple(skills),
        languages=frozenset(row.languages or ()),
        districts=frozenset(d.district_code for d in row.districts),
        onsite_possible=row.onsite_possible,
        capacity=row.capacity,
        leave=tuple(Period(p.starts_at, p.ends_at) for p in row.leave),
        affiliation_org_id=row.affiliation_org_id,
        conflict_org_ids=frozenset(c.org_id for c in row.conflicts),
        active=row.active,
    )


def poll_in_thread(job: Callable[[], None]) -> None:
    """How the app runs a due poll: in a daemon thread, beside the request that found it due."""
    threading.Thread(target=job, name="matcher-poll", daemon=True).start()


def warm_up(ranker: ExpertRanker) -> None:
    """One ranking before the index serves: caches built on first use (the term list, the spelling
    corrector) are then built once, not by every request that arrives at start-up."""
    ranker.rank(Problem("chuyển đổi số chu ky so"), 1, now=EPOCH)


class MatchIndex:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        make_ranker: Callable[[], ExpertRanker] = ExpertRanker,
        poll_seconds: float = 2.0,
        refit_drift: float = 0.05,
        clock: Callable[[], datetime] = utc_now,
        spawn: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self._sessions = sessions
        # The clock that stamps profile changes (the app's): polls look back from its readings.
        self._clock = clock
        self._read_at: datetime | None = None
        self._make_ranker = make_ranker
        self._poll_seconds = poll_seconds
        self._refit_drift = refit_drift
        self._lock = threading.Lock()
        self._ranker: ExpertRanker | None = None
        self._watermark: datetime | None = None
        self._last_poll = 0.0
        self._refitting: threading.Thread | None = None
        self._changed_during_refit: set[int] = set()
        self._seen: dict[int, datetime] = {}  # update time of each expert as last read
        # None: a due poll runs in the ranking request (tests, the CLI). The app passes a thread
        # starter: a request ranks with the current snapshot instead of waiting for the update
        # (150-250 ms at 13,000 experts, in the filing that came after a rating handled by the
        # other worker), and the requests after it see the change.
        self._spawn = spawn
        self._polling = False

    # -- life cycle ----------------------------------------------------------------------------
    def build(self) -> None:
        """Fit from every profile in the database (start-up, and the background refit)."""
        read_at = self._clock()
        ranker, watermark = self._fit_from_database()
        warm_up(ranker)
        with self._lock:
            self._ranker, self._watermark = ranker, watermark
            self._read_at = read_at
            self._last_poll = time.monotonic()

    @property
    def ranker(self) -> ExpertRanker:
        if self._ranker is None:
            self.build()
        assert self._ranker is not None
        return self._ranker

    def rank(self, problem: Problem, k: int, *, now: datetime, loads: Mapping[int, int] | None = None) -> list[Match]:
        self._poll_when_due()
        return self.ranker.rank(problem, k, now=now, loads=loads)

    def _poll_when_due(self) -> None:
        if self._spawn is None:
            self.poll()
            return
        if time.monotonic() - self._last_poll < self._poll_seconds:
            return
        with self._lock:
            if self._polling:
                return
            self._polling = True

        def job() -> None:
            try:
                self.poll(force=True)
            except Exception:  # the next due poll tries again; the current snapshot keeps serving
                log.exception("reading changed experts for the matcher failed")
            finally:
                self._polling = False

        self._spawn(job)

    # -- keeping up with changes -------------------------------------------------------------
    def refresh(self, expert_ids: Sequence[int]) -> None:
        """Re-read these experts from the database now (after the commit that changed them)."""
        if not expert_ids:
            return
        profiles, removed = self._read(expert_ids)
        with self._lock:
            current = self.ranker
            self._ranker = current.updated(profiles, removed=removed)
            if self._refitting is not None:
                self._changed_during_refit.update(expert_ids)
        self._maybe_refit()

    def _read(self, expert_ids: Sequence[int]) -> tuple[list[ExpertProfile], list[int]]:
        """The matcher's view of these experts as stored now, and the ids no longer stored."""
        # begin(): the read ends in a commit. Closing a session mid-transaction rolls back, and
        # psycopg then forgets every statement it prepared on that connection (http.deps.end_reads).
        with self._sessions.begin() as session:
            repo = ExpertRepository(session)
            rows = repo.for_matching(expert_ids)
            evidence = repo.resolved_evidence([row.id for row in rows])
            profiles = [match_profile(row, evidence.get(row.id, ())) for row in rows]
        self._seen.update({row.id: row.updated_at for row in rows})
        found = {p.expert_id for p in profiles}
        return profiles, [i for i in expert_ids if i not in found]

    def poll(self, *, force: bool = False) -> None:
        """Refresh experts changed in the database since the last poll (any instance, any tool)."""
        if not force and time.monotonic() - self._last_poll < self._poll_seconds:
            return
        self._last_poll = time.monotonic()
        # Every change stamped more than OVERLAP before the previous read had committed by then,
        # so it was seen. Looking back from the watermark instead re-read all 13,000 experts of a
        # bulk import on every poll, forever, while nothing changed.
        read_at = self._clock()
        since = (self._read_at or EPOCH) - OVERLAP
        with self._sessions.begin() as session:  # ends in a commit (see _read)
            stamps = ExpertRepository(session).changed_since(since)
        changed = [expert_id for expert_id, stamp in stamps if self._seen.get(expert_id) != stamp]
        if changed:
            self.refresh(changed)
        for expert_id, stamp in stamps:
            self._seen[expert_id] = stamp
            self._watermark = max(self._watermark or stamp, stamp)
        self._read_at = read_at

    def _maybe_refit(self) -> None:
        ranker = self._ranker
        if ranker is not None and ranker.unknown_share_ > self._refit_drift:
            log.info("vocabulary drift %.1f%%: refitting the matcher in the background", 100 * ranker.unknown_share_)
            self.request_refit()

    def request_refit(self) -> None:
        """Refit from the database in a background thread (e.g. the skill taxonomy changed)."""
        with self._lock:
            if self._refitting is not None or self._refit_drift == float("inf"):
                return
            self._refitting = threading.Thread(target=self._refit, name="matcher-refit", daemon=True)
            self._refitting.start()

    def _refit(self) -> None:
        try:
            ranker, watermark = self._fit_from_database()
            while True:
                with self._lock:
                    changed = sorted(self._changed_during_refit)
                    self._changed_during_refit.clear()
                    if not changed:
                        # Swapped only once it holds every edit made during the refit: swapping
                        # first and catching up after left a moment when new experts were missing.
                        marks = [m for m in (watermark, self._watermark) if m is not None]
                        self._ranker, self._watermark = ranker, max(marks) if marks else None
                        return
                profiles, removed = self._read(changed)  # edits that landed during the refit
                ranker = ranker.updated(profiles, removed=removed)
        finally:
            self._refitting = None

    def wait_for_refit(self, timeout: float = 30.0) -> None:
        thread = self._refitting
        if thread is not None:
            thread.join(timeout)

    def close(self) -> None:
        """Stop taking refits and let a running one finish (application shutdown)."""
        self._refit_drift = float("inf")
        self.wait_for_refit()

    def _fit_from_database(self) -> tuple[ExpertRanker, datetime | None]:
        # The profiles read here are the bulk of what the ranker keeps (``matching.heap``).
        with collection_paused():
            return self._fit_paused()

    def _fit_paused(self) -> tuple[ExpertRanker, datetime | None]:
        with self._sessions.begin() as session:  # ends in a commit (see _read)
            repo = ExpertRepository(session)
            rows = repo.all_for_matching()
            evidence = repo.resolved_evidence()
            profiles = [match_profile(row, evidence.get(row.id, ())) for row in rows]
            self._seen.update({row.id: row.updated_at for row in rows})
            watermark = max((row.updated_at for row in rows), default=None)
        started = time.perf_counter()
        ranker = self._make_ranker().fit(profiles)
        log.info("matcher fitted on %d experts in %.2f s", len(profiles), time.perf_counter() - started)
        return ranker, watermark
