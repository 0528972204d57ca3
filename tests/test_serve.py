"""`expert-match serve` in a real process: prints the docs URLs and serves the demo experts."""

import gc
import os
import socket
import subprocess
import sys
import time

import httpx
from litestar.testing import TestClient

from expert_match.app import create_app
from expert_match.cli import main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_lists_the_demo_experts(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    monkeypatch.setenv("EXPERT_MATCH_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert main(["load-fixtures"]) == 0
    capsys.readouterr()
    assert main(["users", "token", "--email", "admin@cds.danang.example"]) == 0
    token = capsys.readouterr().out.strip()
    port = free_port()
    env = {**os.environ, "EXPERT_MATCH_DATABASE_URL": url, "EXPERT_MATCH_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "expert_match.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.2)
        assert httpx.get(f"{base}/api/v1/experts").status_code == 401
        experts = httpx.get(f"{base}/api/v1/experts", params={"limit": 5},
                            headers={"Authorization": f"Bearer {token}"}).json()
        assert experts["total"] == 320
        assert len(experts["items"]) == 5
        assert httpx.get(f"{base}/schema/openapi.json").status_code == 200
        assert httpx.get(f"{base}/schema/swagger").status_code == 200
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)
    assert f"{base}/schema" in output
    assert f"{base}/schema/openapi.json" in output


def tracked(thing: object) -> bool:
    """Whether the garbage collector still scans ``thing`` (frozen objects are out of its lists)."""
    return any(other is thing for other in gc.get_objects())


def test_a_serving_app_freezes_what_its_start_up_built_and_a_test_app_does_not(database, settings, clock):
    try:
        for freeze in (False, True):
            app = create_app(settings, clock=clock, database=database, freeze_heap=freeze)
            with TestClient(app) as client:
                assert client.get("/health/live").status_code == 200
                assert tracked(app.state.match_index.ranker) is not freeze
                assert (gc.get_freeze_count() > 0) is freeze
    finally:
        gc.unfreeze()
