"""`expert-match bench api` and `bench soak` end to end, small: a real server process, the load
generator in its own process, every operation answered 2xx, figures in the documented shape."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from expert_match.db.engine import normalize_database_url
from expert_match.loadtest.runner import OPERATIONS, ApiBenchConfig, bench_api, format_report, target_checks
from expert_match.loadtest.server import group_cpu_seconds
from expert_match.loadtest.soak import SoakConfig, format_soak, soak
from tests.conftest import postgres_admin_url

SMALL = {"experts": 40, "connections": 4, "seconds": 1.0, "warmup_s": 0.3}


def config(engine: str) -> ApiBenchConfig:
    if engine == "sqlite":
        return ApiBenchConfig(database="sqlite", workers=2, **SMALL)  # granian, several processes
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("EXPERT_MATCH_TEST_POSTGRES_URL is not set")
    return ApiBenchConfig(database="postgresql", postgres_url=admin, workers=1, **SMALL)  # uvicorn


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_bench_api_drives_every_operation_without_errors(engine: str) -> None:
    said: list[str] = []
    result = bench_api(config(engine), say=said.append)
    assert result["database"] == engine and result["experts"] >= 40
    first, last = result["ceiling_runs_rps"]
    assert first > 0 and last > 0 and result["ceiling_rps"] == round((first + last) / 2, 1)
    assert set(result["operations"]) == set(OPERATIONS)
    for name, figures in result["operations"].items():
        assert figures["requests"] > 0, name
        assert figures["errors"] == 0, (name, figures["error_samples"])
        assert all(200 <= int(status) < 300 for status in figures["statuses"]), (name, figures["statuses"])
        assert 0 < figures["p50_ms"] <= figures["p99_ms"], name
        assert figures["ratio_to_ceiling"] == round(figures["rps"] / result["ceiling_rps"], 4)
        assert figures["server_cpu_ms"] > 0 and figures["client_cpu_ms"] > 0, name
    # A filing (ranking, writes) costs the server more than the bare liveness check.
    assert result["operations"]["file_ticket"]["server_cpu_ms"] > result["ceiling_server_cpu_ms"] > 0
    assert result["server_rss_mb"] > 0
    # The targets are checked in every run, and said not to apply to this small one.
    assert [check["name"] for check in result["targets"]] == ["file_ticket_rps", "file_ticket_p99_ms",
                                                              "read_ticket_rps", "errors"]
    assert result["targets"][-1] == {"name": "errors", "target": 0, "measured": 0, "met": True}
    assert result["targets_apply"] is False
    report = format_report(result)
    assert "file_ticket" in report and "server CPU" in report and any("synthetic experts" in line for line in said)
    assert "not this run's settings" in report and "errors = 0: 0, met" in report
    # Where the server leaves statistics to the operator, the bench keeps them as autovacuum
    # would: once before each of the six phases, and says so.
    off = engine == "postgresql" and not autovacuum_on_at(postgres_admin_url())
    assert result["autovacuum"] is not off
    assert result["bench_vacuums"] == (6 if off else 0)
    assert ("VACUUM (ANALYZE) 6 times" in report) is off


def autovacuum_on_at(url: str) -> bool:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW autovacuum")).scalar_one() == "on"
    finally:
        engine.dispose()


def figures(rps: float, p99_ms: float | None = 100.0, errors: int = 0, server_cpu_ms: float | None = 5.0,
            client_cpu_ms: float | None = 0.25) -> dict:
    return {"rps": rps, "p99_ms": p99_ms, "errors": errors, "ratio_to_ceiling": round(rps / 10_000, 4),
            "server_cpu_ms": server_cpu_ms, "client_cpu_ms": client_cpu_ms}


def test_targets_are_judged_with_the_server_cpu_each_would_allow() -> None:
    operations = {"file_ticket": figures(200.0, p99_ms=260.0), "read_ticket": figures(2_600.0, errors=1),
                  "queue": figures(50.0, errors=2), "accept_offer": figures(140.0)}
    filing_rps, filing_p99, reads, errors = target_checks(10_000.0, operations, cores=2)
    # Two cores at 500 filings/s: 4 ms a filing, less the load generator's 0.25 ms.
    assert filing_rps == {"name": "file_ticket_rps", "target": 500.0, "measured": 200.0, "met": False,
                          "server_cpu_ms": 5.0, "server_cpu_budget_ms": 3.75}
    assert filing_p99["met"] is False and filing_p99["measured"] == 260.0
    # A quarter of a 10,000 req/s ceiling is 2,500 reads/s: 0.8 ms each on two cores, less 0.25.
    assert reads["target"] == 2_500.0 and reads["met"] is True and reads["server_cpu_budget_ms"] == 0.55
    assert reads["share_measured"] == 0.26 and reads["share_target"] == 0.25
    assert errors == {"name": "errors", "target": 0, "measured": 3, "met": False}
    # Exactly at the targets counts as met; no p99 (nothing answered) does not.
    at_target = {**operations, "file_ticket": figures(500.0, p99_ms=250.0)}
    assert [check["met"] for check in target_checks(10_000.0, at_target, cores=2)[:2]] == [True, True]
    silent = {**operations, "file_ticket": figures(0.0, p99_ms=None, server_cpu_ms=None, client_cpu_ms=None)}
    assert target_checks(10_000.0, silent, cores=2)[1]["met"] is False


def test_a_process_group_s_cpu_time_is_read_from_proc() -> None:
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    busy = subprocess.Popen([sys.executable, "-c", burn], start_new_session=True)
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while group_cpu_seconds(busy.pid) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0.3 <= group_cpu_seconds(busy.pid) < 5
        assert group_cpu_seconds(idle.pid) < 0.25  # the interpreter's start-up only
    finally:
        for process in (busy, idle):
            process.kill()
            process.wait()


def test_soak_reports_memory_per_round_and_no_errors() -> None:
    result = soak(SoakConfig(bench=config("sqlite"), minutes=0.12, round_s=1.0, accept_connections=2,
                             warmup_resolved=1, warmup_max_minutes=1.0))
    assert result["rounds"] >= 3 and result["errors"] == 0, result["error_samples"]
    # Warm-up rounds ran until a ticket was resolved, and the memory figures leave them out.
    warmup = [r for r in result["per_round"] if r["warmup"]]
    measured = [r for r in result["per_round"] if not r["warmup"]]
    assert result["per_round"] == warmup + measured and len(measured) == result["rounds"]
    assert result["warmup_rounds"] == len(warmup) >= 3  # accepted in round 2, resolved in round 3
    assert result["resolved_tickets_at_start"] == warmup[-1]["resolved_tickets"] >= 1
    assert all(r["resolved_tickets"] == 0 for r in warmup[:-1])
    assert result["anon_mb_first"] == measured[0]["anon_mb"] and result["anon_mb_last"] == measured[-1]["anon_mb"]
    assert result["memory_flat"] == (result["anon_mb_trend_growth"] <= 0.05 * measured[0]["anon_mb"])
    assert all(0 < r["anon_mb"] <= r["rss_mb"] and r["mixed_rps"] > 0 for r in result["per_round"])
    assert result["accepts"] > 0  # offers from the first round were accepted in the next
    # Tickets accepted in round 2 were resolved in round 3 (and any resolved earlier confirmed).
    assert result["resolutions_and_confirmations"] > 0
    assert all(r["open_tickets"] > 0 for r in result["per_round"])
    assert result["rss_mb_growth_after_first_round"] is not None
    assert result["anon_mb_growth_second_half"] is not None
    assert result["resolved_tickets_last"] == result["per_round"][-1]["resolved_tickets"] >= 0
    assert "errors 0" in format_soak(result) and "warm-up rounds" in format_soak(result)
