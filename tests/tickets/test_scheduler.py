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


def test_a_pass_claims_only_tickets_with_a_breach_to_record(network, clock, database, monkeypatch):
    import expert_match.tickets.scheduler as scheduler

    client = network.client
    desk = client.app.state.desk
    clock.current = local_time(2026, 11, 23, 8, 0)
    for i in range(3):
        body = {**SIGNATURE, "title": f"{SIGNATURE['title']} số {i}"}
        assert client.post("/api/v1/tickets", json=body, headers=network.requester).status_code == 201
    claimed: list[int] = []
    real = scheduler._breaches
    monkeypatch.setattr(scheduler, "_breaches", lambda session, desk, ticket, now, report: (
        claimed.append(ticket.id), real(session, desk, ticket, now, report)))
    # Nothing is late yet: no ticket takes the writer (on SQLite, every claim is a write lock).
    run_once(database, desk, local_time(2026, 11, 23, 8, 5))
    assert claimed == []
    # Days later the targets are breached: each ticket is claimed once and its breaches recorded.
    late = local_time(2026, 12, 4, 10, 0)
    assert run_once(database, desk, late).breaches >= 3
    assert sorted(claimed) == [1, 2, 3]
    claimed.clear()
    assert run_once(database, desk, late).breaches == 0
    assert claimed == []


def test_housekeeping_drops_rate_limit_events_older_than_every_window(database, clock):
    from datetime import timedelta

    from expert_match.auth.models import LoginAttempt
    from expert_match.settings import Settings
    from expert_match.tickets.scheduler import housekeeping

    now = local_time(2026, 11, 27, 10, 0)
    with database.writer.begin() as session:
        session.add_all([LoginAttempt(key="file|user|1", at=now - timedelta(hours=2)),
                         LoginAttempt(key="file|user|1", at=now - timedelta(minutes=30))])
    housekeeping(database, now, Settings())
    with database.reader() as session:
        left = session.scalars(select(LoginAttempt.at).where(LoginAttempt.key == "file|user|1")).all()
    assert left == [now - timedelta(minutes=30)]
