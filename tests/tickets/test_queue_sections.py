"""The queues are counted, filtered, ordered and cut by the database: they must list what sorting
every open ticket in Python lists, stale alert instants (replayed) included, on both engines."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from expert_match.experts.models import ExpertProfile
from expert_match.tickets.models import Ticket
from expert_match.tickets.queues import alert_states, expert_loads, queues
from expert_match.tickets.repository import PRIORITY_RANK, QUEUE_ORDERS, QueueFilter, TicketRepository
from expert_match.tickets.sla import Priority, TargetState
from expert_match.tickets.states import OPEN_STATES, WORKING_STATES
from expert_match.tickets.states import TicketStatus as S
from tests.builders import local_time
from tests.tickets.test_alerts import SIGNATURE

FILED = local_time(2026, 11, 23, 8, 0)


def reference(session, desk, now, chosen: QueueFilter, limit: int) -> dict[str, tuple[list[int], int]]:
    """Every open ticket read, placed and sorted here (what the queues did before)."""
    briefs = TicketRepository(session).open_briefs(OPEN_STATES)
    state = alert_states(session, desk, briefs, now)
    kept = [b for b in briefs if chosen.district_code in (None, b.district_code)
            and chosen.category in (None, b.category)]
    sections = {"unassigned": [b for b in kept if b.status in (S.NEW, S.MATCHING)],
                "needs_attention": [b for b in kept if b.status == S.NEEDS_ATTENTION],
                "at_risk": [b for b in kept if state[b.id] == TargetState.AT_RISK],
                "breached": [b for b in kept if state[b.id] == TargetState.BREACHED]}
    key = {"id": lambda b: (b.id,), "oldest": lambda b: (b.created_at, b.id), "newest": lambda b: (b.created_at, b.id),
           "priority": lambda b: (PRIORITY_RANK[Priority(b.priority)], b.created_at, b.id)}[chosen.order]
    return {name: ([b.id for b in sorted(rows, key=key, reverse=chosen.order == "newest")][:limit], len(rows))
            for name, rows in sections.items()}


@pytest.fixture
def varied(network, clock, database):
    """Twelve open tickets over two districts and categories, four priorities, shared filing
    times, some needing attention, some with stale alert instants."""
    client = network.client
    for i in range(12):
        clock.current = FILED + timedelta(hours=2 * (i // 2))  # pairs filed at the same instant
        body = {**SIGNATURE, "title": f"{SIGNATURE['title']} số {i}", "priority": ["urgent", "high", "normal", "low"][i % 4]}
        assert client.post("/api/v1/tickets", json=body, headers=network.requester).status_code == 201
    with database.writer() as session:
        ids = sorted(session.scalars(select(Ticket.id)))
        for n, ticket_id in enumerate(ids):
            session.execute(update(Ticket).where(Ticket.id == ticket_id).values(
                district_code=["490101", "490102", None][n % 3], category=["signature", None][n % 2],
                created_at=FILED + timedelta(hours=2 * (n // 2))))
        session.execute(update(Ticket).where(Ticket.id.in_(ids[1::4])).values(status=S.NEEDS_ATTENTION))
        session.execute(update(Ticket).where(Ticket.id.in_(ids[2::3])).values(alert_basis=None))  # replayed
        session.commit()
    return network.client.app.state.desk


@pytest.mark.parametrize("order", QUEUE_ORDERS)
def test_sections_list_and_count_what_sorting_every_open_ticket_lists(varied, database, order):
    desk = varied
    choices = [QueueFilter(order=order), QueueFilter(district_code="490101", order=order),
               QueueFilter(category="signature", order=order), QueueFilter(district_code="490102", category="signature", order=order)]
    seen = Counter()
    with database.reader() as session:
        for hours in (0, 3, 9, 33, 200):
            now = FILED + timedelta(hours=hours)
            for chosen in choices:
                for limit in (1, 50):
                    found = queues(session, desk, now, limit=limit, chosen=chosen)
                    got = {name: ([b.id for b in s.briefs], s.total) for name, s in found.sections.items()}
                    assert got == reference(session, desk, now, chosen, limit), (now, chosen, limit)
                    seen.update(name for name, (_ids, total) in got.items() if total > limit)
                    seen.update("replayed" for name in ("at_risk", "breached")
                                for b in found.sections[name].briefs if b.alert_basis is None)
        briefs = TicketRepository(session).open_briefs(OPEN_STATES)
        found = queues(session, desk, FILED)
    # The cases the comparison relies on did occur: every section cut by a small limit, and
    # tickets with stale instants merged into the alert sections.
    assert set(seen) == {"unassigned", "needs_attention", "at_risk", "breached", "replayed"}
    assert found.by_district == dict(sorted(Counter(b.district_code or "unknown" for b in briefs).items()))
    assert found.by_category == dict(sorted(Counter(b.category or "uncategorised" for b in briefs).items()))


def test_expert_loads_are_sorted_by_the_database_as_they_were_here(varied, network, database):
    with database.writer() as session:
        experts = sorted(session.scalars(select(ExpertProfile.id)))
        tickets = sorted(session.scalars(select(Ticket.id)))
        # Loads 0-3 against capacity 2, one expert with no capacity, one inactive.
        for n, ticket_id in enumerate(tickets[:6]):
            session.execute(update(Ticket).where(Ticket.id == ticket_id).values(
                status=S.ASSIGNED, assigned_expert_id=experts[[0, 0, 0, 1, 2, 2][n]]))
        session.execute(update(ExpertProfile).where(ExpertProfile.id == experts[3]).values(capacity=0))
        session.execute(update(ExpertProfile).where(ExpertProfile.id == experts[2]).values(active=False))
        session.commit()
    with database.reader() as session:
        counts = TicketRepository(session).loads()
        rows = session.execute(select(ExpertProfile.id, ExpertProfile.capacity).where(ExpertProfile.active.is_(True)))
        expected = sorted(((-(counts.get(i, 0) / c if c else 1.0), i) for i, c in rows))
        assert [x.expert_id for x in expert_loads(session)] == [i for _share, i in expected]
        assert [x.expert_id for x in expert_loads(session, 3)] == [i for _share, i in expected][:3]
        loads = {x.expert_id: x for x in expert_loads(session)}
    assert loads[experts[0]].load == 3 and experts[2] not in loads
    assert [x.expert_id for x in list(loads.values())[:2]] == [experts[0], experts[3]]  # 3/2, then no capacity
    assert sum(counts.get(i, 0) for i in loads) == 4 and set(WORKING_STATES) >= {S.ASSIGNED}


def test_experts_without_capacity_are_found_through_their_index(varied, network, database):
    """Not by reading every active profile: SQLite, given the ``active`` index too, chose it."""
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    with database.reader() as session:
        event.listen(database.engine, "before_cursor_execute", record)
        try:
            expert_loads(session, 5)
        finally:
            event.remove(database.engine, "before_cursor_execute", record)
        [(statement, parameters)] = [s for s in statements if "capacity = 0" in s[0]]
        if database.dialect != "sqlite":
            return
        plan = " ".join(row[-1] for row in session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters))
    assert "INDEX ix_expert_profiles_no_capacity" in plan
    assert "ix_expert_profiles_active (active=?)" not in plan


def test_the_queues_loads_and_auto_close_read_tickets_from_covering_indexes(varied, network, database):
    """Never from the tickets' rows: the columns the queues need come after the long text, and
    reading them there walked each row's overflow pages (2.4-2.8 ms a statement at 1,200 open
    tickets on SQLite). Every statement of a queue page that reads tickets, the experts' loads
    every filing reads and the scheduler's auto-close candidates are planned on an index holding
    all they need."""
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    desk = varied
    with database.reader() as session:
        event.listen(database.engine, "before_cursor_execute", record)
        try:
            queues(session, desk, FILED + timedelta(hours=9), loads_limit=5,
                   chosen=QueueFilter(district_code="490101", order="priority"))
            TicketRepository(session).loads()
            TicketRepository(session).resolved_quietly_before(FILED, 10)
        finally:
            event.remove(database.engine, "before_cursor_execute", record)
        if database.dialect != "sqlite":
            return
        plans = {statement: [row[-1] for row in session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters) if " tickets " in f"{row[-1]} "]
            for statement, parameters in statements if "FROM tickets" in statement}
    assert len(plans) >= 8  # open briefs, two counts and two lists per alert section, the tallies...
    for statement, lines in plans.items():
        assert lines and all("COVERING INDEX" in line for line in lines), (statement, lines)


def test_the_api_queue_shows_each_ticket_as_reading_it_shows_it(varied, network, clock):
    """The queue reads the tickets it shows as views, in two statements for the page: each must
    equal what ``GET /api/v1/tickets/{id}`` answers the same coordinator at the same instant."""
    client = network.client
    clock.current = FILED + timedelta(hours=9)
    answer = client.get("/api/v1/queues", params={"limit": 3}, headers=network.admin).json()
    shown = [t for name in ("unassigned", "needs_attention", "at_risk", "breached") for t in answer[name]]
    assert len({t["id"] for t in shown}) >= 6  # every section has tickets, cut at 3
    for ticket in shown:
        assert ticket == client.get(f"/api/v1/tickets/{ticket['id']}", headers=network.admin).json()


@pytest.mark.parametrize("who", ["admin", "requester"])
def test_each_listed_ticket_is_what_reading_it_shows(varied, network, clock, who):
    """The list reads a page's ids and then the tickets as views, like the queue: each item must
    equal the ticket's own read, for staff and for a requester (their org's tickets only)."""
    client, headers = network.client, getattr(network, who)
    clock.current = FILED + timedelta(hours=9)
    page = client.get("/api/v1/tickets", params={"limit": 5, "offset": 2, "sort": "-created_at"}, headers=headers).json()
    assert page["total"] == 12 and len(page["items"]) == 5
    for ticket in page["items"]:
        assert ticket == client.get(f"/api/v1/tickets/{ticket['id']}", headers=headers).json()


def test_the_list_sorts_priority_by_urgency(varied, network):
    """Not by the stored text, which put "high" before "low" and "urgent" last."""
    client = network.client
    for sort, expected in [("-priority", ["urgent", "high", "normal", "low"]), ("priority", ["low", "normal", "high", "urgent"])]:
        items = client.get("/api/v1/tickets", params={"sort": sort}, headers=network.admin).json()["items"]
        assert [t["priority"] for t in items] == [p for p in expected for _ in range(3)]
        # Ties by id, ascending.
        assert all(a["id"] < b["id"] for a, b in zip(items, items[1:]) if a["priority"] == b["priority"])
