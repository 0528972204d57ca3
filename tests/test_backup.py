"""Backups round-trip a populated database on both engines: every row of every table comes back,
the engine's integrity check passes, and a database in use is not overwritten by mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from expert_match.cli import main
from expert_match.db.backup import backup, holds_data, integrity_problems, restore
from expert_match.errors import InvalidValue
from expert_match.migrations.metadata import metadata
from tests.conftest import empty_all_tables
from tests.network import Network

PROBLEM = {"title": "Cổng DVC không nhận chữ ký số", "description": "Hồ sơ ký bằng USB token bị cổng dịch vụ công từ chối."}


def snapshot(database) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    rows = {}
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(r) for r in connection.execute(query)]
    return rows


def test_backup_and_restore_round_trip_a_populated_database(demo_network: Network, database, tmp_path: Path) -> None:
    client = demo_network.client
    filed = client.post("/api/v1/tickets", json=PROBLEM, headers=demo_network.requester)
    assert filed.status_code == 201, filed.text
    before = snapshot(database)
    assert len(before["expert_profiles"]) > 100
    assert before["tickets"] and before["ticket_events"] and before["offers"]

    result = backup(database, tmp_path / "nightly" / "expert-match.backup")
    assert result.path.exists() and result.size_bytes > 10_000
    assert not (tmp_path / "nightly" / "expert-match.backup.partial").exists()

    # After the backup: more work arrives, then the database is lost.
    assert client.post("/api/v1/tickets", json={**PROBLEM, "title": "Máy in không in được"},
                       headers=demo_network.requester).status_code == 201
    with pytest.raises(InvalidValue, match="already holds data"):
        restore(database, result.path, overwrite=False)
    empty_all_tables(database)
    assert not holds_data(database)

    restore(database, result.path, overwrite=False)
    assert snapshot(database) == before
    assert integrity_problems(database) == []
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM tickets")).scalars().all() == [PROBLEM["title"]]
    # The service works on the restored data.
    assert client.get(f"/api/v1/tickets/{filed.json()['ticket']['id']}", headers=demo_network.admin).status_code == 200


def test_restore_refuses_what_is_not_a_backup(database, tmp_path: Path) -> None:
    junk = tmp_path / "not-a-backup"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InvalidValue):
        restore(database, junk, overwrite=True)
    with pytest.raises(InvalidValue, match="no backup file"):
        restore(database, tmp_path / "missing", overwrite=True)


def test_backup_and_restore_commands(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("EXPERT_MATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'live.sqlite3'}")
    assert main(["migrate"]) == 0
    assert main(["load-fixtures"]) == 0
    capsys.readouterr()
    assert main(["backup", str(tmp_path / "copy.backup")]) == 0
    assert "backed up the sqlite database" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "copy.backup")]) == 1  # the live database holds data
    assert "--yes" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "copy.backup"), "--yes"]) == 0
    assert "restored" in capsys.readouterr().out
