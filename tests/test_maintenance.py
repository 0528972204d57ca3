"""Upkeep of the planner's statistics: the service warns when PostgreSQL's autovacuum is off,
and the benchmarks' VACUUM (ANALYZE) gathers the statistics autovacuum would have."""

from __future__ import annotations

from sqlalchemy import text

from expert_match.cli import main
from expert_match.db.maintenance import AUTOVACUUM_OFF, autovacuum_on, autovacuum_warning, vacuum_analyze
from expert_match.db.migrate import upgrade
from tests.builders import add_user


def server_setting(database, name: str) -> str:
    with database.engine.connect() as connection:
        return connection.execute(text(f"SHOW {name}")).scalar_one()


def test_the_warning_follows_the_servers_autovacuum_setting(empty_database) -> None:
    if empty_database.dialect == "sqlite":
        assert autovacuum_on(empty_database) is True and autovacuum_warning(empty_database) is None
        return
    off = server_setting(empty_database, "autovacuum") == "off"
    assert autovacuum_on(empty_database) is not off
    assert autovacuum_warning(empty_database) == (AUTOVACUUM_OFF if off else None)


def test_vacuum_analyze_gathers_the_statistics_of_every_table(empty_database) -> None:
    upgrade(empty_database)
    for number in range(30):
        add_user(empty_database, email=f"user{number}@danang.example", role="requester")
    seconds = vacuum_analyze(empty_database)
    assert seconds >= 0
    if empty_database.dialect == "sqlite":
        return  # nothing to do there: no dead rows, and no statistics the service relies on
    with empty_database.engine.connect() as connection:
        analyzed = dict(connection.execute(text(
            "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables")).all())
        # What the planner now knows of the table: its row count, and how users spread over roles.
        estimated = connection.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'users'")).scalar_one()
        roles = connection.execute(text(
            "SELECT n_distinct FROM pg_stats WHERE tablename = 'users' AND attname = 'role'")).scalar_one()
    assert analyzed and all(analyzed.values()), analyzed
    assert estimated == 30
    assert roles == 1  # every user here is a requester


def test_the_scheduler_says_when_the_servers_autovacuum_is_off(empty_database, monkeypatch, capsys) -> None:
    monkeypatch.setenv("EXPERT_MATCH_DATABASE_URL", empty_database.engine.url.render_as_string(hide_password=False))
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["scheduler", "--once"]) == 0
    err = capsys.readouterr().err
    expected = empty_database.dialect == "postgresql" and server_setting(empty_database, "autovacuum") == "off"
    assert ("autovacuum is off" in err) is expected, err
    if expected:
        assert "VACUUM (ANALYZE)" in err

