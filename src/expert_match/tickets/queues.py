"""Coordinator views: the queues (what needs a human now) and the service's metrics."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from expert_match.experts.repository import ExpertRepository
from expert_match.tickets.desk import Desk
from expert_match.tickets.repository import (PRIORITY_RANK, QueueFilter, Scope, TicketBrief, TicketFilter,
                                             TicketRepository, TicketView)
from expert_match.tickets.service import targets_of
from expert_match.tickets.sla import Alerts, Priority, TargetName, TargetState, alert_basis, queue_state
from expert_match.tickets.states import OPEN_STATES, TicketStatus
from expert_match.tickets.workflow import history
from expert_match.timeutil import CITY_TIME

H = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Load:
    expert_id: int
    name: str
    load: int
    capacity: int


@dataclass(frozen=True, slots=True)
class Section:
    briefs: list[TicketBrief]  # the first ``limit`` in the chosen order; pages load them (``shown``)
    total: int  # every ticket in the section


_BY_STATUS = {"unassigned": (TicketStatus.NEW, TicketStatus.MATCHING),
              "needs_attention": (TicketStatus.NEEDS_ATTENTION,)}
_BY_ALERT = {"at_risk": TargetState.AT_RISK, "breached": TargetState.BREACHED}


@dataclass(frozen=True, slots=True)
class Queues:
    sections: dict[str, Section]  # unassigned (new or matching), needs_attention, at_risk, breached
    by_district: dict[str, int]  # every open ticket, whatever the filter
    by_category: dict[str, int]
    loads: list[Load]  # most loaded (relative to capacity) first


def queues(session: Session, desk: Desk, now: datetime, *, limit: int = 50, loads_limit: int | None = None,
           chosen: QueueFilter = QueueFilter()) -> Queues:
    """The coordinators' queues at ``now``: each section's first ``limit`` tickets (filtered and
    ordered by ``chosen``) and its size, counted and cut by the database. Reading every open
    ticket to sort it here made a queue's cost grow with the city's backlog (at 1,000 open
    tickets, half of each request). Tickets whose alert instants are stale are replayed and
    merged in (``alert_states``)."""
    repo = TicketRepository(session)
    basis = alert_basis(desk.calendar)
    stale = repo.open_briefs(OPEN_STATES, stale_for=basis, chosen=chosen)
    state = alert_states(session, desk, stale, now) if stale else {}
    sections = {name: Section(*repo.queue_section(statuses, chosen, limit)) for name, statuses in _BY_STATUS.items()}
    for name, wanted in _BY_ALERT.items():
        briefs, total = repo.queue_section(OPEN_STATES, chosen, limit, alert=name, now=now, basis=basis)
        replayed = [b for b in stale if state[b.id] == wanted]
        if replayed:
            reverse = chosen.order == "newest"
            briefs = sorted(briefs + replayed, key=_order_key(chosen.order), reverse=reverse)[:limit]
        sections[name] = Section(briefs, total + len(replayed))
    counts = repo.open_counts(OPEN_STATES)
    return Queues(
        sections=sections,
        by_district=_named_counts([(district, n) for district, _category, n in counts], "unknown"),
        by_category=_named_counts([(category, n) for _district, category, n in counts], "uncategorised"),
        loads=expert_loads(session, loads_limit),
    )


def _order_key(order: str) -> Callable[[TicketBrief], tuple]:
    """``QueueFilter.order`` in Python, for merging replayed tickets into a section."""
    if order in ("oldest", "newest"):
        return lambda t: (t.created_at, t.id)
    if order == "priority":
        return lambda t: (PRIORITY_RANK[Priority(t.priority)], t.created_at, t.id)
    return lambda t: (t.id,)


def _named_counts(counts: list[tuple[str | None, int]], missing: str) -> dict[str, int]:
    named: Counter[str] = Counter()
    for key, count in counts:
        named[key or missing] += count
    return dict(sorted(named.items()))


def alert_states(session: Session, desk: Desk, briefs: list[TicketBrief], now: datetime) -> dict[int, TargetState | None]:
    """Each ticket's queue at ``now`` (breached, at risk or none) from its stored alert instants:
    two columns instead of its history replayed through the calendar (at 3,000 open tickets that
    replay was most of the soak's CPU). A ticket whose instants were computed on another calendar,
    or not yet (the scheduler fills them in), is replayed as before."""
    basis = alert_basis(desk.calendar)
    stale = [b for b in briefs if b.alert_basis != basis]
    past = history(session, stale)
    states = {b.id: queue_state(targets_of(desk, b, past[b.id], now, due_times=False)) for b in stale}
    return {b.id: states[b.id] if b.id in states else Alerts(b.alert_at_risk, b.alert_breach).state(now) for b in briefs}


def shown(session: Session, briefs: list[TicketBrief]) -> list[TicketView]:
    """The tickets behind the briefs a page lists, with their orgs' names and their histories,
    in the same order."""
    return TicketRepository(session).views([b.id for b in briefs])


def expert_loads(session: Session, limit: int | None = None) -> list[Load]:
    """Active experts, most loaded relative to capacity first (no capacity counts as full), then
    by id; the first ``limit``."""
    return [Load(*row) for row in TicketRepository(session).most_loaded(limit)]


@dataclass(frozen=True, slots=True)
class Metrics:
    tickets_by_status: dict[str, int]
    median_hours_to_assignment: float | None  # business hours, tickets assigned so far
    median_hours_to_resolution: float | None
    offers_by_state: dict[str, int]
    acceptance_rate: float | None  # accepted / answered or expired offers
    utilisation: float | None  # active tickets / capacity of active experts


def metrics(session: Session, desk: Desk, now: datetime) -> Metrics:
    repo = TicketRepository(session)
    tickets = repo.matching(Scope(everything=True), TicketFilter())
    past = history(session, tickets)
    to_assign, to_resolve = [], []
    for ticket in tickets:
        for target in targets_of(desk, ticket, past[ticket.id], now):
            if target.completed_at is None:
                continue
            if target.name == TargetName.ASSIGNMENT:
                to_assign.append(target.elapsed / H)
            elif target.name == TargetName.RESOLUTION:
                to_resolve.append(target.elapsed / H)
    offer_counts = repo.offer_counts()
    decided = sum(offer_counts.get(s, 0) for s in ("accepted", "declined", "expired"))
    capacity = sum(c for _i, _n, c in ExpertRepository(session).capacities())
    by_status = repo.status_counts()
    return Metrics(
        tickets_by_status={s.value: by_status.get(s.value, 0) for s in TicketStatus},
        median_hours_to_assignment=round(statistics.median(to_assign), 2) if to_assign else None,
        median_hours_to_resolution=round(statistics.median(to_resolve), 2) if to_resolve else None,
        offers_by_state=offer_counts,
        acceptance_rate=round(offer_counts.get("accepted", 0) / decided, 4) if decided else None,
        utilisation=round(sum(repo.loads().values()) / capacity, 4) if capacity else None,
    )


def weekly_tickets(session: Session, now: datetime, weeks: int = 8) -> list[tuple[date, dict[str, int]]]:
    """Tickets filed in each of the last ``weeks`` weeks (Monday to Sunday in Da Nang), counted by
    their current status; oldest week first, empty weeks included."""
    today = now.astimezone(CITY_TIME).date()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = datetime.combine(first, time(0), CITY_TIME)
    counts: dict[date, Counter[str]] = {first + timedelta(weeks=i): Counter() for i in range(weeks)}
    for at, status in TicketRepository(session).created_since(since):
        day = at.astimezone(CITY_TIME).date()
        counts[day - timedelta(days=day.weekday())][status] += 1
    return [(week, dict(counter)) for week, counter in counts.items()]
