"""Experts become better described as they work: a resolved ticket rated 4-5 is evidence for its
expert (read through the experts' repository), in this instance at once and in others by polling."""

from __future__ import annotations

from datetime import timedelta

from expert_match.experts.match_index import MatchIndex
from expert_match.matching.profiles import Problem

IGATE = {"title": "Phần mềm iGate không đồng bộ hồ sơ",
         "description": "Hệ thống iGate của phường không đồng bộ hồ sơ một cửa lên cổng quốc gia."}


def matched(network, text: str) -> list[int]:
    response = network.client.post("/api/v1/match", json={"text": text, "k": 10}, headers=network.admin)
    assert response.status_code == 200, response.text
    return [m["expert"]["id"] for m in response.json()["matches"]]


def resolve_and_rate(network, expert_id: int, rating: int) -> int:
    client = network.client
    ticket = client.post("/api/v1/tickets", json=IGATE, headers=network.requester).json()["ticket"]
    assert client.post(f"/api/v1/tickets/{ticket['id']}/assign", json={"expert_id": expert_id},
                       headers=network.admin).status_code == 200
    expert = network.as_expert(expert_id)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"summary": "Cấu hình lại kết nối iGate."},
                       headers=expert).status_code == 200
    rated = client.post(f"/api/v1/tickets/{ticket['id']}/feedback", json={"rating": rating}, headers=network.requester)
    assert rated.status_code == 201
    return ticket["id"]


def test_a_well_rated_resolution_becomes_evidence(parallel_network, database, clock):
    hoa = parallel_network.experts["hoa"]  # an LGSP expert: nothing about iGate in her profile
    giang = parallel_network.experts["giang"]
    assert hoa not in matched(parallel_network, "iGate")
    resolve_and_rate(parallel_network, giang, rating=2)  # a poor rating is not evidence
    assert giang not in matched(parallel_network, "iGate")
    # Another instance's index, built now, and this instance's, refreshed after the commit.
    other = MatchIndex(database.reader, clock=clock.now)
    other.build()
    try:
        clock.current += timedelta(minutes=5)
        resolve_and_rate(parallel_network, hoa, rating=5)
        assert matched(parallel_network, "iGate")[0] == hoa
        other.poll(force=True)
        found = other.rank(Problem("iGate không đồng bộ"), 5, now=clock.current)
    finally:
        other.close()  # its background refit must not read while the test's tables are emptied
    assert found and found[0].expert_id == hoa
    assert any(term.term.startswith("igate") for term in found[0].matched_terms)
