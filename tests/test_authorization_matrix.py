"""Every route x every kind of caller. A route without a row fails the first test.

Callers: anonymous, a requester of the ticket's org, a requester of another org, the expert who was
offered (or assigned) the ticket, another expert, a coordinator, an admin. Outcomes: 401 (not
signed in), 403 (signed in, not allowed), 404 (may not even know it exists: looks exactly like a
missing object), "ok" (got past authorization: any other status below 500; domain answers such as
409 are tested elsewhere). Callers expected to be refused run first, so they see the object in the
state the row names, before an allowed caller changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.builders import add_user, bearer, expert_body
from tests.network import Network

CALLERS = ("anonymous", "requester", "other_requester", "offered_expert", "other_expert", "coordinator", "admin")
SIGNATURE = {"title": "Lỗi ký số hồ sơ một cửa",
             "description": "Máy tính bộ phận một cửa không nhận USB token chữ ký số khi ký hồ sơ."}


def expect(default: str, **overrides: str) -> dict[str, str]:
    """Outcome per caller: ``default`` for every signed-in caller unless overridden; anonymous 401."""
    outcomes = {caller: default for caller in CALLERS}
    outcomes["anonymous"] = "401"
    outcomes.update(overrides)
    return outcomes


EVERYONE = expect("ok")
STAFF = expect("403", coordinator="ok", admin="ok")
TICKET_READERS = expect("ok", other_requester="404", other_expert="404")
EXPERT_ACTION = expect("403", offered_expert="ok", other_requester="404", other_expert="404")
REQUESTER_ACTION = expect("403", requester="ok", other_requester="404", other_expert="404")
OWN_OFFER = expect("404", offered_expert="ok")
OWN_PROFILE = expect("404", offered_expert="ok", coordinator="ok", admin="ok")


@dataclass(frozen=True)
class Row:
    state: str  # the ticket's state before the calls: none, matching, assigned, resolved
    outcomes: dict[str, str]
    body: Any = None


MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/health"): Row("none", expect("ok", anonymous="ok")),
    ("GET", "/health/live"): Row("none", expect("ok", anonymous="ok")),
    # Public: anyone may log in (the account below exists with this password).
    ("POST", "/api/v1/auth/login"): Row("none", expect("ok", anonymous="ok"),
                                        {"email": "login@danang.example", "password": "mật khẩu đủ dài"}),
    ("POST", "/api/v1/auth/logout"): Row("none", EVERYONE),
    ("GET", "/api/v1/auth/me"): Row("none", EVERYONE),
    ("GET", "/api/v1/auth/tokens"): Row("none", EVERYONE),
    ("POST", "/api/v1/auth/tokens"): Row("none", EVERYONE, {"name": "tích hợp"}),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): Row("none", expect("404", admin="ok")),  # the admin's token
    ("GET", "/api/v1/orgs"): Row("none", EVERYONE),
    ("POST", "/api/v1/orgs"): Row("none", STAFF, {"name": "UBND phường Thạch Thang", "kind": "ward"}),
    ("GET", "/api/v1/orgs/{org_id}"): Row("none", EVERYONE),
    ("PATCH", "/api/v1/orgs/{org_id}"): Row("none", STAFF, {"address": "Số 1 đường 2 Tháng 9"}),
    ("GET", "/api/v1/experts"): Row("none", STAFF),
    ("POST", "/api/v1/experts"): Row("none", STAFF, expert_body(email="moi@chuyengia.danang.example")),
    ("GET", "/api/v1/experts/{expert_id}"): Row("none", OWN_PROFILE),
    ("PATCH", "/api/v1/experts/{expert_id}"): Row("none", OWN_PROFILE, {"capacity": 3}),
    ("GET", "/api/v1/skills"): Row("none", EVERYONE),
    ("POST", "/api/v1/skills"): Row("none", STAFF, {"slug": "e-invoice", "name_vi": "Hóa đơn điện tử",
                                                    "name_en": "E-invoicing"}),
    ("GET", "/api/v1/skills/{skill_id}"): Row("none", EVERYONE),
    ("PATCH", "/api/v1/skills/{skill_id}"): Row("none", STAFF, {"description": "Ký số văn bản"}),
    ("GET", "/api/v1/skills/resolve"): Row("none", EVERYONE),
    ("POST", "/api/v1/match"): Row("none", STAFF, {"text": "máy tính không nhận USB token"}),
    ("POST", "/api/v1/tickets"): Row("none", expect("ok", offered_expert="403", other_expert="403"), SIGNATURE),
    ("GET", "/api/v1/tickets"): Row("matching", EVERYONE),
    ("GET", "/api/v1/tickets/{ticket_id}"): Row("matching", TICKET_READERS),
    ("GET", "/api/v1/tickets/{ticket_id}/events"): Row("matching", TICKET_READERS),
    ("POST", "/api/v1/tickets/{ticket_id}/posts"): Row("assigned", EXPERT_ACTION,
                                                       {"kind": "advice", "body": "Cài lại driver."}),
    ("POST", "/api/v1/tickets/{ticket_id}/resolve"): Row("assigned", EXPERT_ACTION, {"summary": "Đã xong."}),
    ("POST", "/api/v1/tickets/{ticket_id}/hand-back"): Row("assigned", EXPERT_ACTION, {"reason": "Bận đột xuất"}),
    ("POST", "/api/v1/tickets/{ticket_id}/confirm"): Row("resolved", REQUESTER_ACTION),
    ("POST", "/api/v1/tickets/{ticket_id}/reopen"): Row("resolved", REQUESTER_ACTION, {"reason": "Vẫn lỗi"}),
    ("POST", "/api/v1/tickets/{ticket_id}/feedback"): Row("resolved", REQUESTER_ACTION, {"rating": 5}),
    ("POST", "/api/v1/tickets/{ticket_id}/cancel"): Row(
        "matching", expect("403", requester="ok", coordinator="ok", admin="ok", other_requester="404",
                           other_expert="404"), {"reason": "Đã tự xử lý"}),
    ("POST", "/api/v1/tickets/{ticket_id}/merge"): Row("matching", STAFF, {"into_ticket_id": 1}),
    ("POST", "/api/v1/tickets/{ticket_id}/assign"): Row("matching", STAFF, {"expert_id": 1}),
    ("POST", "/api/v1/tickets/{ticket_id}/rematch"): Row("matching", STAFF),
    ("GET", "/api/v1/tickets/{ticket_id}/offers"): Row("matching", STAFF),
    ("GET", "/api/v1/tickets/{ticket_id}/match-runs"): Row("matching", STAFF),
    ("GET", "/api/v1/tickets/{ticket_id}/accesses"): Row("matching", expect("403", admin="ok")),
    ("GET", "/api/v1/people/{user_id}/export"): Row("none", expect("403", admin="ok")),
    ("POST", "/api/v1/people/{user_id}/erase"): Row("none", expect("403", admin="ok")),
    ("GET", "/api/v1/offers"): Row("matching", EVERYONE),
    ("POST", "/api/v1/offers/{offer_id}/accept"): Row("matching", OWN_OFFER),
    ("POST", "/api/v1/offers/{offer_id}/decline"): Row("matching", OWN_OFFER, {}),
    ("GET", "/api/v1/queues"): Row("none", STAFF),
    ("GET", "/api/v1/metrics"): Row("none", STAFF),
}
QUERY = {("GET", "/api/v1/skills/resolve"): {"text": "chu ky so"}}


def app_routes(client) -> set[tuple[str, str]]:
    paths = client.get("/schema/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def test_every_route_has_a_row(anon_client):
    assert app_routes(anon_client) == set(MATRIX)


@dataclass
class World:
    network: Network
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def build_world(network: Network, database, state: str) -> World:
    client = network.client
    world = World(network=network)
    other_org = client.post("/api/v1/orgs", json={"name": "UBND phường Hải Châu I", "kind": "ward"},
                            headers=network.admin).json()
    world.headers = {
        "anonymous": {},
        "requester": network.requester,
        "other_requester": bearer(add_user(database, email="khac@haichau.danang.example", role="requester",
                                           org_id=other_org["id"])[1]),
        "coordinator": bearer(add_user(database, email="dieuphoi@cds.danang.example", role="coordinator")[1]),
        "admin": network.admin,
    }
    person = add_user(database, email="login@danang.example", role="coordinator", password="mật khẩu đủ dài")[0]
    world.ids = {"org_id": network.org_id, "skill_id": 1, "user_id": person,
                 "token_id": client.get("/api/v1/auth/tokens", headers=network.admin).json()[0]["id"]}
    ticket_id = offer_id = None
    offered = network.experts["an"]
    if state != "none":
        ticket_id = client.post("/api/v1/tickets", json=SIGNATURE, headers=network.requester).json()["ticket"]["id"]
        offer = client.get(f"/api/v1/tickets/{ticket_id}/offers", headers=network.admin).json()[0]
        offer_id, offered = offer["id"], offer["expert_id"]
    if state in ("assigned", "resolved"):
        assert client.post(f"/api/v1/offers/{offer_id}/accept", headers=network.as_expert(offered)).status_code == 200
    if state == "resolved":
        assert client.post(f"/api/v1/tickets/{ticket_id}/resolve", json={"summary": "Đã xong."},
                           headers=network.as_expert(offered)).status_code == 200
    world.headers["offered_expert"] = network.as_expert(offered)
    world.headers["other_expert"] = next(h for e, h in network.tokens.items() if e != offered)
    world.ids.update(ticket_id=ticket_id or 1, offer_id=offer_id or 1, expert_id=offered)
    return world


def outcome(status: int) -> str:
    assert status < 500, status
    return str(status) if status in (401, 403, 404) else "ok"


ORDER = {"401": 0, "404": 1, "403": 2, "ok": 3}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_caller(route, network, database):
    method, template = route
    row = MATRIX[route]
    world = build_world(network, database, row.state)
    path = template.format(**world.ids)
    seen = {}
    for caller in sorted(CALLERS, key=lambda c: ORDER[row.outcomes[c]]):
        kwargs: dict[str, Any] = {"headers": world.headers[caller], "params": QUERY.get(route)}
        if row.body is not None:
            kwargs["json"] = row.body
        response = network.client.request(method, path, **kwargs)
        seen[caller] = outcome(response.status_code)
    assert seen == row.outcomes
