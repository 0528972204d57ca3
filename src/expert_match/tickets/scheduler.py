"""Time-driven work: expire offers and send the next round, close quiet resolved tickets, record
service-target breaches.

Safe to run twice or on several instances at once: each ticket is handled in its own transaction
that first claims the ticket row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a ticket another
scheduler holds is skipped, not waited for; on SQLite the writer's ``BEGIN IMMEDIATE`` serialises
the schedulers) and then re-checks, inside the claim, that the work is still due. Whatever the
interleaving, each offer expires once, each ticket closes once, each breach is recorded once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from expert_match.auth.service import forget_old_events
from expert_match.db.engine import Database
from expert_match.notify.outbox import deliver_due
from expert_match.settings import Settings
from expert_match.tickets import offers
from expert_match.tickets.desk import Desk
from expert_match.tickets.models import Ticket
from expert_match.tickets.repository import TicketBrief, TicketRepository
from expert_match.tickets.queues import alert_states
from expert_match.tickets.service import targets_of
from expert_match.tickets.sla import TargetState, alert_basis
from expert_match.tickets.states import OPEN_STATES, Actor, TicketAction, TicketStatus
from expert_match.tickets.workflow import apply, history, record, refresh_alerts

log = logging.getLogger("expert_match.scheduler")
BATCH = 200


@dataclass
class Report:
    offers_expired: int = 0
    tickets_closed: int = 0
    breaches: int = 0
    alerts_refreshed: int = 0
    skipped: int = 0  # tickets another scheduler held
    errors: list[str] = field(default_factory=list)


def run_once(database: Database, desk: Desk, now: datetime) -> Report:
    report = Report()
    with database.reader() as session:
        repo = TicketRepository(session)
        expiring = repo.expired_offer_tickets(now, BATCH)
        closing = repo.resolved_quietly_before(now - desk.auto_close_after, BATCH)
        # Only tickets with a breach not yet recorded are claimed: a pass over thousands of open
        # tickets must not take the (SQLite: single) writer thousands of times.
        breaching = _unrecorded_breaches(session, desk, repo.open_briefs(OPEN_STATES), now)
        # Tickets filed before the alert instants existed, or computed on last year's calendar.
        stale = repo.stale_alerts(OPEN_STATES, alert_basis(desk.calendar), BATCH)
    for ticket_id in expiring:
        _claimed(database, ticket_id, report, lambda s, t: _expire(s, desk, t, now, report))
    for ticket_id in closing:
        _claimed(database, ticket_id, report, lambda s, t: _auto_close(s, desk, t, now, report))
    for ticket_id in breaching:
        _claimed(database, ticket_id, report, lambda s, t: _breaches(s, desk, t, now, report))
    for ticket_id in stale:
        _claimed(database, ticket_id, report, lambda s, t: _refresh(s, desk, t, report))
    return report


def _claimed(database: Database, ticket_id: int, report: Report, work: Callable[[Session, Ticket], None]) -> None:
    try:
        with database.writer() as session, session.begin():
            ticket = TicketRepository(session).lock(ticket_id, skip_locked=True)
            if ticket is None:
                report.skipped += 1
                return
            work(session, ticket)
    except Exception as exc:  # one bad ticket must not stop the others; it is retried next run
        log.exception("scheduler: ticket %s failed", ticket_id)
        report.errors.append(f"ticket {ticket_id}: {exc}")


def _expire(session: Session, desk: Desk, ticket: Ticket, now: datetime, report: Report) -> None:
    report.offers_expired += offers.expire_due(session, desk, ticket, now)


def _auto_close(session: Session, desk: Desk, ticket: Ticket, now: datetime, report: Report) -> None:
    if ticket.status != TicketStatus.RESOLVED or ticket.resolved_at is None \
            or now - ticket.resolved_at < desk.auto_close_after:
        return  # reopened or closed since the list was read
    apply(session, ticket, TicketAction.AUTO_CLOSE, {Actor.SYSTEM}, now, calendar=desk.calendar,
          data={"quiet_days": desk.auto_close_after.days})
    report.tickets_closed += 1


def _refresh(session: Session, desk: Desk, ticket: Ticket, report: Report) -> None:
    refresh_alerts(session, ticket, desk.calendar)
    report.alerts_refreshed += 1


def _unrecorded_breaches(session: Session, desk: Desk, tickets: list[TicketBrief], now: datetime) -> list[int]:
    # Only breached tickets can have an unrecorded breach: their stored instants say which.
    states = alert_states(session, desk, tickets, now)
    tickets = [t for t in tickets if states[t.id] == TargetState.BREACHED]
    past = history(session, tickets)
    recorded = TicketRepository(session).recorded_breaches([t.id for t in tickets])
    return [t.id for t in tickets
            if any(target.state == TargetState.BREACHED and target.completed_at is None
                   and target.name.value not in recorded.get(t.id, set())
                   for target in targets_of(desk, t, past[t.id], now, due_times=False))]


def housekeeping(database: Database, now: datetime, settings: Settings) -> None:
    """Work that belongs to no request: old rate-limit events are dropped here, once a pass."""
    with database.writer.begin() as session:
        forget_old_events(session, now, settings)


def _breaches(session: Session, desk: Desk, ticket: Ticket, now: datetime, report: Report) -> None:
    recorded = {e.data.get("target") for e in TicketRepository(session).events(ticket.id, include_internal=True)
                if e.kind == "breach"}
    for target in targets_of(desk, ticket, history(session, [ticket])[ticket.id], now):
        if target.state == TargetState.BREACHED and target.completed_at is None and target.name.value not in recorded:
            record(session, ticket, "breach", Actor.SYSTEM, now,
                   data={"target": target.name.value, "due_at": target.due_at.isoformat() if target.due_at else None})
            report.breaches += 1


class Scheduler:
    """Runs ``run_once`` and delivers notifications every ``interval`` seconds in a thread
    (``serve --with-scheduler``)."""

    def __init__(self, database: Database, desk: Desk, settings: Settings, clock: Callable[[], datetime],
                 interval: float = 30.0) -> None:
        self._database, self._desk, self._settings = database, desk, settings
        self._clock, self._interval = clock, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            report = run_once(self._database, self._desk, self._clock())
            housekeeping(self._database, self._clock(), self._settings)
            if report.offers_expired or report.tickets_closed or report.breaches or report.errors:
                log.info("scheduler: %s", report)
            delivered = deliver_due(self._database, self._settings, self._clock())
            if delivered.sent or delivered.failed or delivered.retried:
                log.info("notifications: %s", delivered)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
