"""The load generator's arithmetic and wire format (the figures of `bench api` rest on them)."""

from __future__ import annotations

import asyncio

import msgspec

from expert_match.loadtest.client import Request, Tally, encode, percentile_ms, read_response, summary


def test_nearest_rank_percentiles():
    latencies = [i / 1000 for i in range(1, 101)]  # 1 ms .. 100 ms
    assert percentile_ms(latencies, 0.50) == 50.0
    assert percentile_ms(latencies, 0.99) == 99.0
    assert percentile_ms([0.004], 0.99) == 4.0
    assert percentile_ms([], 0.5) is None


def test_requests_carry_the_token_and_an_exact_json_body():
    body = {"title": "Lỗi ký số", "description": "Máy không nhận USB token"}
    wire = encode(Request(method="POST", path="/api/v1/tickets", token="abc", body=body), "127.0.0.1:8000")
    head, payload = wire.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api/v1/tickets HTTP/1.1"
    assert "Authorization: Bearer abc" in lines and "Content-Type: application/json" in lines
    assert f"Content-Length: {len(payload)}" in lines
    assert msgspec.json.decode(payload) == body
    bare = encode(Request(method="GET", path="/health/live"), "h")
    assert b"Authorization" not in bare and b"X-Forwarded-For" not in bare and bare.endswith(b"\r\n\r\n")
    proxied = encode(Request(method="GET", path="/api/v1/tickets/7", token="abc", client="10.0.0.7"), "h")
    assert "X-Forwarded-For: 10.0.0.7" in proxied.decode().split("\r\n")


def test_each_org_files_and_reads_from_its_own_office_behind_the_benchs_proxy():
    from expert_match.loadtest.runner import filing_requests
    from expert_match.loadtest.seed import Seeded
    from expert_match.loadtest.server import environment
    from expert_match.settings import Settings

    seeded = Seeded(requester_tokens={5: "t5", 300: "t300"}, coordinator_token="c", experts=0)
    offices = {(r["token"], r["client"]) for r in filing_requests(seeded, 1, count=6)}
    assert offices == {("t5", "10.0.0.5"), ("t300", "10.0.1.44")}
    # The server trusts the load generator as its proxy, so the offices' limits are apart.
    trusted = Settings.from_env(environment("sqlite:///unused.sqlite3"))
    assert trusted.trusted_proxies == "127.0.0.1"


def test_responses_are_read_by_content_length():
    async def parse(raw: bytes) -> tuple[int, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await read_response(reader)

    assert asyncio.run(parse(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}extra")) == (201, b"{}")
    assert asyncio.run(parse(b"HTTP/1.1 204 No Content\r\n\r\n")) == (204, b"")


def test_anything_but_2xx_and_every_broken_connection_is_an_error():
    tally = Tally(latencies=[0.01, 0.02, 0.03], statuses={200: 1, 201: 1, 409: 1}, broken=2, answered=5)
    figures = summary(tally, elapsed=1.5, cpu_s=0.25)
    assert figures["requests"] == 3 and figures["ok"] == 2 and figures["errors"] == 3
    assert figures["rps"] == 2.0 and figures["p99_ms"] == 30.0
    # The CPU is read around the whole run, so it is shared by every answer, the warm-up's too.
    assert figures["answered"] == 5 and figures["client_cpu_s"] == 0.25


def test_the_soak_mix_is_two_fifths_filings_and_one_queue_in_fifty():
    from collections import Counter

    from expert_match.loadtest.soak import mixed_requests

    filings = [{"method": "POST", "path": "/api/v1/tickets", "body": {"i": i}} for i in range(7)]
    mixed = mixed_requests(filings, [(101, 1), (102, 2)], {1: "t1", 2: "t2"}, "coord")
    counts = Counter(r["path"] for r in mixed[:50])
    assert counts == {"/api/v1/tickets": 20, "/api/v1/tickets/101": 15, "/api/v1/tickets/102": 14, "/api/v1/queues": 1}
    # Each org reads its own, from its own office.
    assert {(r["token"], r["client"]) for r in mixed if r["path"] == "/api/v1/tickets/102"} == {("t2", "10.0.0.2")}
    assert [r["body"]["i"] for r in mixed[:20]] == [i % 7 for i in range(20)]  # every filing in turn
