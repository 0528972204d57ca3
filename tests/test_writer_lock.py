"""SQLite writers in several processes take turns on a file lock (http/deps.DatabaseGate)."""

from __future__ import annotations

import threading

from expert_match.db.engine import SqliteWriterLock, create_database
from expert_match.settings import Settings


def test_a_second_holder_waits_until_the_first_releases(tmp_path):
    # Two lock objects have two open files: exactly as two server processes would.
    first, second = SqliteWriterLock(tmp_path / "x.writer-lock"), SqliteWriterLock(tmp_path / "x.writer-lock")
    first.acquire()
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (second.acquire(), got.set()))
    waiter.start()
    assert not got.wait(0.3)
    first.release()
    assert got.wait(5)
    second.release()
    waiter.join()
    first.acquire()  # free again
    first.release()


def test_only_sqlite_files_get_a_lock(tmp_path):
    database = create_database(Settings(database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}"))
    lock = SqliteWriterLock.for_database(database)
    assert lock is not None and lock.path == tmp_path / "a.sqlite3.writer-lock"
    database.dispose()
    postgres = create_database(Settings(database_url="postgresql://postgres@127.0.0.1:5432/none"))
    assert SqliteWriterLock.for_database(postgres) is None
    postgres.dispose()
