"""Stored alert instants: the queues read two columns instead of replaying every open ticket's
history, and must put every ticket in the same queue as the replay would, at every instant."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from importlib import resources

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, update

from expert_match.tickets.calendar import BusinessCalendar
from expert_match.tickets.models import Ticket
from expert_match.tickets.queues import alert_states, queues
from expert_match.tickets.repository import TicketRepository
from expert_match.tickets.scheduler import run_once
from expert_match.tickets.sla import (
    Alerts,
    History,
    Priority,
    TargetState,
    alert_basis,
    alerts,
    queue_state,
    service_targets,
)
from expert_match.tickets.states import OPEN_STATES
from expert_match.tickets.workflow import history
from expert_match.tickets.states import TicketStatus as S
from tests.builders import local_time

CAL = BusinessCalendar.default()
TICK = timedelta(microseconds=1)
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
STATUSES = [S.MATCHING, S.NEEDS_ATTENTION, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_REQUESTER, S.RESOLVED,
            S.CLOSED, S.CANCELLED]
# Quarter hours: office hours start and end on them, so crossings land exactly on the ends of
# working days and lunch breaks, where "more than" and "at least" differ.
QUARTERS = st.integers(min_value=0, max_value=4 * 24 * 12)


def replayed(history: History, priority: Priority, now: datetime) -> TargetState | None:
    return queue_state(service_targets(history, priority, now, CAL, due_times=False))


@st.composite
def timelines(draw):
    at = START + timedelta(minutes=15 * draw(QUARTERS))
    changes = [(at, S.NEW)]
    for status in draw(st.lists(st.sampled_from(STATUSES), max_size=6)):
        at += timedelta(minutes=15 * draw(st.integers(min_value=0, max_value=4 * 24 * 4)))
        changes.append((at, status))
    advice = None
    if draw(st.booleans()):
        advice = changes[0][0] + timedelta(minutes=15 * draw(st.integers(min_value=0, max_value=4 * 24 * 10)))
    history = History(changes, first_advice_at=advice)
    latest = max(at, advice or at)
    return history, draw(st.sampled_from(list(Priority))), latest


@settings(max_examples=400, deadline=None)
@given(timelines(), QUARTERS, st.sampled_from([-TICK, timedelta(0), TICK]))
def test_stored_instants_put_a_ticket_in_the_same_queue_as_its_history(timeline, later, nudge):
    history, priority, latest = timeline
    found = alerts(history, priority, CAL)
    now = latest + timedelta(minutes=15 * later) + nudge
    if now >= latest:
        assert found.state(now) == replayed(history, priority, now)
    # Right at and just before each stored instant: the boundary is where the two could differ.
    for instant in (found.at_risk_at, found.breach_at):
        if instant is not None and instant - TICK >= latest:
            for moment in (instant - TICK, instant):
                assert found.state(moment) == replayed(history, priority, moment)


def test_a_target_met_at_the_end_of_a_working_day_is_not_breached_that_evening():
    # Urgent, 2 h to assignment, filed Friday 15:00: the two hours end at 17:00 sharp. The ticket
    # is breached from the first working instant after that (Monday), not during the weekend.
    filed = local_time(2026, 11, 27, 15, 0)
    history = History([(filed, S.NEW), (filed, S.MATCHING)])
    found = alerts(history, Priority.URGENT, CAL)
    friday_evening, monday = local_time(2026, 11, 27, 20, 0), local_time(2026, 11, 30, 7, 31)
    assert found.state(friday_evening) == replayed(history, Priority.URGENT, friday_evening) == TargetState.AT_RISK
    assert found.state(monday) == replayed(history, Priority.URGENT, monday) == TargetState.BREACHED
    assert found.breach_at == local_time(2026, 11, 30, 7, 30) + TICK


def test_paused_and_finished_tickets():
    filed = local_time(2026, 11, 23, 8, 0)
    waiting = History([(filed, S.NEW), (filed, S.MATCHING), (local_time(2026, 11, 23, 8, 30), S.ASSIGNED),
                       (local_time(2026, 11, 23, 9, 0), S.WAITING_ON_REQUESTER)],
                      first_advice_at=local_time(2026, 11, 23, 9, 0))
    # The clock is stopped: nothing is due, however long the requester takes.
    assert alerts(waiting, Priority.URGENT, CAL) == Alerts(None, None)
    late = History([(filed, S.NEW), (filed, S.MATCHING), (local_time(2026, 11, 25, 8, 0), S.WAITING_ON_REQUESTER)])
    # Breached before it was paused: it stays breached.
    assert alerts(late, Priority.URGENT, CAL).state(local_time(2026, 12, 25, 8, 0)) == TargetState.BREACHED
    cancelled = History([(filed, S.NEW), (local_time(2026, 11, 23, 8, 10), S.CANCELLED)])
    assert alerts(cancelled, Priority.LOW, CAL) == Alerts(None, None)


def test_the_basis_changes_with_the_calendar(tmp_path):
    data = json.loads(resources.files("expert_match.tickets").joinpath("data/calendar_vn.json").read_text("utf-8"))
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(data), "utf-8")
    assert alert_basis(BusinessCalendar.load(path)) == alert_basis(CAL)
    data["holidays"].append({"date": "2026-12-24", "name": "Ngày nghỉ bù"})
    path.write_text(json.dumps(data), "utf-8")
    assert alert_basis(BusinessCalendar.load(path)) != alert_basis(CAL)


SIGNATURE = {"title": "Lỗi ký số hồ sơ một cửa",
             "description": "Máy tính bộ phận một cửa không nhận USB token chữ ký số khi ký hồ sơ."}


def file_some(network, clock, count: int = 4) -> None:
    client = network.client
    for i in range(count):
        clock.current = local_time(2026, 11, 23, 8, 0) + timedelta(hours=3 * i)
        body = {**SIGNATURE, "title": f"{SIGNATURE['title']} số {i}", "priority": ["urgent", "high", "normal", "low"][i % 4]}
        assert client.post("/api/v1/tickets", json=body, headers=network.requester).status_code == 201


def test_tickets_store_their_instants_and_the_queues_agree_with_the_replay(network, clock, database):
    file_some(network, clock)
    desk = network.client.app.state.desk
    with database.reader() as session:
        briefs = TicketRepository(session).open_briefs(OPEN_STATES)
        assert briefs and all(b.alert_basis == alert_basis(desk.calendar) and b.alert_breach for b in briefs)
        replay = [dataclasses.replace(b, alert_basis=None) for b in briefs]  # as if never stored
        for hours in range(0, 24 * 14, 5):
            now = local_time(2026, 11, 23, 8, 0) + timedelta(hours=hours)
            assert alert_states(session, desk, briefs, now) == alert_states(session, desk, replay, now)
        found = queues(session, desk, local_time(2026, 12, 10, 9, 0))
    assert {t.id for t in found.sections["breached"].briefs} == {b.id for b in briefs}


def test_the_scheduler_fills_in_tickets_without_instants(network, clock, database):
    file_some(network, clock)
    desk = network.client.app.state.desk
    with database.writer() as session:
        ids = sorted(session.scalars(select(Ticket.id)))
        # As after the migration that added the columns.
        session.execute(update(Ticket).values(alert_at_risk=None, alert_breach=None, alert_basis=None))
        session.commit()
    with database.reader() as session:
        assert TicketRepository(session).stale_alerts(OPEN_STATES, alert_basis(desk.calendar), 10) == ids
        # Meanwhile the queues replay those tickets' histories.
        assert {t.id for t in queues(session, desk, local_time(2026, 12, 10, 9, 0)).sections["breached"].briefs} == set(ids)
    later = local_time(2026, 11, 24, 8, 0)
    assert run_once(database, desk, later).alerts_refreshed == len(ids)
    with database.reader() as session:
        for ticket in session.scalars(select(Ticket)):
            expected = alerts(history(session, [ticket])[ticket.id], Priority(ticket.priority), CAL)
            assert Alerts(ticket.alert_at_risk, ticket.alert_breach) == expected
            assert expected.breach_at is not None
    assert run_once(database, desk, later).alerts_refreshed == 0


def test_every_change_moves_the_instants(network, clock, database):
    client = network.client
    clock.current = local_time(2026, 11, 23, 8, 0)
    ticket = client.post("/api/v1/tickets", json={**SIGNATURE, "priority": "urgent"}, headers=network.requester).json()
    ticket_id = ticket["ticket"]["id"]
    with database.reader() as session:
        stored = session.get(Ticket, ticket_id)
        filed = Alerts(stored.alert_at_risk, stored.alert_breach)
    offer = client.get(f"/api/v1/tickets/{ticket_id}/offers", headers=network.admin).json()[0]
    clock.current = local_time(2026, 11, 23, 8, 10)
    expert = network.as_expert(offer["expert_id"])
    assert client.post(f"/api/v1/offers/{offer['id']}/accept", headers=expert).status_code == 200
    with database.reader() as session:
        assigned = session.get(Ticket, ticket_id)
    # Urgent, filed Monday 08:00: assignment (2 h) is breached after 10:00, at risk after 09:30.
    assert (filed.at_risk_at, filed.breach_at) == (local_time(2026, 11, 23, 9, 30) + TICK,
                                                   local_time(2026, 11, 23, 10, 0) + TICK)
    # Assigned at 08:10: next comes first advice (4 h): 08:00-11:30, then half an hour after lunch.
    assert (assigned.alert_at_risk, assigned.alert_breach) == (local_time(2026, 11, 23, 11, 0) + TICK,
                                                               local_time(2026, 11, 23, 14, 0) + TICK)
    clock.current = local_time(2026, 11, 23, 10, 0)
    advice = {"kind": "advice", "body": "Cài lại driver USB token."}
    assert client.post(f"/api/v1/tickets/{ticket_id}/posts", json=advice, headers=expert).status_code == 201
    with database.reader() as session:
        advised = session.get(Ticket, ticket_id)
    # Advice given: only resolution (15 h) is left, two working days away.
    assert advised.alert_breach == CAL.add(local_time(2026, 11, 23, 8, 0), timedelta(hours=15)) + TICK
    assert advised.alert_breach > local_time(2026, 11, 24, 17, 0)


def test_a_move_writes_its_ticket_once_with_the_alerts_of_its_new_history(network, clock, database):
    """The alerts are computed before the flush, from the history read before the move plus the
    new event: one UPDATE of the ticket a move, one version, and the same instants the event
    log gives afterwards."""
    client = network.client
    clock.current = local_time(2026, 11, 23, 8, 0)
    filed = client.post("/api/v1/tickets", json={**SIGNATURE, "priority": "high"}, headers=network.requester).json()
    ticket_id = filed["ticket"]["id"]
    offer = client.get(f"/api/v1/tickets/{ticket_id}/offers", headers=network.admin).json()[0]
    expert = network.as_expert(offer["expert_id"])
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()).upper())

    moves = [("post", f"/api/v1/offers/{offer['id']}/accept", None),
             ("post", f"/api/v1/tickets/{ticket_id}/posts", {"kind": "advice", "body": "Cài lại driver USB token."}),
             ("post", f"/api/v1/tickets/{ticket_id}/resolve", {"summary": "Đã cài lại driver."})]
    version = filed["ticket"]["version"]
    for minutes, (method, path, body) in enumerate(moves, start=1):
        clock.current = local_time(2026, 11, 23, 8, 10 * minutes)
        event.listen(database.engine, "before_cursor_execute", record)
        try:
            answer = client.request(method.upper(), path, json=body, headers=expert)
        finally:
            event.remove(database.engine, "before_cursor_execute", record)
        assert answer.status_code in (200, 201), answer.text
        assert sum(s.startswith("UPDATE TICKETS ") for s in statements) == 1, path
        statements.clear()
        ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=network.admin).json()
        assert ticket["version"] == version + 1
        version = ticket["version"]
        with database.reader() as session:
            stored = session.get(Ticket, ticket_id)
            expected = alerts(history(session, [stored])[ticket_id], Priority(stored.priority), CAL)
            assert Alerts(stored.alert_at_risk, stored.alert_breach) == expected
    assert ticket["status"] == "resolved"
