"""Limits and headers: body size per route, filing and login rate limits keyed by the socket
peer (a forged X-Forwarded-For changes nothing), security headers on every response, and
no-store on everything a signed-in caller receives."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from expert_match.app import create_app
from expert_match.http.deps import SHORT_BODY_BYTES
from tests.builders import add_user, bearer
from tests.network import Network, build_network
from tests.tickets.test_ticket_api import SIGNATURE

SHORT_ROUTES = [
    "/api/v1/auth/login", "/api/v1/auth/tokens", "/api/v1/tickets/1/reopen", "/api/v1/tickets/1/cancel",
    "/api/v1/tickets/1/merge", "/api/v1/tickets/1/assign", "/api/v1/tickets/1/hand-back",
    "/api/v1/tickets/1/feedback", "/api/v1/offers/1/decline", "/login", "/logout", "/language",
    "/offers/1/accept", "/offers/1/decline",
]
LONG_ROUTES = ["/api/v1/tickets", "/api/v1/tickets/1/posts", "/api/v1/tickets/1/resolve", "/tickets/new", "/profile"]


@pytest.fixture
def limited(database, settings, clock, admin_token) -> Iterator[Network]:
    strict = settings.__class__(**{**{f: getattr(settings, f) for f in settings.__dataclass_fields__},
                                   "filings_per_hour_per_account": 3, "filings_per_hour_per_address": 5})
    with TestClient(create_app(strict, clock=clock, database=database), raise_server_exceptions=False) as client:
        yield build_network(client, database, admin_token)


@pytest.mark.parametrize("path", SHORT_ROUTES)
def test_short_routes_refuse_bodies_over_their_own_limit(client, path) -> None:
    raw = b'{"reason": "' + b"x" * SHORT_BODY_BYTES + b'"}'
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("path", LONG_ROUTES)
def test_long_routes_take_bodies_the_short_limit_would_refuse(client, path) -> None:
    raw = b'{"body": "' + b"x" * (2 * SHORT_BODY_BYTES) + b'"}'
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code != 413


def test_the_longest_legitimate_short_bodies_fit(client) -> None:
    login = client.post("/api/v1/auth/login", json={"email": "a" * 60 + "@danang.example", "password": "ữ" * 1000})
    assert login.status_code == 401  # read and refused, not cut off
    reason = client.post("/api/v1/tickets/1/cancel", json={"reason": "ữ\u0301" * 250})
    assert reason.status_code == 404


def test_filing_is_limited_per_account_and_per_address_whatever_the_headers_say(limited: Network, database,
                                                                                 clock) -> None:
    client = limited.client
    for i in range(3):
        assert client.post("/api/v1/tickets", json={**SIGNATURE, "title": f"Lỗi ký số lần {i}"},
                           headers={**limited.requester, "X-Forwarded-For": f"10.0.0.{i}"}).status_code == 201
    refused = client.post("/api/v1/tickets", json=SIGNATURE, headers={**limited.requester, "X-Forwarded-For": "10.9.9.9"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert refused.json()["code"] == "too_many_requests"

    colleague = bearer(add_user(database, email="ke.toan@hoacuongbac.danang.example", role="requester",
                                org_id=limited.org_id)[1])
    for i in range(2):
        assert client.post("/api/v1/tickets", json={**SIGNATURE, "title": f"Máy in số {i}"},
                           headers={**colleague, "X-Real-IP": f"10.1.0.{i}"}).status_code == 201
    # Five filings from this address in the hour: the address is spent, for every account on it.
    assert client.post("/api/v1/tickets", json=SIGNATURE, headers={**colleague, "X-Forwarded-For": "10.2.0.1"}
                       ).status_code == 429
    clock.current += timedelta(hours=1, seconds=1)
    assert client.post("/api/v1/tickets", json=SIGNATURE, headers=colleague).status_code == 201


def test_the_web_form_counts_against_the_same_filing_limit(limited: Network, database) -> None:
    from tests.web.helpers import REQUESTER, set_password, sign_in
    from tests.web.test_pages import PROBLEM

    client = limited.client
    for i in range(2):
        assert client.post("/api/v1/tickets", json={**SIGNATURE, "title": f"Lỗi ký số lần {i}"},
                           headers=limited.requester).status_code == 201
    set_password(database, REQUESTER)
    form = {**PROBLEM, "csrf_token": sign_in(client, REQUESTER), "confirmed": "yes"}
    assert client.post("/tickets/new", data=form, follow_redirects=False).status_code == 303  # the third
    refused = client.post("/tickets/new", data={**form, "title": "Lần thứ tư"}, follow_redirects=False)
    assert refused.status_code == 429 and "Lần thứ tư" not in refused.text
    mine = client.get("/api/v1/tickets", headers=limited.requester).json()
    assert mine["total"] == 3 and "Lần thứ tư" not in {t["title"] for t in mine["items"]}


def test_a_forged_forwarded_for_does_not_reset_the_login_limit(anon_client, settings) -> None:
    for i in range(settings.login_failures_per_address):
        response = anon_client.post("/api/v1/auth/login", json={"email": f"u{i}@danang.example", "password": "x" * 12},
                                    headers={"X-Forwarded-For": f"203.0.113.{i}", "Forwarded": f"for=198.51.100.{i}"})
        assert response.status_code == 401
    last = anon_client.post("/api/v1/auth/login", json={"email": "new@danang.example", "password": "x" * 12},
                            headers={"X-Forwarded-For": "192.0.2.77"})
    assert last.status_code == 429


def get_paths(client: TestClient) -> list[str]:
    paths = client.get("/schema/openapi.json").json()["paths"]
    return [re.sub(r"\{[^}]+\}", "1", p) for p, item in paths.items() if "get" in item]


def test_every_response_carries_the_security_headers(anon_client, admin_token) -> None:
    paths = get_paths(anon_client) + ["/", "/login", "/tickets", "/desk", "/nothing-here", "/api/v1/nothing",
                                      "/static/style.css"]
    assert len(paths) > 20
    for headers in ({}, bearer(admin_token)):
        for path in paths:
            response = anon_client.get(path, headers=headers, follow_redirects=False)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
            if headers and not path.startswith("/static/"):
                assert response.headers["cache-control"] == "no-store", path
    oversized = anon_client.post("/api/v1/auth/login", content=b"x" * (SHORT_BODY_BYTES + 1))
    assert oversized.status_code == 413 and oversized.headers["x-content-type-options"] == "nosniff"
