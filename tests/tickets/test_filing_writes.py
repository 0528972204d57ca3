"""What a filing writes, and in how many statements: the writer (on SQLite, one at a time for
every instance) is held while they run, so each table's new rows go in one statement."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest
from sqlalchemy import event, func, select

from expert_match.auth.models import LoginAttempt
from expert_match.notify.models import Channel, DeliveryState, Notification
from expert_match.tickets import service, workflow
from expert_match.tickets.models import MatchRun, Offer, OfferState, Ticket, TicketEvent
from expert_match.tickets.sla import Priority, alert_basis, alerts

from tests.tickets.test_ticket_api import SIGNATURE, file

INSERT_INTO = re.compile(r"^\s*INSERT INTO (\w+)", re.IGNORECASE)
UPDATE = re.compile(r"^\s*UPDATE (\w+)", re.IGNORECASE)
NONSENSE = {"title": "Zqxv plonk", "description": "Qwyzz vrrk blorf snark, gnarp twix."}


def test_a_filing_writes_each_tables_rows_in_one_statement(parallel_network, database):
    inserts: Counter[str] = Counter()

    updates: Counter[str] = Counter()
    history_reads = []

    def record(_conn, _cursor, statement, *_args):
        if found := INSERT_INTO.match(statement):
            inserts[found.group(1)] += 1
        if found := UPDATE.match(statement):
            updates[found.group(1)] += 1
        if statement.lstrip().startswith("SELECT ticket_events.ticket_id"):
            history_reads.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        ticket = file(parallel_network)["ticket"]
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    with database.reader() as session:
        offers = list(session.scalars(select(Offer).where(Offer.ticket_id == ticket["id"]).order_by(Offer.rank)))
        notices = list(session.scalars(select(Notification).order_by(Notification.id)))
        events = list(session.scalars(select(LoginAttempt)))
    # parallel_network offers a normal ticket to several experts at once, each told by e-mail.
    assert len(offers) >= 2
    assert [o.rank for o in offers] == list(range(1, len(offers) + 1))
    assert all(o.state == OfferState.PENDING and o.round == 1 and o.explanation["parts"]["total"] > 0 for o in offers)
    assert [(n.channel, n.state) for n in notices] == (
        [(Channel.EMAIL, DeliveryState.PENDING)] * len(offers) + [(Channel.WEBHOOK, DeliveryState.PENDING)])
    assert len({n.recipient for n in notices}) == len(notices)
    assert len(events) == 2  # the filing counted against the account and the client address
    assert inserts["offers"] == inserts["notifications"] == inserts["login_attempts"] == 1
    # A new ticket's history is known while it is filed: its status, reference, round and alert
    # instants go in one UPDATE, and neither the write nor the answer reads the event log.
    assert updates == {"tickets": 1} and history_reads == []


@pytest.mark.parametrize("body, changes", [(SIGNATURE, ["new", "matching"]),
                                            (NONSENSE, ["new", "matching", "needs_attention"])],
                         ids=["offered", "nobody-matches"])
def test_the_filing_answers_what_a_read_of_the_ticket_shows(parallel_network, database, monkeypatch, body, changes):
    """The answer is built from the ticket and events as written, not read back: it must be what
    the database holds (every column: the rows went in as column values), and the history it was
    built from, which also set the alert instants, must be the whole event log."""
    written = []

    def spy(ticket, events):
        written.append(real(ticket, events))
        return written[-1]

    real = workflow.written_history
    monkeypatch.setattr(workflow, "written_history", spy)
    ticket = file(parallel_network, body)["ticket"]
    read = parallel_network.client.get(f"/api/v1/tickets/{ticket['id']}", headers=parallel_network.requester)
    assert ticket["status"] == changes[-1] and ticket["reference"].endswith(f"{ticket['id']:06d}")
    assert read.status_code == 200 and read.json() == ticket
    calendar = parallel_network.client.app.state.desk.calendar
    with database.reader() as session:
        stored = session.get(Ticket, ticket["id"])
        logged = workflow.history(session, [stored])
        events = [(e.kind, e.actor, e.from_status, e.to_status, e.data) for e in
                  session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == stored.id).order_by(TicketEvent.id))]
        runs = list(session.scalars(select(MatchRun).where(MatchRun.ticket_id == stored.id)))
    assert [status.value for _, status in written[0].changes] == changes
    assert written[0] == logged[ticket["id"]]
    # The alert instants the queues sort by are those the event log gives.
    expected = alerts(logged[stored.id], Priority(stored.priority), calendar)
    assert (stored.alert_at_risk, stored.alert_breach, stored.alert_basis) == (
        expected.at_risk_at, expected.breach_at, alert_basis(calendar))
    offered = changes[-1] == "matching"
    assert stored.offer_round == int(offered) and stored.version == 1
    assert events[:2] == [("file", "requester", None, "new", {"priority": "normal"}),
                          ("start_matching", "system", "new", "matching", {})]
    assert len(runs) == 1 and runs[0].purpose == "offer_round"
    if offered:
        assert events[2][:4] == ("offered", "system", "matching", None) and events[2][4]["round"] == 1
        assert events[2][4]["expert_ids"] == [c["expert_id"] for c in runs[0].candidates] != []
    else:
        assert events[2] == ("no_candidates", "system", "matching", "needs_attention", {"round": 0})
        assert runs[0].candidates == []


def test_a_filing_the_database_refuses_answers_409_and_leaves_nothing(parallel_network, database, monkeypatch):
    """The ticket's INSERT is a prepared statement, not a flush: a foreign key the database
    refuses (the org deleted between planning and writing) must still be a 409 with nothing kept."""
    real = service.plan_filing
    monkeypatch.setattr(service, "plan_filing",
                        lambda *args: dataclasses.replace(real(*args), org_id=10**9))
    with database.reader() as session:
        before = (session.scalar(select(func.count()).select_from(Ticket)),
                  session.scalar(select(func.count()).select_from(TicketEvent)))
    response = parallel_network.client.post("/api/v1/tickets", json=SIGNATURE, headers=parallel_network.requester)
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == "the ticket could not be saved"
    with database.reader() as session:
        assert (session.scalar(select(func.count()).select_from(Ticket)),
                session.scalar(select(func.count()).select_from(TicketEvent))) == before
