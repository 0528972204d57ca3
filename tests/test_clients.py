"""The client's address behind a reverse proxy: X-Forwarded-For is believed from the proxies the
operator names and from nobody else, the same under uvicorn (one worker) and granian (several)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from expert_match.cli import main
from expert_match.http.clients import TrustedProxies
from expert_match.settings import Settings, SettingsError, parse_networks
from tests.test_serve import free_port


def proxies(text: str) -> TrustedProxies:
    return TrustedProxies(parse_networks(text))


def test_the_client_is_the_right_most_address_no_trusted_proxy_appended() -> None:
    two_hops = proxies("127.0.0.1, 10.8.0.0/16")
    # A client's own X-Forwarded-For comes first; nginx appends the address it saw, then an
    # inner proxy appends the outer one's.
    assert two_hops.client("127.0.0.1", ["1.1.1.1", "203.0.113.9, 10.8.3.4"]) == "203.0.113.9"
    assert two_hops.client("10.8.0.1", ["2001:db8::7"]) == "2001:db8::7"
    # Forwarded only by trusted proxies (or not at all): the peer.
    assert two_hops.client("127.0.0.1", ["10.8.9.9"]) == "127.0.0.1"
    assert two_hops.client("127.0.0.1", []) == "127.0.0.1"
    # From anyone else the header means nothing.
    assert two_hops.client("198.51.100.4", ["203.0.113.9"]) == "198.51.100.4"
    assert proxies("").client("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"
    # A hop that is no address stops the walk at the proxy: its clients share one budget.
    assert two_hops.client("127.0.0.1", ["203.0.113.9, <script>"]) == "127.0.0.1"


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="EXPERT_MATCH_TRUSTED_PROXIES: 'nginx' is not an IP address"):
        Settings.from_env({"EXPERT_MATCH_TRUSTED_PROXIES": "127.0.0.1, nginx"})
    spaced = Settings.from_env({"EXPERT_MATCH_TRUSTED_PROXIES": " 127.0.0.1 ,::1 "})
    assert [str(n) for n in TrustedProxies.of(spaced).networks] == ["127.0.0.1/32", "::1/128"]


def started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int,
            trusted: str) -> tuple[subprocess.Popen, str]:
    url = f"sqlite:///{tmp_path / 'clients.sqlite3'}"
    monkeypatch.setenv("EXPERT_MATCH_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    port = free_port()
    env = {**os.environ, "EXPERT_MATCH_DATABASE_URL": url, "EXPERT_MATCH_LOG_LEVEL": "WARNING",
           "EXPERT_MATCH_LOGIN_FAILURES_PER_ADDRESS": "3", "EXPERT_MATCH_LOGIN_FAILURES_PER_ACCOUNT": "100",
           "EXPERT_MATCH_TRUSTED_PROXIES": trusted}
    proc = subprocess.Popen([sys.executable, "-m", "expert_match.cli", "serve", "--port", str(port),
                             "--workers", str(workers)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
        time.sleep(0.2)


@pytest.mark.parametrize(("workers", "trusted"), [(1, ""), (1, "127.0.0.1"), (2, "127.0.0.1")])
def test_failed_logins_are_counted_per_forwarded_client_only_behind_a_trusted_proxy(tmp_path, monkeypatch, workers,
                                                                                   trusted) -> None:
    proc, base = started(tmp_path, monkeypatch, workers, trusted)
    try:
        def fail(number: int, forwarded_for: str) -> int:
            return httpx.post(f"{base}/api/v1/auth/login", json={"email": f"u{number}@danang.example",
                                                                 "password": "sai-mat-khau-12"},
                              headers={"X-Forwarded-For": forwarded_for}, timeout=10).status_code

        assert [fail(i, "203.0.113.5") for i in range(3)] == [401, 401, 401]
        elsewhere = fail(3, "198.51.100.8")
        again = fail(4, "203.0.113.5")
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    if trusted:
        # The proxy's clients each have their own budget: another office is not locked out.
        assert (elsewhere, again) == (401, 429)
    else:
        # No proxy named: the header is ignored, and everything from 127.0.0.1 is one client.
        assert (elsewhere, again) == (429, 429)
