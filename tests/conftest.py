"""Test databases: a migrated SQLite file always, and a fresh PostgreSQL database when
``EXPERT_MATCH_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it and fails if the server is down).

Each backend is built once per test session with ``alembic upgrade head`` and emptied after
every test, so tests see an empty, migrated database and never each other's rows.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from expert_match.app import create_app
from expert_match.db.engine import Database, create_database, scratch_postgres_database
from expert_match.db.migrate import upgrade
from expert_match.migrations.metadata import metadata
from expert_match.settings import Settings
from expert_match.timeutil import FixedClock
from tests.builders import add_user, bearer

# The small expert network fixtures (network, parallel_network) used by ticket and route tests.
pytest_plugins = ["tests.network"]

POSTGRES_ENV = "EXPERT_MATCH_TEST_POSTGRES_URL"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 09:00 in Da Nang


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@contextmanager
def temporary_postgres_database(prefix: str) -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards; skips without the server URL."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with scratch_postgres_database(admin_url, prefix) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with temporary_postgres_database("expert_match_test") as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest) -> Iterator[Database]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    database = create_database(Settings(database_url=url))
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A brand-new database with no tables (for migration tests), on each engine."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        else:
            url = stack.enter_context(temporary_postgres_database("expert_match_empty"))
        database = create_database(Settings(database_url=url))
        stack.callback(database.dispose)
        yield database


@pytest.fixture
def database(migrated: Database) -> Iterator[Database]:
    yield migrated
    empty_all_tables(migrated)


def empty_all_tables(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))  # tickets refer to tickets (merges)
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(migrated: Database) -> Settings:
    return Settings(database_url=str(migrated.engine.url.render_as_string(hide_password=False)), max_body_bytes=64 * 1024,
                    cookie_secure=False)


@pytest.fixture
def anon_client(database: Database, settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    """A client with no credentials."""
    app = create_app(settings, clock=clock, database=database)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin_token(database: Database) -> str:
    return add_user(database, email="admin@danang.example", role="admin")[1]


@pytest.fixture
def client(anon_client: TestClient, admin_token: str) -> TestClient:
    """A client signed in as an admin (registry tests); role tests use ``anon_client`` with tokens."""
    anon_client.headers.update(bearer(admin_token))
    return anon_client


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
