"""Two app instances on one database (each with its own engine, pool, matcher index and
admission gate, as two processes would have): concurrent filings and accepts through both, and
an expert added through one is ranked by the other within seconds (the index follows the
database, not process memory). Run on both engines; PostgreSQL is the multi-instance target."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar.testing import TestClient

from expert_match.app import create_app
from expert_match.db.engine import create_database
from tests.builders import expert_body
from tests.network import Network, build_network
from tests.tickets.test_notifications import webhook  # noqa: F401 - the local webhook receiver fixture
from tests.tickets.test_ticket_api import SIGNATURE


@pytest.fixture
def two_instances(database, settings, clock, admin_token) -> Iterator[tuple[Network, TestClient]]:
    lenient = settings.__class__(**{**{f: getattr(settings, f) for f in settings.__dataclass_fields__},
                                    "filings_per_hour_per_account": 1000, "filings_per_hour_per_address": 1000})
    other_database = create_database(lenient)  # the second instance's own engine and pool
    with TestClient(create_app(lenient, clock=clock, database=database), raise_server_exceptions=False) as first, \
            TestClient(create_app(lenient, clock=clock, database=other_database),
                       raise_server_exceptions=False) as second:
        yield build_network(first, database, admin_token), second
    other_database.dispose()


def test_filings_and_accepts_through_both_instances(two_instances) -> None:
    network, second = two_instances
    first = network.client

    def file(i: int) -> str:
        client = first if i % 2 else second
        response = client.post("/api/v1/tickets", json={**SIGNATURE, "title": f"Lỗi ký số số {i}"},
                               headers=network.requester)
        assert response.status_code == 201, response.text
        return response.json()["ticket"]["reference"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = list(pool.map(file, range(24)))
    assert len(set(references)) == 24

    # The same ticket offered to three experts at once; two accept at the same moment, one
    # through each instance: exactly one wins.
    ticket_id = first.post("/api/v1/tickets", json=SIGNATURE, headers=network.requester).json()["ticket"]["id"]
    offers = first.get(f"/api/v1/tickets/{ticket_id}/offers", headers=network.admin).json()
    assert len(offers) >= 2
    start = threading.Barrier(2)

    def accept(pair: tuple[TestClient, dict]) -> int:
        client, offer = pair
        start.wait()
        return client.post(f"/api/v1/offers/{offer['id']}/accept",
                           headers=network.as_expert(offer["expert_id"])).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(accept, [(first, offers[0]), (second, offers[1])]))
    assert statuses == [200, 409]
    ticket = second.get(f"/api/v1/tickets/{ticket_id}", headers=network.admin).json()
    assert ticket["status"] == "assigned" and ticket["assigned_expert_id"] in {offers[0]["expert_id"],
                                                                              offers[1]["expert_id"]}


def test_an_expert_added_through_one_instance_is_ranked_by_the_other(two_instances) -> None:
    network, second = two_instances
    problem = {"text": "triển khai chữ ký số từ xa trên điện thoại cho cán bộ phường", "k": 10}
    second.post("/api/v1/match", json=problem, headers=network.admin)  # the second instance's index is warm
    created = network.client.post("/api/v1/experts", headers=network.admin, json=expert_body(
        email="moi@chuyengia.danang.example", display_name="Chuyên Gia Mới", headline="Chữ ký số từ xa",
        bio="Triển khai chữ ký số từ xa trên điện thoại cho cán bộ phường.",
        skills=[{"name": "Chữ ký số", "level": 5}]))
    assert created.status_code == 201
    new_id = created.json()["expert"]["id"]
    started = time.monotonic()
    while True:
        ranked = second.post("/api/v1/match", json=problem, headers=network.admin).json()
        if new_id in [m["expert"]["id"] for m in ranked["matches"]]:
            break
        assert time.monotonic() - started < 5, "the other instance never ranked the new expert"
        time.sleep(0.25)


def test_two_instances_and_two_schedulers_send_each_offer_and_notification_once(two_instances, database, settings,
                                                                                 clock, webhook) -> None:
    """Filings through both instances, then two schedulers (each with its own engine) running the
    same pass at the same moment: every offer round and every notification happens once."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from expert_match.notify.models import DeliveryState, Notification
    from expert_match.notify.outbox import deliver_due
    from expert_match.tickets.models import Offer
    from expert_match.tickets.scheduler import run_once

    network, second = two_instances
    for i in range(8):
        client = network.client if i % 2 else second
        response = client.post("/api/v1/tickets", json={**SIGNATURE, "title": f"Lỗi ký số đợt {i}",
                                                         "priority": "urgent"}, headers=network.requester)
        assert response.status_code == 201, response.text
    configured = settings.__class__(**{**{f: getattr(settings, f) for f in settings.__dataclass_fields__},
                                       "webhook_url": webhook.url})
    other_database = create_database(configured)
    desks = [network.client.app.state.desk, second.app.state.desk]
    clock.current += timedelta(days=3)  # every first-round offer has expired: the next rounds go out
    start = threading.Barrier(2)

    def scheduler(which: int) -> tuple[int, int]:
        db = database if which == 0 else other_database
        start.wait()
        expired = run_once(db, desks[which], clock.current).offers_expired
        return expired, deliver_due(db, configured, clock.current).sent

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(scheduler, [0, 1]))
    finally:
        other_database.dispose()
    with database.reader() as session:
        offers = session.scalars(select(Offer)).all()
        hooks = session.scalars(select(Notification).where(Notification.channel == "webhook")).all()
        duplicates = session.execute(select(Offer.ticket_id, Offer.expert_id, func.count()).group_by(
            Offer.ticket_id, Offer.expert_id).having(func.count() > 1)).all()
    assert duplicates == []  # nobody was offered the same ticket twice
    assert sum(expired for expired, _sent in results) == sum(o.state == "expired" for o in offers) > 0
    sent = [h for h in hooks if h.state == DeliveryState.SENT]
    assert sum(s for _expired, s in results) == len(sent) == len(webhook.calls) > 0
    delivered_ids = [int(headers["X-Expert-Match-Delivery"]) for headers, _body in webhook.calls]
    assert sorted(delivered_ids) == sorted({h.id for h in sent})  # each notification arrived once
