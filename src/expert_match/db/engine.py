"""Engine and session factory for SQLite (default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from expert_match.settings import Settings

# Per-connection execution option: how a SQLite transaction starts. Writers take the write lock at
# BEGIN (IMMEDIATE) so a read-then-write transaction never fails half-way with SQLITE_BUSY; readers
# start DEFERRED so they never wait for writers (WAL lets them read a snapshot).
SQLITE_BEGIN = "expert_match_sqlite_begin"


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs, the driver this project tests against."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass(frozen=True, slots=True)
class Database:
    """An engine and two session factories: ``writer`` for changes, ``reader`` for reads."""

    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # Whether a request's reads run on its event-loop thread instead of a worker thread
    # (``reads_inline``).
    inline_reads: bool = False

    def ping(self) -> None:
        """Run a trivial query; raises when the database cannot be reached."""
        with self.reader() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def create_database(settings: Settings) -> Database:
    url = normalize_database_url(settings.database_url)
    engine = _create_engine(url, settings)
    reader_engine = engine.execution_options(**_reader_options(engine))
    return Database(
        engine=engine,
        writer=sessionmaker(bind=engine, expire_on_commit=False),
        reader=sessionmaker(bind=reader_engine, expire_on_commit=False),
        inline_reads=reads_inline(url, settings.reads_inline),
    )


def _reader_options(engine: Engine) -> dict[str, Any]:
    """How read sessions run. SQLite: in a DEFERRED transaction, which never waits for a writer.
    PostgreSQL: in autocommit. A transaction there added a BEGIN and a COMMIT, two round trips,
    to every request's reads and gave nothing back: at PostgreSQL's READ COMMITTED each statement
    sees its own snapshot inside a transaction too, and reads take no locks (every FOR UPDATE is
    in a writer session). A ticket read in process: 1,120-1,171 -> 1,020-1,083 us."""
    if engine.dialect.name == "sqlite":
        return {SQLITE_BEGIN: "DEFERRED"}
    return {"isolation_level": "AUTOCOMMIT"}


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def reads_inline(url: str, choice: str = "auto") -> bool:
    """Whether requests' reads run on the event loop (``EXPERT_MATCH_READS_INLINE``: auto, on, off).

    Each hop to a worker thread and back costs the event loop more than a read's queries when
    they answer in tens of microseconds, GIL hand-offs included. SQLite in WAL: a reader never
    waits for a lock, and one server process served 148 ticket reads/s with the hops, 270/s
    without. PostgreSQL on the same host answers over loopback in about as little: ``bench api``
    read 755 tickets/s with the hops and 1,078/s without (filing 79 and 86/s). A PostgreSQL
    server across a network answers in a millisecond or more, during which an inline read would
    hold every request of its process, so ``auto`` keeps those reads in threads. Writes always
    run in threads.

    >>> [reads_inline(u) for u in ("sqlite:///x.db", "postgresql://app@127.0.0.1/em",
    ...                            "postgresql:///em", "postgresql://app@db.internal/em")]
    [True, True, True, False]
    >>> reads_inline("postgresql://app@db.internal/em", "on"), reads_inline("sqlite:///x.db", "off")
    (True, False)
    """
    if choice != "auto":
        return choice == "on"
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return True
    host = parsed.host or str(parsed.query.get("host") or "")
    return not host or host.startswith("/") or host in LOCAL_HOSTS


# Connections per process. The web layer admits at most POOL_SIZE requests to the database at
# once, so they never need more than the pool keeps open; the overflow is headroom for work
# outside the gate (index refreshes, the scheduler's own sessions). Admitting beyond the pool
# made SQLAlchemy open and close an overflow connection per request under load: on PostgreSQL a
# backend forked each time (389 sessions opened in one bench api run, 29 now), and ticket reads
# served 585 req/s against 729 now (2 workers, 32 connections).
POOL_SIZE, MAX_OVERFLOW = 12, 4
POSTGRES_CONNECT_TIMEOUT_S = 10


def _create_engine(url: str, settings: Settings) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A bounded wait for a server that does not answer: a read on the event loop (see
        # ``reads_inline``) holds its process's requests while it connects.
        return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW,
                             connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S})
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": settings.sqlite_busy_timeout_ms / 1000},
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
    )
    _install_sqlite_pragmas(engine, settings.sqlite_busy_timeout_ms)
    return engine


def _install_sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (pysqlite's legacy mode
        # runs SELECTs outside any transaction, which breaks read-then-write safety).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged commit survives power loss, not only a killed process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        # On the driver's connection: every transaction begins here, and a statement through
        # SQLAlchemy's execution machinery cost a read request 20 us for these few bytes.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


class SqliteWriterLock:
    """An exclusive lock on a file next to the SQLite database, held by the one writing request of
    a process while it writes. Several server processes then take turns on the kernel's lock,
    which wakes the next waiter at once, instead of SQLite's busy handler, which sleeps and
    retries: with two workers filing, that polling left the CPUs a third idle (measured with
    ``bench api``). Not reentrant; one holder per process (the web layer's writer gate)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def for_database(cls, database: Database) -> SqliteWriterLock | None:
        name = database.engine.url.database if database.dialect == "sqlite" else None
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        return cls(Path(f"{name}.writer-lock"))

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


@contextmanager
def scratch_postgres_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``admin_url``, dropped afterwards
    (tests and load tests): yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(normalize_database_url(admin_url)).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
