"""What a filing writes, and in how many statements: the writer (on SQLite, one at a time for
every instance) is held while they run, so each table's new rows go in one statement."""

from __future__ import annotations

import gc
import re
from collections import Counter

import pytest
from sqlalchemy import event, select

from expert_match.auth.models import LoginAttempt
from expert_match.notify.models import Channel, DeliveryState, Notification
from expert_match.tickets import workflow
from expert_match.tickets.models import Offer, OfferState, Ticket

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
    the database holds, and the history it was built from must be the whole event log (flushed
    events are held weakly by the session: they were once lost before the answer was built)."""
    written = []

    def spy(session, ticket):
        gc.collect()  # what the session held weakly is gone, as it may be at any moment
        written.append(real(session, ticket))
        return written[-1]

    real = workflow.written_history
    monkeypatch.setattr(workflow, "written_history", spy)
    ticket = file(parallel_network, body)["ticket"]
    read = parallel_network.client.get(f"/api/v1/tickets/{ticket['id']}", headers=parallel_network.requester)
    assert ticket["status"] == changes[-1] and ticket["reference"].endswith(f"{ticket['id']:06d}")
    assert read.status_code == 200 and read.json() == ticket
    with database.reader() as session:
        logged = workflow.history(session, [session.get(Ticket, ticket["id"])])
    assert [status.value for _, status in written[0].changes] == changes
    assert written[0] == logged[ticket["id"]]
