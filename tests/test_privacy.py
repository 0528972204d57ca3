"""Personal data: export everything held about a person, erase a person while the tickets'
history stays coherent, and staff reads of tickets are logged."""

from __future__ import annotations

import json

from tests.builders import add_user, bearer
from tests.network import Network
from tests.tickets.test_ticket_api import SIGNATURE

REQUESTER_EMAIL = "van.thu@hoacuongbac.danang.example"


def resolved_ticket(network: Network) -> tuple[int, int]:
    """A ticket filed, accepted, advised, resolved, confirmed and rated: (ticket id, expert id)."""
    client = network.client
    ticket_id = client.post("/api/v1/tickets", json=SIGNATURE, headers=network.requester).json()["ticket"]["id"]
    offer = client.get(f"/api/v1/tickets/{ticket_id}/offers", headers=network.admin).json()[0]
    expert = network.as_expert(offer["expert_id"])
    assert client.post(f"/api/v1/offers/{offer['id']}/accept", headers=expert).status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket_id}/posts", json={"body": "Cài lại driver USB token."},
                       headers=expert).status_code == 201
    assert client.post(f"/api/v1/tickets/{ticket_id}/resolve", json={"summary": "Đã cài driver."},
                       headers=expert).status_code == 200
    return ticket_id, offer["expert_id"]


def user_id_of(network: Network, headers: dict[str, str]) -> int:
    return network.client.get("/api/v1/auth/me", headers=headers).json()["id"]


def test_export_holds_everything_about_a_person_and_no_secret(network: Network) -> None:
    client = network.client
    ticket_id, expert_id = resolved_ticket(network)
    assert client.post(f"/api/v1/tickets/{ticket_id}/confirm", headers=network.requester).status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket_id}/feedback", json={"rating": 5, "comment": "Rất nhanh, cảm ơn"},
                       headers=network.requester).status_code == 201
    requester_id = user_id_of(network, network.requester)
    exported = client.get(f"/api/v1/people/{requester_id}/export", headers=network.admin)
    assert exported.status_code == 200
    data = exported.json()
    assert data["user"]["email"] == REQUESTER_EMAIL and data["user"]["role"] == "requester"
    assert [t["title"] for t in data["tickets_filed"]] == [SIGNATURE["title"]]
    assert {e["kind"] for e in data["ticket_events"]} >= {"file", "confirm"}
    assert data["feedback_given"][0]["comment"] == "Rất nhanh, cảm ơn"
    assert data["api_tokens"] and all(set(t) == {"name", "prefix", "created_at", "expires_at", "revoked_at"}
                                      for t in data["api_tokens"])
    text = json.dumps(data)
    secret = network.requester["Authorization"].removeprefix("Bearer ")
    assert "password_hash" not in text and "token_hash" not in text and secret not in text

    expert_user = user_id_of(network, network.as_expert(expert_id))
    expert = client.get(f"/api/v1/people/{expert_user}/export", headers=network.admin).json()
    assert expert["expert_profile"]["skills"] and expert["expert_profile"]["headline"]
    assert [o["state"] for o in expert["offers_received"]] == ["accepted"]
    assert "Cài lại driver USB token." in [e["body"] for e in expert["ticket_events"]]
    assert client.get(f"/api/v1/people/{expert_user}/export", headers=network.requester).status_code == 403
    assert client.get("/api/v1/people/999999/export", headers=network.admin).status_code == 404


def test_erasing_a_person_removes_their_identity_and_keeps_the_history(network: Network, database) -> None:
    client = network.client
    ticket_id, expert_id = resolved_ticket(network)
    expert_headers = network.as_expert(expert_id)
    expert_user = user_id_of(network, expert_headers)
    email = client.get(f"/api/v1/people/{expert_user}/export", headers=network.admin).json()["user"]["email"]
    # A second ticket assigned to the same expert and still being worked on blocks the erasure.
    second = client.post("/api/v1/tickets", json={**SIGNATURE, "title": "Ký số lỗi lần hai"},
                         headers=network.requester).json()["ticket"]["id"]
    assert client.post(f"/api/v1/tickets/{second}/assign", json={"expert_id": expert_id},
                       headers=network.admin).status_code == 200
    assert client.post(f"/api/v1/people/{expert_user}/erase", headers=network.admin).status_code == 409
    assert client.post(f"/api/v1/tickets/{second}/hand-back", json={"reason": "Nghỉ việc"},
                       headers=expert_headers).status_code == 200

    erased = client.post(f"/api/v1/people/{expert_user}/erase", headers=network.admin)
    assert erased.status_code == 200 and erased.json() == {"user_id": expert_user, "expert_id": expert_id}
    assert client.get("/api/v1/auth/me", headers=expert_headers).status_code == 401  # tokens are gone
    events = client.get(f"/api/v1/tickets/{ticket_id}/events", headers=network.admin).json()
    advice = next(e for e in events if e["kind"] == "post_advice")
    assert advice["body"] == "Cài lại driver USB token." and advice["actor_name"] == f"erased user #{expert_user}"
    profile = client.get(f"/api/v1/experts/{expert_id}", headers=network.admin).json()
    assert profile["headline"] == "erased" and profile["skills"] == [] and profile["active"] is False
    ranked = client.post("/api/v1/match", headers=network.admin, json={"text": "chữ ký số USB token", "k": 10}).json()
    assert expert_id not in [m["expert"]["id"] for m in ranked["matches"]]
    after = json.dumps(client.get(f"/api/v1/people/{expert_user}/export", headers=network.admin).json())
    assert email not in after and "Chuyên gia" not in after
    add_user(database, email=email, role="expert")  # the address is free again
    admin_id = user_id_of(network, network.admin)
    assert client.post(f"/api/v1/people/{admin_id}/erase", headers=network.admin).status_code == 409


def test_staff_reads_of_tickets_are_logged_and_others_are_not(network: Network, database) -> None:
    client = network.client
    ticket_id = client.post("/api/v1/tickets", json=SIGNATURE, headers=network.requester).json()["ticket"]["id"]
    coordinator = bearer(add_user(database, email="dieuphoi@cds.danang.example", role="coordinator")[1])
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=network.requester).status_code == 200
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=coordinator).status_code == 200
    assert client.get(f"/api/v1/tickets/{ticket_id}/events", headers=coordinator).status_code == 200
    log = client.get(f"/api/v1/tickets/{ticket_id}/accesses", headers=network.admin).json()
    reader = user_id_of(network, coordinator)
    assert [(a["user_id"], a["channel"]) for a in log] == [(reader, "api"), (reader, "api")]
    assert client.get(f"/api/v1/tickets/{ticket_id}/accesses", headers=coordinator).status_code == 403
    exported = client.get(f"/api/v1/people/{reader}/export", headers=network.admin).json()
    assert [r["ticket_id"] for r in exported["tickets_read"]] == [ticket_id, ticket_id]
