"""Ticket behaviour through the API: filing, scoping, offers in parallel, coordinator actions,
the scheduler's housekeeping, queues and metrics."""

from __future__ import annotations

from datetime import timedelta

from expert_match.tickets.scheduler import run_once
from tests.builders import add_user, bearer, local_time

SIGNATURE = {"title": "Lỗi ký số hồ sơ một cửa",
             "description": "Máy tính bộ phận một cửa không nhận USB token chữ ký số khi ký hồ sơ dịch vụ công."}
GIS = {"title": "Cần bản đồ số chung cư", "description": "Phường muốn đưa các chung cư lên bản đồ số GIS."}


def file(network, body=SIGNATURE, headers=None, **extra):
    response = network.client.post("/api/v1/tickets", json={**body, **extra}, headers=headers or network.requester)
    assert response.status_code == 201, response.text
    return response.json()


def offers_of(network, ticket_id):
    return network.client.get(f"/api/v1/tickets/{ticket_id}/offers", headers=network.admin).json()


def test_filing_checks_its_input_and_who_files(parallel_network):
    client = parallel_network.client
    missing = client.post("/api/v1/tickets", json={"description": "x" * 20}, headers=parallel_network.requester)
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "title"
    bad_ward = client.post("/api/v1/tickets", json={**SIGNATURE, "ward": "phường không có"},
                           headers=parallel_network.requester)
    assert bad_ward.status_code == 422 and bad_ward.json()["errors"][0]["field"] == "ward"
    expert = next(iter(parallel_network.tokens.values()))
    assert client.post("/api/v1/tickets", json=SIGNATURE, headers=expert).status_code == 403
    no_org = client.post("/api/v1/tickets", json=SIGNATURE, headers=parallel_network.admin)
    assert no_org.status_code == 422 and no_org.json()["errors"][0]["field"] == "org_id"
    ward = file(parallel_network, ward="hoa cuong bac")["ticket"]
    assert ward["district_code"] == "492" and ward["ward_code"]
    on_behalf = file(parallel_network, GIS, headers=parallel_network.admin, org_id=parallel_network.org_id)
    assert on_behalf["ticket"]["org"]["id"] == parallel_network.org_id


def test_duplicates_and_similar_resolved(parallel_network, clock):
    first = file(parallel_network)
    assert first["possible_duplicates"] == [] and first["similar_resolved"] == []
    again = file(parallel_network, {**SIGNATURE, "title": "loi ky so ho so mot cua"})
    assert [d["id"] for d in again["possible_duplicates"]] == [first["ticket"]["id"]]
    # Once resolved, the first ticket is offered as earlier advice for a new, similar problem.
    ticket_id = first["ticket"]["id"]
    offer = offers_of(parallel_network, ticket_id)[0]
    expert = parallel_network.as_expert(offer["expert_id"])
    client = parallel_network.client
    assert client.post(f"/api/v1/offers/{offer['id']}/accept", headers=expert).status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket_id}/resolve", json={"summary": "Cài lại driver USB token."},
                       headers=expert).status_code == 200
    later = file(parallel_network, {"title": "USB token không nhận", "description": "Không ký số được, USB token lỗi."})
    assert ticket_id in [s["id"] for s in later["similar_resolved"]]
    gis = file(parallel_network, GIS)
    assert ticket_id not in [s["id"] for s in gis["similar_resolved"]]


def test_foreign_tickets_are_404_and_illegal_moves_409(parallel_network, database):
    client, network = parallel_network.client, parallel_network
    ticket = file(network)["ticket"]
    other_org = client.post("/api/v1/orgs", json={"name": "UBND phường Thạch Thang", "kind": "ward"},
                            headers=network.admin).json()
    stranger = bearer(add_user(database, email="khac@danang.example", role="requester", org_id=other_org["id"])[1])
    offered = {o["expert_id"] for o in offers_of(network, ticket["id"])}
    outsider = next(h for e, h in network.tokens.items() if e not in offered)
    for headers in (stranger, outsider):
        for path in ("", "/events"):
            response = client.get(f"/api/v1/tickets/{ticket['id']}{path}", headers=headers)
            assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert client.get(f"/api/v1/tickets/{ticket['id'] + 999}", headers=headers).json()["detail"] == \
            f"ticket {ticket['id'] + 999} not found"
        assert client.get("/api/v1/tickets", headers=headers).json()["total"] == 0
    confirm = client.post(f"/api/v1/tickets/{ticket['id']}/confirm", headers=network.requester)
    assert confirm.status_code == 409 and confirm.json()["code"] == "illegal_transition"
    assert confirm.json()["detail"] == "cannot confirm a ticket that is matching"
    # An offered expert sees the ticket; the requester may not resolve it.
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=network.as_expert(min(offered))).status_code == 200
    resolve = client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"summary": "xong"}, headers=network.requester)
    assert resolve.status_code == 409


def test_parallel_offers_first_acceptance_withdraws_the_others(parallel_network):
    network, client = parallel_network, parallel_network.client
    ticket = file(network)["ticket"]
    sent = offers_of(network, ticket["id"])
    assert len(sent) == 3 and {o["state"] for o in sent} == {"pending"}
    assert [o["rank"] for o in sent] == [1, 2, 3]
    inbox = client.get("/api/v1/offers", headers=network.as_expert(sent[1]["expert_id"])).json()
    assert [o["ticket_id"] for o in inbox] == [ticket["id"]] and inbox[0]["explanation"]["parts"]["total"] > 0
    won = client.post(f"/api/v1/offers/{sent[1]['id']}/accept", headers=network.as_expert(sent[1]["expert_id"]))
    assert won.status_code == 200 and won.json()["assigned_expert_id"] == sent[1]["expert_id"]
    # The answer is the ticket as committed, exactly what reading it answers.
    read = client.get(f"/api/v1/tickets/{ticket['id']}", headers=network.as_expert(sent[1]["expert_id"]))
    assert won.json() == read.json() and won.json()["status"] == "assigned" and "resolve" in won.json()["actions"]
    assert {o["expert_id"]: o["state"] for o in offers_of(network, ticket["id"])} == {
        sent[0]["expert_id"]: "withdrawn", sent[1]["expert_id"]: "accepted", sent[2]["expert_id"]: "withdrawn"}
    late = client.post(f"/api/v1/offers/{sent[0]['id']}/accept", headers=network.as_expert(sent[0]["expert_id"]))
    assert late.status_code == 409 and "withdrawn" in late.json()["detail"]
    other = client.post(f"/api/v1/offers/{sent[0]['id']}/accept", headers=network.as_expert(sent[2]["expert_id"]))
    assert other.status_code == 404  # someone else's offer
    runs = client.get(f"/api/v1/tickets/{ticket['id']}/match-runs", headers=network.admin).json()
    assert runs[0]["candidates"][0]["parts"]["text"] > 0 and runs[0]["purpose"] == "offer_round"


def test_declines_lead_to_needs_attention_and_coordinator_actions(network, clock):
    client = network.client
    ticket = file(network, GIS)["ticket"]
    tid = ticket["id"]
    seen = []
    while True:
        pending = [o for o in offers_of(network, tid) if o["state"] == "pending"]
        if not pending:
            break
        offer = pending[0]
        seen.append(offer["expert_id"])
        assert client.post(f"/api/v1/offers/{offer['id']}/decline", json={},
                           headers=network.as_expert(offer["expert_id"])).status_code == 200
    assert len(seen) == len(set(seen))  # nobody is offered the same ticket twice
    assert client.get(f"/api/v1/tickets/{tid}", headers=network.admin).json()["status"] == "needs_attention"
    queue = client.get("/api/v1/queues", headers=network.admin).json()
    assert [t["id"] for t in queue["needs_attention"]] == [tid] and queue["totals"]["needs_attention"] == 1
    # Rematching finds nobody new: back to needs_attention, never to someone who declined.
    rematch = client.post(f"/api/v1/tickets/{tid}/rematch", headers=network.admin)
    assert rematch.status_code == 200 and rematch.json()["status"] == "needs_attention"
    dung = network.experts["dung"]
    assigned = client.post(f"/api/v1/tickets/{tid}/assign", json={"expert_id": dung}, headers=network.admin)
    assert assigned.status_code == 200 and assigned.json()["assigned_expert_id"] == dung
    # Hand back: matched again without the expert who gave it back.
    back = client.post(f"/api/v1/tickets/{tid}/hand-back", json={"reason": "Không đúng chuyên môn"},
                       headers=network.as_expert(dung))
    assert back.status_code == 200 and back.json()["assigned_expert_id"] is None


def test_assignment_respects_conflicts_and_capacity(parallel_network, database):
    network, client = parallel_network, parallel_network.client
    an = network.experts["an"]
    patched = client.patch(f"/api/v1/experts/{an}", json={"conflicts": [{"org_id": network.org_id}], "capacity": 1},
                           headers=network.admin)
    assert patched.status_code == 200, patched.text
    ticket = file(network)["ticket"]
    assert an not in {o["expert_id"] for o in offers_of(network, ticket["id"])}  # filtered, not just ranked low
    refused = client.post(f"/api/v1/tickets/{ticket['id']}/assign", json={"expert_id": an}, headers=network.admin)
    assert refused.status_code == 409 and "conflict of interest" in refused.json()["detail"]
    binh = network.experts["binh"]
    client.patch(f"/api/v1/experts/{binh}", json={"capacity": 1}, headers=network.admin)
    first = file(network, GIS)["ticket"]
    assert client.post(f"/api/v1/tickets/{first['id']}/assign", json={"expert_id": binh},
                       headers=network.admin).status_code == 200
    full = client.post(f"/api/v1/tickets/{ticket['id']}/assign", json={"expert_id": binh}, headers=network.admin)
    assert full.status_code == 422 and full.json()["errors"][0]["field"] == "reason"
    forced = client.post(f"/api/v1/tickets/{ticket['id']}/assign",
                         json={"expert_id": binh, "reason": "Khẩn cấp, chuyên gia đồng ý"}, headers=network.admin)
    assert forced.status_code == 200
    events = client.get(f"/api/v1/tickets/{ticket['id']}/events", headers=network.admin).json()
    assert events[-1]["data"]["capacity_override"] is True and events[-1]["body"] == "Khẩn cấp, chuyên gia đồng ý"


def test_an_offer_is_refused_to_an_inactive_or_full_expert(parallel_network):
    network, client = parallel_network, parallel_network.client
    ticket = file(network)["ticket"]
    first, second, *_ = offers_of(network, ticket["id"])
    # Deactivated after the offer went out: accepting is refused, and nothing changes.
    assert client.patch(f"/api/v1/experts/{first['expert_id']}", json={"active": False},
                        headers=network.admin).status_code == 200
    refused = client.post(f"/api/v1/offers/{first['id']}/accept", headers=network.as_expert(first["expert_id"]))
    assert refused.status_code == 409 and "inactive" in refused.json()["detail"]
    # At capacity (one active ticket of one): refused too.
    other = file(network, GIS)["ticket"]
    assert client.patch(f"/api/v1/experts/{second['expert_id']}", json={"capacity": 1},
                        headers=network.admin).status_code == 200
    assert client.post(f"/api/v1/tickets/{other['id']}/assign", json={"expert_id": second["expert_id"]},
                       headers=network.admin).status_code == 200
    full = client.post(f"/api/v1/offers/{second['id']}/accept", headers=network.as_expert(second["expert_id"]))
    assert full.status_code == 409 and "at capacity (1 active tickets)" in full.json()["detail"]
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=network.admin).json()["assigned_expert_id"] is None
    # With room again, the same offer goes through.
    assert client.patch(f"/api/v1/experts/{second['expert_id']}", json={"capacity": 2},
                        headers=network.admin).status_code == 200
    taken = client.post(f"/api/v1/offers/{second['id']}/accept", headers=network.as_expert(second["expert_id"]))
    assert taken.status_code == 200 and taken.json()["assigned_expert_id"] == second["expert_id"]


def test_reopen_window_auto_close_and_breaches_happen_once(parallel_network, clock, database):
    network, client = parallel_network, parallel_network.client
    clock.current = local_time(2026, 11, 23, 8, 0)  # Monday
    ticket = file(network, priority="urgent")["ticket"]
    tid = ticket["id"]
    desk = client.app.state.desk
    clock.current = local_time(2026, 11, 23, 10, 30)  # 2.5 business hours: assignment (2 h) breached
    assert run_once(database, desk, clock.current).breaches == 1
    assert run_once(database, desk, clock.current).breaches == 0
    breached = client.get("/api/v1/queues", headers=network.admin).json()["breached"]
    assert [t["id"] for t in breached] == [tid]
    assert {o["state"] for o in offers_of(network, tid)} == {"expired"}  # an hour each, nobody answered
    an = network.experts["an"]
    assert client.post(f"/api/v1/tickets/{tid}/assign", json={"expert_id": an}, headers=network.admin).status_code == 200
    expert = network.as_expert(an)
    assert client.post(f"/api/v1/tickets/{tid}/resolve", json={"summary": "Đã xong."}, headers=expert).status_code == 200
    clock.current += timedelta(days=8)
    late = client.post(f"/api/v1/tickets/{tid}/reopen", json={"reason": "vẫn lỗi"}, headers=network.requester)
    assert late.status_code == 409 and "reopen window" in late.json()["detail"]
    first = run_once(database, desk, clock.current)
    assert first.tickets_closed == 1 and run_once(database, desk, clock.current).tickets_closed == 0
    assert client.get(f"/api/v1/tickets/{tid}", headers=network.requester).json()["status"] == "closed"
    metrics = client.get("/api/v1/metrics", headers=network.admin).json()
    assert metrics["tickets_by_status"]["closed"] == 1 and metrics["acceptance_rate"] == 0.0
    assert metrics["median_hours_to_assignment"] > 2


def test_cancel_and_merge(parallel_network):
    network, client = parallel_network, parallel_network.client
    keep = file(network)["ticket"]
    dup = file(network)["ticket"]
    withdrawn = file(network, GIS)["ticket"]
    no_reason = client.post(f"/api/v1/tickets/{withdrawn['id']}/cancel", json={}, headers=network.requester)
    assert no_reason.status_code == 400 and no_reason.json()["errors"][0]["field"] == "reason"
    cancelled = client.post(f"/api/v1/tickets/{withdrawn['id']}/cancel", json={"reason": "Đã tự xử lý được"},
                            headers=network.requester)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert {o["state"] for o in offers_of(network, withdrawn["id"])} == {"withdrawn"}
    assert client.post(f"/api/v1/tickets/{dup['id']}/merge", json={"into_ticket_id": keep["id"]},
                       headers=network.requester).status_code == 403
    merged = client.post(f"/api/v1/tickets/{dup['id']}/merge", json={"into_ticket_id": keep["id"]},
                         headers=network.admin)
    assert merged.status_code == 200 and merged.json()["merged_into_id"] == keep["id"]
    into_cancelled = client.post(f"/api/v1/tickets/{keep['id']}/merge", json={"into_ticket_id": withdrawn["id"]},
                                 headers=network.admin)
    assert into_cancelled.status_code == 409
    kinds = [e["kind"] for e in client.get(f"/api/v1/tickets/{keep['id']}/events", headers=network.admin).json()]
    assert kinds[-1] == "merged_in"


def test_queues_send_the_first_tickets_of_each_queue_and_count_them_all(parallel_network):
    client = parallel_network.client
    filed = [file(parallel_network, {**GIS, "title": f"Cần bản đồ số khu {i}"})["ticket"]["id"] for i in range(3)]
    full = client.get("/api/v1/queues", headers=parallel_network.admin).json()
    assert [t["id"] for t in full["unassigned"]] == filed and full["totals"]["unassigned"] == 3
    cut = client.get("/api/v1/queues", params={"limit": 2}, headers=parallel_network.admin).json()
    assert [t["id"] for t in cut["unassigned"]] == filed[:2] and cut["totals"]["unassigned"] == 3
    assert len(cut["expert_loads"]) == 2 < len(full["expert_loads"])
    assert client.get("/api/v1/queues", params={"limit": 0}, headers=parallel_network.admin).status_code == 400
