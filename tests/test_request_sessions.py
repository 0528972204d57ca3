"""A request's database session (http/deps): where its work runs (reads on the event loop when
the database is on this host, else in worker threads; every write in worker threads), and that it
ends with the request even when a dependency after it fails."""

from __future__ import annotations

import dataclasses
import gc
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar.testing import TestClient
from sqlalchemy import event, select

from expert_match.app import create_app
from expert_match.db.engine import POOL_SIZE, reads_inline
from expert_match.http import deps
from expert_match.settings import Settings, SettingsError

from tests.network import build_network
from tests.tickets.test_ticket_api import file, offers_of

WORKER = "AnyIO worker thread"


@pytest.fixture
def query_threads(database):
    """The name of the thread each SQL statement ran on, with the statement's first word."""
    seen: list[tuple[str, str]] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append((threading.current_thread().name, statement.split(None, 1)[0].upper()))

    event.listen(database.engine, "before_cursor_execute", record)
    yield seen
    event.remove(database.engine, "before_cursor_execute", record)


def test_local_databases_read_on_the_loop_unless_told_otherwise(database):
    # Both test databases are on this host (SQLite, PostgreSQL on 127.0.0.1): ``auto`` reads inline.
    assert database.inline_reads
    assert reads_inline(str(database.engine.url), "off") is False
    with pytest.raises(SettingsError, match="READS_INLINE"):
        Settings(reads_inline="sometimes")


@pytest.fixture(params=[True, False], ids=["inline", "threads"])
def reads_where(request, database, settings, clock, admin_token):
    """(inline, network): the small network on an app whose reads run on the event loop or in
    worker threads, whatever ``auto`` would choose for the test database."""
    chosen = dataclasses.replace(database, inline_reads=request.param)
    with TestClient(create_app(settings, clock=clock, database=chosen), raise_server_exceptions=False) as client:
        yield request.param, build_network(client, chosen, admin_token)


def test_a_ticket_reads_queries_run_where_the_database_says(reads_where, query_threads):
    inline, network = reads_where
    ticket_id = file(network)["ticket"]["id"]
    query_threads.clear()
    response = network.client.get(f"/api/v1/tickets/{ticket_id}", headers=network.requester)
    assert response.status_code == 200 and response.json()["id"] == ticket_id
    selects = [thread for thread, verb in query_threads if verb == "SELECT"]
    assert len(selects) == 2  # the token; the ticket with its org and history (``TicketRepository.view``)
    if inline:
        assert WORKER not in selects
    else:
        assert set(selects) == {WORKER}


def test_writes_always_run_in_worker_threads(parallel_network, query_threads):
    query_threads.clear()
    filed = file(parallel_network)
    assert filed["ticket"]["status"]
    writes = [thread for thread, verb in query_threads if verb in {"INSERT", "UPDATE", "DELETE"}]
    assert writes and set(writes) == {WORKER}


def nothing_held(client) -> bool:
    """No request admitted to the database, and SQLite's writer gate open."""
    gate = client.app.state.db_gate
    return gate.admitted == 0 and (gate.writer is None or not gate.writer.locked())


@pytest.mark.parametrize("method,path,body", [
    ("post", "/api/v1/orgs", {"name": "Phường Thử", "kind": "ward"}),  # 403 from the staff dependency
    ("get", "/api/v1/orgs", None),  # 401 from the caller dependency, on a read
])
def test_a_failing_dependency_ends_the_transaction_at_once(parallel_network, method, path, body):
    client = parallel_network.client
    headers = parallel_network.requester if method == "post" else {"Authorization": "Bearer wrong"}
    gc.disable()  # the session must not wait for the garbage collector to be closed
    try:
        refused = client.request(method.upper(), path, json=body, headers=headers)
        assert refused.status_code == (403 if method == "post" else 401)
        assert nothing_held(client)
    finally:
        gc.enable()
    # And the next write goes through at once (it used to wait for the collector).
    assert file(parallel_network)["ticket"]["id"]


def test_only_an_experts_read_looks_up_the_pending_offers(parallel_network, database):
    client = parallel_network.client
    ticket_id = file(parallel_network)["ticket"]["id"]
    offer = client.get(f"/api/v1/tickets/{ticket_id}/offers", headers=parallel_network.admin).json()[0]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        as_requester = client.get(f"/api/v1/tickets/{ticket_id}", headers=parallel_network.requester).json()
        by_requester = list(statements)
        statements.clear()
        as_expert = client.get(f"/api/v1/tickets/{ticket_id}", headers=parallel_network.as_expert(offer["expert_id"]))
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert not any("FROM offers" in s for s in by_requester) and "accept_offer" not in as_requester["actions"]
    assert any("FROM offers" in s for s in statements) and "accept_offer" in as_expert.json()["actions"]


def test_requests_never_need_more_connections_than_the_pool_keeps(parallel_network, database):
    """Admission stops at the pool's size: an overflow connection opened and closed per request
    forked a PostgreSQL backend each time (bench api: 208 new sessions in a 10 s read phase)."""
    gate = parallel_network.client.app.state.db_gate
    assert gate.connections._value == POOL_SIZE == database.engine.pool.size()
    ticket_id = file(parallel_network)["ticket"]["id"]
    out, most = [0], [0]
    lock = threading.Lock()

    def checkout(*_args):
        with lock:
            out[0] += 1
            most[0] = max(most[0], out[0])

    def checkin(*_args):
        with lock:
            out[0] -= 1

    event.listen(database.engine, "checkout", checkout)
    event.listen(database.engine, "checkin", checkin)
    try:
        with ThreadPoolExecutor(3 * POOL_SIZE) as pool:
            answers = list(pool.map(lambda _n: parallel_network.client.get(
                f"/api/v1/tickets/{ticket_id}", headers=parallel_network.requester).status_code, range(6 * POOL_SIZE)))
    finally:
        event.remove(database.engine, "checkout", checkout)
        event.remove(database.engine, "checkin", checkin)
    assert answers == [200] * (6 * POOL_SIZE)
    assert 1 <= most[0] <= POOL_SIZE


def test_a_filing_ends_its_transactions_without_rolling_back(parallel_network, database):
    """psycopg forgets a connection's prepared statements at each ROLLBACK: the read session a
    filing closes before it writes is committed instead (``end_reads``)."""
    rollbacks: list[str] = []

    def record(_conn):
        rollbacks.append("rollback")

    event.listen(database.engine, "rollback", record)
    try:
        filed = file(parallel_network)
        read = parallel_network.client.get(f"/api/v1/tickets/{filed['ticket']['id']}", headers=parallel_network.admin)
    finally:
        event.remove(database.engine, "rollback", record)
    assert filed["ticket"]["status"] == "matching" and read.status_code == 200
    assert rollbacks == []


@pytest.fixture
def thread_trips(monkeypatch):
    """How many times requests went to a worker thread (``anyio.to_thread.run_sync``)."""
    trips: list[str] = []
    original = deps.to_thread.run_sync

    async def counted(func, *args, **kwargs):
        trips.append(getattr(func, "__name__", repr(func)))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(deps.to_thread, "run_sync", counted)
    return trips


def test_reads_and_filings_end_their_transactions_in_the_trip_that_did_the_work(reads_where, thread_trips):
    inline, network = reads_where
    ticket_id = file(network)["ticket"]["id"]
    thread_trips.clear()
    read = network.client.get(f"/api/v1/tickets/{ticket_id}", headers=network.requester)
    assert read.status_code == 200
    reads = list(thread_trips)
    thread_trips.clear()
    assert file(network)["ticket"]["status"] == "matching"
    # SQLite's write takes its lock in the same trip; PostgreSQL's has no lock to take.
    if inline:  # reads on the loop; the write in one trip
        assert reads == [] and thread_trips == ["_write_in_one_trip"]
    else:  # the caller, then the ticket with its commit; filing: caller, plan, write (the answer
        # is built from what was written, with no trip of its own)
        assert reads == ["caller_of", "load"]
        assert thread_trips == ["caller_of", "plan", "_write_in_one_trip"]


def test_postgresql_reads_run_without_a_transaction_and_writes_in_one(database):
    """On PostgreSQL a read session's BEGIN and COMMIT were two round trips that bought nothing
    at READ COMMITTED; SQLite keeps its DEFERRED read transaction (it never waits for a writer)."""
    with database.reader() as reading, database.writer() as writing:
        reading.execute(select(1))
        writing.execute(select(1))
        reader = reading.connection().connection.driver_connection
        writer = writing.connection().connection.driver_connection
        if database.dialect == "postgresql":
            assert reader.autocommit is True and writer.autocommit is False
            assert reader.info.transaction_status.name == "IDLE"  # nothing open between statements
            assert writer.info.transaction_status.name == "INTRANS"
        else:
            assert reader.in_transaction and writer.in_transaction


def test_a_change_to_a_ticket_takes_the_writer_for_one_trip(reads_where, thread_trips):
    """A decline, an accept, advice, a resolution and its confirmation: the caller is read first
    (on the loop, or in a trip of its own), then the change and its answer are written in a
    single trip to a worker thread that takes and lets go of SQLite's writer."""
    inline, network = reads_where
    client = network.client
    ticket_id = file(network)["ticket"]["id"]
    first, second = offers_of(network, ticket_id)[:2]
    expert = network.as_expert(second["expert_id"])
    accept = f"/api/v1/offers/{second['id']}/accept"
    steps = [(f"/api/v1/offers/{first['id']}/decline", {}, network.as_expert(first["expert_id"])),
             (accept, None, expert),  # not measured: its answer is a logged read
             (f"/api/v1/tickets/{ticket_id}/posts", {"kind": "advice", "body": "Cài lại trình ký số bản mới."}, expert),
             (f"/api/v1/tickets/{ticket_id}/resolve", {"summary": "Đã cài lại trình ký số."}, expert),
             (f"/api/v1/tickets/{ticket_id}/confirm", None, network.requester)]
    for path, body, headers in steps:
        thread_trips.clear()
        response = client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.text)
        if path == accept:
            continue
        expected = ["_write_in_one_trip"] if inline else ["caller_of", "end_reads", "_write_in_one_trip"]
        assert thread_trips == expected, path
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=network.requester).json()["status"] == "closed"
