"""``Prepared`` statements answer exactly what ``Connection.execute`` answers, on both engines:
the same rows with the same Python types (UTC datetimes, enums), expanding ``IN`` lists
included, and engine listeners still see every statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from expert_match.auth import repository as auth_repository
from expert_match.auth.models import LoginAttempt
from expert_match.db.prepared import Prepared, connection_of, insert_row
from expert_match.experts import repository as expert_repository
from expert_match.orgs import repository as org_repository
from expert_match.tickets import repository as ticket_repository
from expert_match.tickets.models import TicketEvent
from expert_match.tickets.states import OPEN_STATES, TicketStatus
from expert_match.timeutil import CITY_TIME

from tests.tickets.test_ticket_api import file


def session_datetime(value) -> datetime:
    """A datetime column read with ``text()`` (SQLite gives its stored string)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def statements(database, network) -> list[tuple[str, Prepared, dict]]:
    """Every prepared statement of the repositories, with parameters that find rows."""
    with database.reader() as session:
        ids = list(session.scalars(text("SELECT id FROM tickets ORDER BY id")))
        token = session.scalar(text("SELECT token_hash FROM api_tokens ORDER BY id"))
        experts = list(session.scalars(text("SELECT id FROM expert_profiles ORDER BY id")))
        users = list(session.scalars(text("SELECT user_id FROM expert_profiles ORDER BY id")))
    since = datetime(2020, 1, 1, tzinfo=UTC)
    with database.reader() as session:
        basis, breached, district = session.execute(
            text("SELECT alert_basis, alert_breach, district_code FROM tickets ORDER BY id")).first()
    # The first ticket's breach instant exactly, as stored: ``<=`` must find it.
    breached = session_datetime(breached)
    return [
        ("token holder", auth_repository._TOKEN_HOLDER, {"hashed": token}),
        ("login events", auth_repository._EVENTS_SINCE, {"keys": ["a", "b"], "since": since}),
        ("org place", org_repository._PLACE, {"id": network.org_id}),
        ("expert standing", expert_repository._STANDING, {"expert_id": experts[0]}),
        ("expert of user", expert_repository._PROFILE_OF_USER, {"user_id": users[1]}),
        ("active with e-mails", expert_repository._ACTIVE_WITH_EMAILS, {"ids": experts}),
        ("nobody active", expert_repository._ACTIVE_WITH_EMAILS, {"ids": []}),
        ("same org recent", ticket_repository._SAME_ORG_RECENT, {"org_id": network.org_id, "since": since}),
        ("none recent", ticket_repository._SAME_ORG_RECENT,
         {"org_id": network.org_id, "since": datetime.now(UTC) + timedelta(days=400)}),
        ("loads", ticket_repository._LOADS, {}),
        ("status changes", ticket_repository._STATUS_CHANGES, {"ids": ids}),
        ("pending experts", ticket_repository._PENDING_EXPERTS, {"ids": ids}),
        ("status events", ticket_repository._STATUS_EVENTS_SINCE, {"event_id": 0}),
        ("resolved among", ticket_repository._RESOLVED_AMONG, {"ids": ids}),
        *[(f"view {scope}", ticket_repository._ticket_view(*scope), {"ticket_id": ids[0], "org_id": network.org_id,
                                                                       "expert_id": experts[0]})
          for scope in [(True, False, False), (False, True, False), (False, False, True)]],
        ("ticket views", ticket_repository._TICKET_VIEWS, {"ids": ids}),
        ("open counts", ticket_repository._OPEN_COUNTS, {"statuses": list(OPEN_STATES)}),
        ("open briefs", ticket_repository._open_briefs(False, False, False), {"statuses": list(OPEN_STATES)}),
        ("stale briefs", ticket_repository._open_briefs(True, False, True),
         {"statuses": list(OPEN_STATES), "district": district, "basis": "none"}),
        # A datetime bound beside an expanding list, given in Da Nang's time: processed (to UTC)
        # as SQLAlchemy processes it. Unprocessed, SQLite compared the local time's text.
        *[(f"queue {alert} {name} {part}", ticket_repository._queue_section(False, False, alert, "priority")[part],
           {"statuses": list(OPEN_STATES), "basis": basis, "now": at.astimezone(CITY_TIME), "limit": 10})
          for alert in ("breached", "at_risk")
          for name, at in [("at breach", breached), ("an hour before", breached - timedelta(hours=1))]
          for part in (0, 1)],
        ("busy experts", ticket_repository._BUSY_EXPERTS, {}),
        ("idle experts", ticket_repository._idle_experts(True), {"limit": 3}),
        ("experts without capacity", ticket_repository._FULL_IDLE_EXPERTS, {}),
    ]


def test_prepared_statements_answer_what_sqlalchemy_answers(network, database):
    first = file(network)["ticket"]
    network.client.post(f"/api/v1/offers/{_pending_offer(database, first['id'])}/accept",
                        headers=network.as_expert(_offered_expert(database, first["id"])))
    file(network, title="Không đăng nhập được cổng dịch vụ công", description="Cổng DVC báo lỗi khi ký số hồ sơ.")
    with database.reader() as session:
        connection = session.connection()
        empty = set()
        for name, prepared, params in statements(database, network):
            expected = [tuple(row) for row in connection.execute(prepared.statement, params)]
            assert prepared.all(connection, params) == expected, name
            assert [type(v) for row in prepared.all(connection, params) for v in row] == \
                   [type(v) for row in expected for v in row], name
            if not expected:
                empty.add(name)
    # The other statements found rows: the comparison is not of empty lists.
    assert empty == {"login events", "nobody active", "none recent", "resolved among", "view (False, False, True)",
                     "experts without capacity", "queue at_risk at breach 1"}
    # Time zones and enums come back as SQLAlchemy gives them.
    # A view: the ticket's row, then its history (an event's id, time, kind and new status).
    with database.reader() as session:
        ticket, *history = ticket_repository._ticket_view(True, False, False).all(
            session.connection(), {"ticket_id": first["id"]})
        changes = ticket_repository._STATUS_CHANGES.all(session.connection(), {"ids": [first["id"]]})
    assert ticket[0] == 0 and ticket[1] == first["id"] and ticket[-4:] == (None, None, None, None)
    _part, *fields, _event_id, at, kind, status = history[0]
    assert at.tzinfo is UTC and kind == "file" and status == TicketStatus.NEW.value and set(fields) == {None}
    assert [row[-3:] for row in history] == [row[1:] for row in changes] and len(history) >= 3


def test_listeners_see_prepared_statements(network, database):
    seen = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if "FROM orgs" in statement:  # the matcher's index polls from its own thread meanwhile
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.reader() as session:
            org_repository.OrgRepository(session).place(network.org_id)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert len(seen) == 1 and seen[0][0].lstrip().startswith("SELECT orgs.id")
    assert network.org_id in (seen[0][1].values() if isinstance(seen[0][1], dict) else seen[0][1])


def test_a_prepared_read_sees_what_the_session_has_not_flushed(network, database):
    """As ``Session.execute`` does: ``connection_of`` flushes first (unless autoflush is off)."""
    ticket_id = file(network)["ticket"]["id"]
    probe = Prepared(select(TicketEvent.__table__.c.kind).where(TicketEvent.__table__.c.ticket_id == ticket_id))
    with database.writer() as session:
        before = len(probe.all(connection_of(session), {}))
        session.add(TicketEvent(ticket_id=ticket_id, at=datetime.now(UTC), kind="note", actor="coordinator",
                                internal=True, data={}))
        with session.no_autoflush:
            assert len(probe.all(connection_of(session), {})) == before
        assert len(probe.all(connection_of(session), {})) == before + 1
        session.rollback()


def test_more_than_one_row_is_refused_where_one_is_expected(network, database):
    file(network)
    file(network, title="Máy tính không nhận USB token", description="Cắm USB token nhưng máy không nhận.")
    with database.reader() as session, pytest.raises(ValueError, match="at most one row"):
        Prepared(select(text("id")).select_from(text("tickets"))).one_or_none(session.connection())


def _pending_offer(database, ticket_id: int) -> int:
    with database.reader() as session:
        return session.scalar(text(f"SELECT id FROM offers WHERE ticket_id = {int(ticket_id)} ORDER BY rank"))


def _offered_expert(database, ticket_id: int) -> int:
    with database.reader() as session:
        return session.scalar(text(f"SELECT expert_id FROM offers WHERE ticket_id = {int(ticket_id)} ORDER BY rank"))


def test_prepared_writes_store_every_column_and_report_driver_errors_as_sqlalchemy_does(network, database):
    ticket_id = file(network)["ticket"]["id"]
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    insert_event = insert_row(TicketEvent.__table__, returning=TicketEvent.__table__.c.id)
    row = {"ticket_id": ticket_id, "at": at, "kind": "note", "actor": "coordinator", "actor_user_id": None,
           "from_status": "matching", "to_status": None, "body": "Gọi lại cho phường", "internal": True,
           "data": {"nguồn": "điện thoại"}}
    with database.writer() as session:
        event_id = insert_event.all(connection_of(session), row)[0][0]
        insert_row(LoginAttempt.__table__).write_many(connection_of(session), [{"key": "k1", "at": at},
                                                                               {"key": "k2", "at": at}])
        session.commit()
    with database.reader() as session:
        stored = session.get(TicketEvent, event_id)
        keys = sorted(session.scalars(select(LoginAttempt.key).where(LoginAttempt.at == at)))
    assert {name: getattr(stored, name) for name in row} == row and keys == ["k1", "k2"]
    # A foreign key the database refuses: SQLAlchemy's IntegrityError, which services turn into 409.
    with database.writer() as session, pytest.raises(IntegrityError):
        insert_event.all(connection_of(session), {**row, "ticket_id": 10**9})
