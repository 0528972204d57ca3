"""Notifications: written with the event, delivered by e-mail (a local SMTP sink) and signed
webhooks (a local HTTP receiver); failures retry with backoff and never block the workflow."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from expert_match.experts.models import ExpertProfile
from expert_match.experts.repository import ExpertRepository
from expert_match.notify.models import Channel, DeliveryState, Notification
from expert_match.notify.outbox import deliver_due, signature
from expert_match.orgs.models import User
from expert_match.tickets.models import Offer
from tests.tickets.test_ticket_api import file

SIGNATURE = {"title": "Lỗi ký số hồ sơ một cửa",
             "description": "Máy tính bộ phận một cửa không nhận USB token chữ ký số khi ký hồ sơ."}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Receiver(BaseHTTPRequestHandler):
    calls: list = []
    fail_next = 0

    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append((dict(self.headers), body))
        if type(self).fail_next:
            type(self).fail_next -= 1
            self.send_response(503)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook() -> Iterator[type[Receiver]]:
    Receiver.calls, Receiver.fail_next = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield Receiver
    server.shutdown()


def rows(database) -> list[Notification]:
    with database.reader() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_events_queue_notifications_and_delivery_sends_them(network, database, settings, smtp, webhook, clock):
    inbox, port = smtp
    client = network.client
    ticket = client.post("/api/v1/tickets", json=SIGNATURE, headers=network.requester).json()["ticket"]
    queued = rows(database)
    # The offer went to one expert by e-mail, and to the webhook; nothing is sent yet.
    assert [(n.kind, n.channel, n.state) for n in queued] == [
        ("offered", Channel.EMAIL, DeliveryState.PENDING), ("offered", Channel.WEBHOOK, DeliveryState.PENDING)]
    configured = settings.__class__(**{**{f: getattr(settings, f) for f in settings.__dataclass_fields__},
                                       "smtp_host": "127.0.0.1", "smtp_port": port, "webhook_url": webhook.url,
                                       "webhook_secret": "bí mật", "public_url": "https://cds.danang.example"})
    report = deliver_due(database, configured, clock.current)
    assert (report.sent, report.failed) == (2, 0)
    (recipients, mail), = inbox.messages
    assert recipients == [queued[0].recipient] and queued[0].recipient.endswith("@chuyengia.danang.example")
    assert ticket["reference"] in mail["Subject"] and "Đề nghị tư vấn mới" in mail["Subject"]
    assert f"https://cds.danang.example/tickets/{ticket['id']}" in mail.get_content()
    (headers, body), = webhook.calls
    assert headers["X-Expert-Match-Signature"] == signature("bí mật", body)
    assert json.loads(body)["reference"] == ticket["reference"] and json.loads(body)["event"] == "offered"
    assert deliver_due(database, configured, clock.current).sent == 0  # nothing is sent twice
    assert {n.state for n in rows(database)} == {DeliveryState.SENT}


def test_failures_retry_with_backoff_and_do_not_block_the_workflow(network, database, settings, webhook, clock):
    client = network.client
    webhook.fail_next = 2
    configured = settings.__class__(**{**{f: getattr(settings, f) for f in settings.__dataclass_fields__},
                                       "smtp_host": "127.0.0.1", "smtp_port": free_port(),  # nobody listens
                                       "webhook_url": webhook.url, "webhook_secret": "k"})
    assert client.post("/api/v1/tickets", json=SIGNATURE, headers=network.requester).status_code == 201
    first = deliver_due(database, configured, clock.current)
    assert (first.sent, first.retried) == (0, 2)
    email, hook = rows(database)
    assert email.attempts == hook.attempts == 1 and email.last_error
    assert email.next_attempt_at == clock.current + timedelta(minutes=1)
    assert deliver_due(database, configured, clock.current).retried == 0  # not due yet
    clock.current += timedelta(minutes=1)
    second = deliver_due(database, configured, clock.current)
    assert second.retried == 2 and rows(database)[0].next_attempt_at == clock.current + timedelta(minutes=2)
    clock.current += timedelta(minutes=2)
    third = deliver_due(database, configured, clock.current)
    assert third.sent == 1  # the webhook answers now; e-mail keeps retrying
    assert [n.state for n in rows(database)] == [DeliveryState.PENDING, DeliveryState.SENT]
    assert len(webhook.calls) == 3
    # Meanwhile the ticket moved on regardless.
    offer = client.get("/api/v1/tickets/1/offers", headers=network.admin).json()[0]
    accepted = client.post(f"/api/v1/offers/{offer['id']}/accept", headers=network.as_expert(offer["expert_id"]))
    assert accepted.status_code == 200


def test_unconfigured_channels_are_skipped_and_internal_notes_notify_nobody(network, database, settings, clock):
    client = network.client
    ticket = client.post("/api/v1/tickets", json=SIGNATURE, headers=network.requester).json()["ticket"]
    offer = client.get(f"/api/v1/tickets/{ticket['id']}/offers", headers=network.admin).json()[0]
    expert = network.as_expert(offer["expert_id"])
    client.post(f"/api/v1/offers/{offer['id']}/accept", headers=expert)
    before = len(rows(database))
    client.post(f"/api/v1/tickets/{ticket['id']}/posts", json={"kind": "note", "body": "nội bộ"}, headers=expert)
    assert len(rows(database)) == before
    client.post(f"/api/v1/tickets/{ticket['id']}/posts", json={"kind": "advice", "body": "Cài lại driver"},
                headers=expert)
    advice = [n for n in rows(database) if n.kind == "post_advice"]
    assert [n.recipient for n in advice] == ["van.thu@hoacuongbac.danang.example", "webhook"]
    report = deliver_due(database, settings, clock.current)
    assert report.skipped == len(rows(database)) and report.sent == 0


def test_offer_notices_go_to_the_active_users_behind_the_experts(network, database):
    expert_ids = sorted(network.tokens)[:3]
    with database.writer() as session:
        profiles = {p.id: p for p in session.scalars(select(ExpertProfile).where(ExpertProfile.id.in_(expert_ids)))}
        users = {p.id: session.get(User, p.user_id) for p in profiles.values()}
        users[expert_ids[1]].active = False  # a deactivated account is told nothing
        session.commit()
        expected = [u.email for u in sorted((users[i] for i in (expert_ids[0], expert_ids[2])), key=lambda u: u.id)]
    with database.reader() as session:
        assert ExpertRepository(session).emails([*expert_ids, expert_ids[0]]) == expected
        assert ExpertRepository(session).emails([]) == []


def test_a_filing_mails_its_offers_to_the_active_users_it_ranked(parallel_network, database):
    """A filing reads the offered experts' addresses with its ranking, before it takes the
    writer: a profile whose account was deactivated is still offered the ticket, and told nothing."""
    an = parallel_network.experts["an"]
    with database.writer() as session:
        session.get(User, session.get(ExpertProfile, an).user_id).active = False
        session.commit()
    ticket = file(parallel_network)["ticket"]
    with database.reader() as session:
        offered = list(session.scalars(select(Offer.expert_id).where(Offer.ticket_id == ticket["id"])))
        emails = dict(session.execute(select(ExpertProfile.id, User.email).join(User, ExpertProfile.user_id == User.id)
                                      .where(ExpertProfile.id.in_(offered))).all())
        mailed = list(session.scalars(select(Notification.recipient).where(Notification.channel == Channel.EMAIL)))
    assert an in offered and len(offered) == 3
    assert sorted(mailed) == sorted(emails[e] for e in offered if e != an)
