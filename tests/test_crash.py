"""Kill -9 in the middle of 200 concurrent filings, restart: every filing the server acknowledged
with a 2xx exists with its exact content and history, and the database passes its integrity check.
On SQLite and on PostgreSQL, against a real server process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from expert_match.db.backup import integrity_problems
from expert_match.db.engine import create_database
from expert_match.db.migrate import upgrade
from expert_match.settings import Settings
from tests.builders import add_user, org_body
from tests.conftest import POSTGRES_ENV, temporary_postgres_database
from tests.test_serve import free_port

FILINGS = 200
KILL_AFTER = 60  # acknowledged filings before the kill


@contextmanager
def crash_database(engine: str, tmp_path: Path) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        return
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with temporary_postgres_database("expert_match_crash") as url:
        yield url


def start_server(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "EXPERT_MATCH_DATABASE_URL": url, "EXPERT_MATCH_LOG_LEVEL": "WARNING",
           "EXPERT_MATCH_FILINGS_PER_HOUR_PER_ACCOUNT": "100000", "EXPERT_MATCH_FILINGS_PER_HOUR_PER_ADDRESS": "100000"}
    proc = subprocess.Popen([sys.executable, "-m", "expert_match.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_acknowledged_filings_survive_kill_9(engine: str, tmp_path: Path) -> None:
    with crash_database(engine, tmp_path) as url:
        database = create_database(Settings(database_url=url))
        upgrade(database)
        admin = {"Authorization": f"Bearer {add_user(database, email='admin@danang.example', role='admin')[1]}"}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(url, port)
        org = httpx.post(f"{base}/api/v1/orgs", json=org_body(), headers=admin, timeout=30).json()
        token = add_user(database, email="van.thu@hoacuongbac.danang.example", role="requester", org_id=org["id"])[1]
        headers = {"Authorization": f"Bearer {token}"}
        acknowledged: dict[int, dict[str, str]] = {}
        lock = threading.Lock()
        killed = threading.Event()

        def file(i: int) -> None:
            body = {"title": f"Sự cố số {i:03d} tại bộ phận một cửa",
                    "description": f"Mô tả chi tiết sự cố số {i:03d}: máy tính không ký số được hồ sơ."}
            try:
                response = httpx.post(f"{base}/api/v1/tickets", json=body, headers=headers, timeout=30)
            except httpx.TransportError:
                return  # never acknowledged: may or may not exist, but must be whole if it does
            if response.status_code == 201:
                with lock:
                    acknowledged[response.json()["ticket"]["id"]] = body
                    if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                        killed.set()
                        os.kill(server.pid, signal.SIGKILL)

        try:
            with ThreadPoolExecutor(max_workers=32) as pool:
                list(pool.map(file, range(FILINGS)))
            assert killed.is_set(), "the server was never killed mid-way"
            server.wait(timeout=30)
            assert KILL_AFTER <= len(acknowledged) < FILINGS
            server = start_server(url, port)
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for ticket_id, body in acknowledged.items():
                    ticket = client.get(f"/api/v1/tickets/{ticket_id}")
                    assert ticket.status_code == 200, (ticket_id, ticket.text)
                    assert {k: ticket.json()[k] for k in body} == body
                    kinds = [e["kind"] for e in client.get(f"/api/v1/tickets/{ticket_id}/events").json()]
                    assert kinds[0] == "file"
                # Every ticket that exists, acknowledged or not, has its whole filing history.
                listed = client.get("/api/v1/tickets", params={"limit": 200}).json()
                assert listed["total"] >= len(acknowledged)
                for item in listed["items"]:
                    kinds = [e["kind"] for e in client.get(f"/api/v1/tickets/{item['id']}/events").json()]
                    assert kinds and kinds[0] == "file", item["id"]
        finally:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
        assert integrity_problems(database) == []
        database.dispose()
