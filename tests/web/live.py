"""A real server for browser tests: uvicorn in a thread on a free port, over a migrated SQLite
file holding the small ticket network, every user with a password."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from expert_match.app import create_app
from expert_match.db.engine import create_database
from expert_match.db.migrate import upgrade
from expert_match.settings import Settings
from expert_match.timeutil import FixedClock
from tests.builders import add_user
from tests.network import ONE_AT_A_TIME, Network, build_network
from tests.web.helpers import ADMIN, REQUESTER, expert_email, set_password

CHROMIUM_ENV = "EXPERT_MATCH_TEST_CHROMIUM"
REQUIRE_ENV = "EXPERT_MATCH_REQUIRE_BROWSER"  # set by .ci/run: a missing browser fails, not skips
SCREENSHOTS_ENV = "EXPERT_MATCH_SCREENSHOTS"
ROOT = Path(__file__).resolve().parents[2]


def chromium_path() -> str:
    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = f"Debian's Chromium is not installed ({path}); .ci/run installs it with apt"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(message)
        pytest.skip(message)
    return path


def screenshot_dir() -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or ROOT / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    url: str
    network: Network
    api: httpx.Client


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from tests.conftest import NOW

    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.sqlite3'}"
    settings = Settings(database_url=url, cookie_secure=False, offer_rounds=ONE_AT_A_TIME)
    database = create_database(settings)
    upgrade(database)
    app = create_app(settings, clock=FixedClock(NOW), database=database)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    api = httpx.Client(base_url=base, timeout=30)
    try:
        network = build_network(api, database, add_user(database, email=ADMIN, role="admin")[1])
        for email in (REQUESTER, ADMIN, *(expert_email(name) for name in network.experts)):
            set_password(database, email)
        yield Live(url=base, network=network, api=api)
    finally:
        api.close()
        server.should_exit = True
        thread.join(timeout=20)
        database.dispose()
