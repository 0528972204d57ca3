"""The scheduler: offers expire on time in business hours, and two schedulers running at once do
each thing once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from expert_match.tickets.models import Offer, OfferState, TicketEvent
from expert_match.tickets.scheduler import run_once
from tests.builders import local_time

SIGNATURE = {"title": "Lỗi ký số hồ sơ một cửa",
             "description": "Máy tính bộ phận một cửa không nhận USB token chữ ký số khi ký hồ sơ."}


def test_offers_expire_after_their_business_minutes_not_wall_clock(network, clock, database):
    client = network.client
    desk = client.app.state.desk
    clock.current = local_time(2026, 11, 27, 16, 30)  # Friday, half an hour before closing
    for priority in ("urgent", "low"):
        client.post("/api/v1/tickets", json={**SIGNATURE, "priority": priority}, headers=network.requester)
    with database.reader() as session:
        deadlines = {o.ticket_id: o.expires_at for o in session.scalars(select(Offer))}
    # Urgent: 60 business minutes = 30 on Friday + 30 on Monday morning (07:30 -> 08:00).
    assert deadlines[1] == local_time(2026, 11, 30, 8, 0)
    # Low: 480 minutes = 30 on Friday + the whole 7.5 h of Monday, so Monday 17:00.
    assert deadlines[2] == local_time(2026, 11, 30, 17, 0)
    clock.current = local_time(2026, 11, 29, 23, 0)  # Sunday night: days passed, no business time
    assert run_once(database, desk, clock.current).offers_expired == 0
    clock.current = local_time(2026, 11, 30, 8, 0)
    assert run_once(database, desk, clock.current).offers_expired == 1
    clock.current = local_time(2026, 11, 30, 16, 59)
    run_once(database, desk, clock.current)  # the urgent ticket's later rounds expire meanwhile
    assert state_of_first_offer(database, ticket_id=2) == OfferState.PENDING
    clock.current = local_time(2026, 11, 30, 17, 0)
    run_once(database, desk, clock.current)
    assert state_of_first_offer(database, ticket_id=2) == OfferState.EXPIRED


def state_of_first_offer(database, ticket_id: int) -> OfferState:
    with database.reader() as session:
        return session.scalars(select(Offer.state).where(Offer.ticket_id == ticket_id).order_by(Offer.id)).first()


def test_two_schedulers_at_once_do_each_thing_once(parallel_network, clock, database):
    client = parallel_network.client
    desk = client.app.state.desk
    clock.current = local_time(2026, 11, 23, 8, 0)
    for i in range(12):
        body = {**SIGNATURE, "title": f"{SIGNATURE['title']} số {i}", "priority": "urgent"}
        assert client.post("/api/v1/tickets", json=body, headers=parallel_network.requester).status_code == 201
    with database.reader() as session:
        first_round = session.scalars(select(Offer).where(Offer.state == OfferState.PENDING)).all()
    assert len(first_round) == 12 * 5
    clock.current = local_time(2026, 11, 23, 9, 30)  # past every urgent deadline (60 business minutes)
    start = threading.Barrier(2)

    def scheduler() -> object:
        start.wait()
        return run_once(database, desk, clock.current)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: scheduler(), range(2)))
    assert sum(r.offers_expired for r in reports) == 12 * 5
    assert all(not r.errors for r in reports)
    with database.reader() as session:
        events = session.scalars(select(TicketEvent)).all()
        offers = session.scalars(select(Offer)).all()
    expired = Counter(e.data["offer_id"] for e in events if e.kind == "offer_expired")
    assert len(expired) == 12 * 5 and set(expired.values()) == {1}  # each offer expired once
    # Each ticket's next round went out once: one new pending offer per remaining candidate.
    rounds = Counter((e.ticket_id, e.data["round"]) for e in events if e.kind == "offered")
    assert set(rounds.values()) == {1}
    pending = Counter(o.ticket_id for o in offers if o.state == OfferState.PENDING)
    offered_twice = Counter((o.ticket_id, o.expert_id) for o in offers)
    assert set(offered_twice.values()) == {1}
    assert all(count <= 5 for count in pending.values())
    # Breaches: the 2 h assignment target is not reached yet, so nobody recorded one.
    assert sum(r.breaches for r in reports) == 0
