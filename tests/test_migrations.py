"""Migrations build the schema on both engines and match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from expert_match.db.engine import create_database
from expert_match.db.migrate import current_revision, downgrade, head_revision, upgrade
from expert_match.migrations.metadata import metadata
from expert_match.settings import Settings


def test_database_is_at_head(migrated):
    assert current_revision(migrated) == head_revision(migrated) is not None


def test_migrated_schema_matches_the_models(migrated):
    with migrated.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database):
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    assert "expert_profiles" in inspect(empty_database.engine).get_table_names()
    downgrade(empty_database, "base")
    assert "expert_profiles" not in inspect(empty_database.engine).get_table_names()
    upgrade(empty_database)
    upgrade(empty_database)  # a second upgrade is a no-op
    assert current_revision(empty_database) == head_revision(empty_database)


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(tmp_path):
    database = create_database(Settings(database_url=f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"))
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    finally:
        database.dispose()


def test_the_default_sqlite_file_lives_under_var(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    database = create_database(Settings())
    try:
        database.ping()
        assert (tmp_path / "var" / "expert_match.sqlite3").exists()
    finally:
        database.dispose()
