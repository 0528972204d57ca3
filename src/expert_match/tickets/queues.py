"""Coordinator views: the queues (what needs a human now) and the service's metrics."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from expert_match.experts.repository import ExpertRepository
from expert_match.tickets.desk import Desk
from expert_match.tickets.models import Ticket
from expert_match.tickets.repository import Scope, TicketBrief, TicketFilter, TicketRepository
from expert_match.tickets.service import targets_of
from expert_match.tickets.sla import Alerts, TargetName, TargetState, alert_basis, queue_state
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
class Queues:
    # Briefs, oldest first: the pages load the tickets they show (``shown``).
    unassigned: list[TicketBrief]  # new or matching
    needs_attention: list[TicketBrief]
    at_risk: list[TicketBrief]  # a running target with under a quarter left
    breached: list[TicketBrief]
    by_district: dict[str, int]
    by_category: dict[str, int]
    loads: list[Load]  # most loaded (relative to capacity) first


def queues(session: Session, desk: Desk, now: datetime, *, loads_limit: int | None = None) -> Queues:
    repo = TicketRepository(session)
    open_tickets = repo.open_briefs(OPEN_STATES)
    state = alert_states(session, desk, open_tickets, now)
    at_risk = [t for t in open_tickets if state[t.id] == TargetState.AT_RISK]
    breached = [t for t in open_tickets if state[t.id] == TargetState.BREACHED]
    loads = most_loaded(session, repo.loads(), loads_limit)
    return Queues(
        unassigned=[t for t in open_tickets if t.status in (TicketStatus.NEW, TicketStatus.MATCHING)],
        needs_attention=[t for t in open_tickets if t.status == TicketStatus.NEEDS_ATTENTION],
        at_risk=at_risk, breached=breached,
        by_district=dict(sorted(Counter(t.district_code or "unknown" for t in open_tickets).items())),
        by_category=dict(sorted(Counter(t.category or "uncategorised" for t in open_tickets).items())),
        loads=loads,
    )


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


def shown(session: Session, briefs: list[TicketBrief]) -> list[Ticket]:
    """The tickets behind the briefs a page lists, with their orgs, in the same order."""
    return TicketRepository(session).with_orgs([b.id for b in briefs])


def expert_loads(session: Session, limit: int | None = None) -> list[Load]:
    return most_loaded(session, TicketRepository(session).loads(), limit)


def most_loaded(session: Session, counts: dict[int, int], limit: int | None) -> list[Load]:
    """Active experts, most loaded relative to capacity first (no capacity counts as full), then
    by id. With ``limit``, only the experts who can be among the first ``limit`` are read: the
    busy ones, those with no capacity, and the first ``limit`` by id (a city has thousands)."""
    experts = ExpertRepository(session)
    if limit is None:
        rows = experts.capacities()
    else:
        rows = list({row[0]: row for row in [*experts.capacities(ids=counts), *experts.capacities(no_capacity=True),
                                            *experts.capacities(first=limit + len(counts))]}.values())
    loads = [Load(i, name, counts.get(i, 0), capacity) for i, name, capacity in rows]
    loads.sort(key=lambda x: (-(x.load / x.capacity if x.capacity else 1.0), x.expert_id))
    return loads[:limit]


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
