"""Request-scoped dependencies: the database session (committed before the response) and the clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from anyio import CancelScope, to_thread
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from expert_match.db.engine import POOL_SIZE, Database, SqliteWriterLock
from expert_match.db.hooks import discard_after_commit, has_after_commit, run_after_commit
from expert_match.errors import Conflict
from expert_match.experts.match_index import MatchIndex
from expert_match.http.clients import TrustedProxies
from expert_match.settings import Settings
from expert_match.tickets.desk import Desk
from expert_match.structs import MAX_ID
from expert_match.timeutil import Clock

T = TypeVar("T")

SESSION_COOKIE = "em_session"
# Bodies of routes that take a few short fields (login, reasons, ratings): far below the
# app-wide EXPERT_MATCH_MAX_BODY_BYTES that problem descriptions and advice need.
SHORT_BODY_BYTES = 16 * 1024

DbSession = NamedDependency[Session]
Now = NamedDependency[datetime]
Index = NamedDependency[MatchIndex]
DeskDep = NamedDependency[Desk]
SettingsDep = NamedDependency[Settings]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="Numeric id")]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="Rows to skip")]
SearchText = Annotated[str | None, QueryParameter(min_length=1, max_length=120, description="Search text")]


# Route opt: the request's session only reads (the caller, checks, planning) and the handler
# writes through ``write_transaction``, so SQLite's single writer is held only for the writes.
DEFERRED_WRITE = "deferred_write"
# Session info key: the session reads on the event-loop thread (``in_session``).
INLINE = "expert_match_inline"
# Scope state key: the request's open transaction (``end_request_transaction``).
_OPEN_TRANSACTION = "expert_match_open_transaction"


async def provide_db_session(request: Request[Any, Any, Any]) -> AsyncGenerator[Session, None]:
    """One session per request; committed before the response is sent, so a 2xx means saved.

    Reads use the DEFERRED reader (never waits for SQLite writers); everything else the writer.
    A failed commit raises ``Conflict`` or propagates, so the client never sees a 2xx for it.
    """
    state = request.app.state
    database: Database = state.database
    gate: DatabaseGate = state.db_gate
    # A logged read is a ``DEFERRED_WRITE`` route: its log row goes in a write transaction of its
    # own, so a read transaction never has to become a write (SQLite could refuse that under load).
    reading = request.method in READ_METHODS or bool(request.route_handler.opt.get(DEFERRED_WRITE))
    inline = reading and database.inline_reads
    stack = AsyncExitStack()
    await stack.enter_async_context(gate.admit(writing=not reading))
    try:
        session = await stack.enter_async_context(
            transaction(database.reader if reading else database.writer, inline=inline))
    except BaseException:
        await stack.aclose()
        raise
    # Left where ``end_request_transaction`` finds it: see there.
    request.scope.setdefault("state", {})[_OPEN_TRANSACTION] = stack
    try:
        yield session
    except BaseException as exc:
        if ended := request.scope["state"].pop(_OPEN_TRANSACTION, None):
            await ended.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    if ended := request.scope["state"].pop(_OPEN_TRANSACTION, None):
        await ended.aclose()


async def end_request_transaction(exc: Exception, scope: Any) -> None:
    """App hook (``after_exception``): end the request's transaction if it is still open.

    Litestar cleans up generator dependencies only once every dependency is resolved. When a
    later one fails (401 from ``caller``, 403 from ``staff``), the session's generator is left
    suspended until the garbage collector finalises it, and with it the connection and, for a
    write route, the writer gate: the next write in the process waited for the collector (a
    test hung on it). Ending it here, before the error response is sent, frees both at once.
    """
    state = scope.get("state") or {}
    if stack := state.pop(_OPEN_TRANSACTION, None):
        await stack.__aexit__(type(exc), exc, exc.__traceback__)


async def in_session(session: Session, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` for a request's session: on this thread when the session reads inline
    (``Database.inline_reads``), in a worker thread otherwise."""
    if session.info.get(INLINE):
        return work(*args)
    return await to_thread.run_sync(work, *args)


async def write_transaction(request: Request[Any, Any, Any], work: Callable[[Session], T]) -> T:
    """``work`` in a writer session of its own, committed before this returns (routes marked
    ``DEFERRED_WRITE``). The request already holds a connection permit: it must have closed its
    read session first, so it never holds two connections."""
    database: Database = request.app.state.database
    gate: DatabaseGate = request.app.state.db_gate
    if gate.writer is None:  # PostgreSQL: no lock to take, the same single trip
        return await to_thread.run_sync(_write_in_one_trip, None, database.writer, work)
    async with gate.writer:
        # One trip to a worker thread takes the file lock, writes, commits and lets go. With a
        # trip per step, the holder waited between steps for its event loop, busy planning other
        # filings, while the other server process sat blocked on the lock (bench api: 28 % of
        # the CPUs idle during filing).
        return await to_thread.run_sync(_write_in_one_trip, gate.across_processes, database.writer, work)


def _write_in_one_trip(lock: SqliteWriterLock | None, factory: Callable[[], Session], work: Callable[[Session], T]) -> T:
    if lock is not None:
        lock.acquire()
    try:
        session = factory()
        try:
            answer = work(session)
        except BaseException:
            _close(session)
            raise
        _commit_and_close(session)
        return answer
    finally:
        if lock is not None:
            lock.release()


@asynccontextmanager
async def transaction(factory: Callable[[], Session], *, inline: bool = False) -> AsyncIterator[Session]:
    """A session committed (then closed) when the block ends, or closed when it fails. Each end is
    one trip to a worker thread (every trip costs the event loop time that requests share), or
    none for an ``inline`` read session (see ``in_session``)."""
    session = factory()
    if inline:
        session.info[INLINE] = True
    try:
        yield session
    except BaseException:
        # Shielded: a request cancelled during cleanup (client gone, app shutting down) must
        # still end its transaction, or an SQLite write lock outlives the request (seen in CI).
        with CancelScope(shield=True):
            await in_session(session, _close, session)
        raise
    if not session.in_transaction() and not has_after_commit(session):
        # The handler ended it already (``end_reads``, in its own trip): nothing to send or run.
        _close(session)
        return
    # Not abandoned on cancellation either: the commit and the close finish together.
    await in_session(session, _commit_and_close, session)


def end_reads(session: Session) -> None:
    """End a request's read transaction and hand its connection back in the trip that did the
    reads (at the end of a read, or before a filing takes the writer), so the request's cleanup
    needs no trip of its own. Committed, not rolled back: psycopg forgets every statement it
    prepared on a connection at each ROLLBACK, and a rollback per filing kept PostgreSQL parsing
    and planning nearly every query afresh (9,239 unprepared executions against 105 prepared in
    400 filings). Anything left in the unit of work is dropped first, so nothing is written."""
    session.expunge_all()
    _commit_and_close(session)


def _commit_and_close(session: Session) -> None:
    try:
        _commit(session)
        run_after_commit(session)
    finally:
        _close(session)


def _close(session: Session) -> None:
    discard_after_commit(session)
    session.close()


@dataclass
class DatabaseGate:
    """Admission to the database, awaited on the event loop before a request takes a thread.

    Without it, requests blocked on the database hold worker threads: 40 concurrent filings on
    SQLite each took a thread and waited for the write lock, while the request holding the lock
    waited for a free thread to commit. Everyone timed out after the busy timeout (500s, measured
    with 32 clients in tests/test_crash.py). So: at most as many requests as the pool has
    connections, and on SQLite one writing request at a time (SQLite has one writer anyway).
    """

    connections: asyncio.Semaphore
    writer: asyncio.Lock | None
    # SQLite file databases: the writer of this process also takes the file lock other
    # processes (server workers) take, so they hand over without SQLite's sleep-and-retry.
    across_processes: SqliteWriterLock | None = None
    admitted: int = 0  # requests holding a connection permit now

    @classmethod
    def for_database(cls, database: Database) -> DatabaseGate:
        sqlite = database.dialect == "sqlite"
        return cls(connections=asyncio.Semaphore(POOL_SIZE), writer=asyncio.Lock() if sqlite else None,
                   across_processes=SqliteWriterLock.for_database(database))

    @asynccontextmanager
    async def admit(self, *, writing: bool) -> AsyncIterator[None]:
        async with self.connections:
            self.admitted += 1
            try:
                if writing:
                    async with self.writing():
                        yield
                else:
                    yield
            finally:
                self.admitted -= 1

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        if self.writer is None:
            yield
            return
        async with self.writer:
            if self.across_processes is None:
                yield
                return
            # Shielded: a request cancelled while waiting must still get the lock, so that the
            # release below always matches an acquire (it then stops at its next await).
            with CancelScope(shield=True):
                await to_thread.run_sync(self.across_processes.acquire)
            try:
                yield
            finally:
                self.across_processes.release()


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("the change conflicts with existing data") from exc
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("the object was changed by someone else; reload it and try again") from exc


# The app-wide providers take no parameters: Litestar checks each provider's parameters against
# its signature at every request, and a ``state: State`` parameter made it build a new ``State``
# around the app's dict each time (10 us per provider, four of them in a ticket read).


def now_provider(clock: Clock) -> Callable[[], datetime]:
    def provide_now() -> datetime:
        return clock.now()
    return provide_now


def constant_provider(value: T) -> Callable[[], T]:
    """The provider of one object the whole app shares (the match index, the desk)."""
    def provide() -> T:
        return value
    return provide


def client_address(request: Request[Any, Any, Any]) -> str:
    """The socket peer's address (the only one a client cannot forge), or behind a trusted
    reverse proxy the client it forwards (``http.clients``)."""
    peer = request.client.host if request.client else "unknown"
    proxies: TrustedProxies = request.app.state["trusted_proxies"]
    if not proxies.networks:
        return peer
    return proxies.client(peer, request.headers.getall("x-forwarded-for", []))
