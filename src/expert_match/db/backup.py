"""Backups: ``expert-match backup FILE`` and ``expert-match restore FILE``.

SQLite uses the online backup API: a consistent copy while the service keeps writing (a plain
file copy of a WAL database can miss committed pages). The copy is written to ``FILE.partial``,
checked with ``PRAGMA integrity_check`` and only then renamed, so a half-written backup never
looks like a good one. PostgreSQL uses ``pg_dump --format=custom`` and ``pg_restore --clean``
(the client tools must match the server's major version).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from expert_match.db.engine import Database
from expert_match.errors import InvalidValue

# Tables that hold no data of the city's when empty: a database with rows elsewhere is "in use".
_BOOKKEEPING = {"alembic_version"}


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size_bytes: int
    engine: str


def backup(database: Database, target: Path) -> BackupResult:
    """Write a consistent copy of the whole database to ``target``."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if database.dialect == "sqlite":
        _sqlite_backup(database, partial)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), _libpq_url(database)])
    os.replace(partial, target)
    return BackupResult(path=target, size_bytes=target.stat().st_size, engine=database.dialect)


def restore(database: Database, source: Path, *, overwrite: bool) -> None:
    """Replace the database's contents with the backup in ``source``. Refuses to overwrite a
    database that holds data unless ``overwrite``. Stop the service first."""
    if not source.is_file():
        raise InvalidValue(f"no backup file at {source}", field="file")
    if not overwrite and holds_data(database):
        raise InvalidValue("the database already holds data; pass --yes to replace all of it", field="file")
    if database.dialect == "sqlite":
        _sqlite_restore(database, source)
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--dbname", _libpq_url(database), str(source)])


def holds_data(database: Database) -> bool:
    with database.engine.connect() as connection:
        names = [n for n in database.engine.dialect.get_table_names(connection) if n not in _BOOKKEEPING]
        return any(connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() for name in names)


def integrity_problems(database: Database) -> list[str]:
    """What the engine's own check finds wrong (empty when healthy): SQLite's integrity and
    foreign-key checks; on PostgreSQL, that every table can be read."""
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            found = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check") if row[0] != "ok"]
            found += [f"foreign key: {row}" for row in connection.exec_driver_sql("PRAGMA foreign_key_check")]
            return found
        names = database.engine.dialect.get_table_names(connection)
        for name in names:
            connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
        return []


def _sqlite_backup(database: Database, partial: Path) -> None:
    destination = sqlite3.connect(partial)
    try:
        with database.engine.connect() as connection:
            connection.connection.dbapi_connection.backup(destination)  # type: ignore[union-attr]
        problems = [row[0] for row in destination.execute("PRAGMA integrity_check") if row[0] != "ok"]
    finally:
        destination.close()
    if problems:
        partial.unlink(missing_ok=True)
        raise InvalidValue(f"the copy failed its integrity check: {problems[:3]}", field="file")


def _sqlite_restore(database: Database, source: Path) -> None:
    origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            problems = [row[0] for row in origin.execute("PRAGMA integrity_check") if row[0] != "ok"]
            tables = {row[0] for row in origin.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise InvalidValue(f"{source} is not an SQLite backup: {exc}", field="file") from exc
        if problems or "alembic_version" not in tables:
            raise InvalidValue(f"{source} is not a healthy expert-match backup", field="file")
        database.engine.dispose()  # no pooled connection may keep reading the old pages
        with database.engine.connect() as connection:
            origin.backup(connection.connection.dbapi_connection)  # type: ignore[arg-type]
    finally:
        origin.close()


def _libpq_url(database: Database) -> str:
    # pg_dump speaks libpq URLs: no SQLAlchemy driver suffix ("postgresql+psycopg").
    url = make_url(database.engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise InvalidValue(f"{command[0]} is not installed; install the PostgreSQL client tools "
                           f"(Debian: apt-get install postgresql-client)", field="file")
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise InvalidValue(f"{command[0]} failed: {finished.stderr.strip()[:500]}", field="file")
