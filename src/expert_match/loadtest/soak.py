"""``expert-match bench soak``: mixed load for minutes on end; memory must stay flat, errors at 0.

The run is cut into rounds. In each round three load generators run side by side: one cycles
through filings, ticket reads and the coordinator queue (the reads are of tickets filed in
earlier rounds); one accepts offers made in earlier rounds, each once; one closes tickets as
people do: the assigned expert resolves a ticket accepted in an earlier round, and the requester
confirms one resolved in an earlier round. So the open tickets reach a steady number instead of
piling up, and memory growth that remains is the server's, not the data's. After every round
the server's resident memory (all workers) is read, so growth shows as a trend, not one number.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from expert_match.db.engine import Database, create_database
from expert_match.db.migrate import upgrade
from expert_match.loadtest.repository import LoadRepository
from expert_match.loadtest.runner import (ApiBenchConfig, Say, Upkeep, accept_requests, bench_database,
                                          filing_requests)
from expert_match.loadtest.seed import Seeded, expert_tokens, seed
from expert_match.loadtest.server import Server, office_address, running_server
from expert_match.settings import Settings
from expert_match.tickets.states import TicketStatus
from expert_match.timeutil import SystemClock


@dataclass(frozen=True, slots=True)
class SoakConfig:
    bench: ApiBenchConfig
    minutes: float = 10.0
    round_s: float = 30.0
    accept_connections: int = 4
    # Rounds run first, unmeasured, until this many tickets are resolved: the similar-ticket
    # index then holds its bound (10,000), as it does in a city after its first months, and has
    # refitted at it once (after changes numbering half of what it holds), its largest moment.
    # The measured minutes then show the server's steady state, not the index filling. 0: none.
    warmup_resolved: int = 15_000
    warmup_max_minutes: float = 30.0


def soak(config: SoakConfig, say: Say = lambda _m: None) -> dict[str, Any]:
    bench = config.bench
    with tempfile.TemporaryDirectory(prefix="expert-match-soak-") as tmp, bench_database(bench, Path(tmp)) as url:
        database = create_database(Settings(database_url=url))
        try:
            say(f"preparing the {bench.database} database: demo data and {bench.experts:,} synthetic experts")
            upgrade(database)
            seeded = seed(database, bench.experts, SystemClock().now(), seed_value=bench.seed_value, say=say)
            filings = filing_requests(seeded, bench.seed_value)
            upkeep = Upkeep.of(database, say, before="round")
            rounds: list[dict[str, Any]] = []
            with running_server(url, bench.workers, Path(tmp) / "server.log",
                                with_scheduler=bench.with_scheduler) as server:
                started = time.monotonic()
                if config.warmup_resolved:
                    say(f"warming up until {config.warmup_resolved:,} tickets are resolved (not measured)")
                while warming_up(config, rounds, (time.monotonic() - started) / 60):
                    rounds.append(timed_round(config, server, database, seeded, filings, started, upkeep,
                                              warmup=True))
                    say(round_line(rounds[-1]))
                measured_from = time.monotonic()
                while time.monotonic() - measured_from < config.minutes * 60:
                    rounds.append(timed_round(config, server, database, seeded, filings, started, upkeep,
                                              warmup=False))
                    say(round_line(rounds[-1]))
        finally:
            database.dispose()
    return {**soak_report(config, rounds), **upkeep.figures()}


def warming_up(config: SoakConfig, rounds: list[dict[str, Any]], minutes: float) -> bool:
    """Whether another warm-up round is due: fewer tickets resolved than asked for, and still
    within the warm-up's time bound (past it, the measured rounds start anyway; the report says
    how many were resolved).

    >>> config = SoakConfig(bench=None, warmup_resolved=100, warmup_max_minutes=5)
    >>> [warming_up(config, r, m) for r, m in (([], 0), ([{"resolved_tickets": 99}], 1),
    ...                                        ([{"resolved_tickets": 100}], 1), ([{"resolved_tickets": 0}], 5))]
    [True, True, False, False]
    """
    if config.warmup_resolved <= 0 or minutes >= config.warmup_max_minutes:
        return False
    return not rounds or rounds[-1]["resolved_tickets"] < config.warmup_resolved


def timed_round(config: SoakConfig, server: Server, database: Database, seeded: Seeded, filings: list[dict[str, Any]],
                started: float, upkeep: Upkeep, *, warmup: bool) -> dict[str, Any]:
    """One round of the three load generators, with the minute it ended and the tickets then
    (after the upkeep autovacuum would have done meanwhile, where the server has it off)."""
    upkeep()
    with database.reader() as session:
        tickets = LoadRepository(session).tickets_by_org(5_000)
    mixed = mixed_requests(filings, tickets, seeded.requester_tokens, seeded.coordinator_token)
    closing = closing_requests(database, seeded.requester_tokens)
    figures = run_round(config, server, mixed, accept_requests(database), closing)
    figures["minute"] = round((time.monotonic() - started) / 60, 2)
    figures["warmup"] = warmup
    with database.reader() as session:
        figures["open_tickets"] = LoadRepository(session).count_open()
        figures["resolved_tickets"] = LoadRepository(session).count_resolved()
    return figures


def mixed_requests(filings: list[dict[str, Any]], tickets: list[tuple[int, int]], tokens: dict[int, str],
                   coordinator: str) -> list[dict[str, Any]]:
    """Per 50 requests: 20 filings, 29 reads of existing tickets, 1 coordinator queue (a queue
    covers every open ticket, so it is the heaviest read and the rarest)."""
    reads = [{"method": "GET", "path": f"/api/v1/tickets/{ticket_id}", "token": tokens[org_id],
              "client": office_address(org_id)} for ticket_id, org_id in tickets]
    reads = reads or [{"method": "GET", "path": "/health/live"}]
    queue = {"method": "GET", "path": "/api/v1/queues", "token": coordinator}
    mixed = []
    for block in range(max(len(filings) // 20, len(reads) // 29) + 1):
        mixed += [filings[(block * 20 + i) % len(filings)] for i in range(20)]
        mixed += [reads[(block * 29 + i) % len(reads)] for i in range(29)]
        mixed.append(queue)
    return mixed


def closing_requests(database: Database, requester_tokens: dict[int, str],
                     limit: int = 2_000) -> list[dict[str, Any]]:
    """Resolutions of assigned tickets (by their expert) and confirmations of resolved tickets
    (by their org's requester), each sent once."""
    with database.reader() as session:
        repository = LoadRepository(session)
        assigned = repository.tickets_in(TicketStatus.ASSIGNED, limit)
        resolved = repository.tickets_in(TicketStatus.RESOLVED, limit)
    tokens = expert_tokens(database, sorted({expert for _, _, expert in assigned if expert}), SystemClock().now())
    resolutions = [{"method": "POST", "path": f"/api/v1/tickets/{ticket_id}/resolve", "token": tokens[expert_id],
                    "body": {"summary": "Đã hướng dẫn cấu hình lại và kiểm tra cùng cán bộ phụ trách."}}
                   for ticket_id, _org, expert_id in assigned if expert_id]
    confirmations = [{"method": "POST", "path": f"/api/v1/tickets/{ticket_id}/confirm",
                      "token": requester_tokens[org_id], "client": office_address(org_id)}
                     for ticket_id, org_id, _expert in resolved]
    return resolutions + confirmations


def run_round(config: SoakConfig, server: Server, mixed: list[dict[str, Any]],
              accepts: list[dict[str, Any]], closing: list[dict[str, Any]] = ()) -> dict[str, Any]:
    bench = config.bench
    mixed_job = {"host": server.host, "port": server.port, "connections": bench.connections,
                 "duration_s": config.round_s, "cycle": True, "requests": mixed}
    accept_job = {**mixed_job, "connections": config.accept_connections, "cycle": False, "requests": accepts}
    closing_job = {**accept_job, "requests": list(closing)}
    jobs = [mixed_job, *(job for job in (accept_job, closing_job) if job["requests"])]
    processes = [subprocess.Popen([sys.executable, "-m", "expert_match.loadtest.client"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in jobs]
    results = []
    for process, job in zip(processes, jobs):
        out, err = process.communicate(json.dumps(job).encode(), timeout=config.round_s + 120)
        if process.returncode != 0:
            raise RuntimeError(f"the load generator failed: {err.decode(errors='replace')[-2000:]}")
        results.append(json.loads(out))
    by_job = {id(job): result for job, result in zip(jobs, results)}
    none = {"requests": 0, "errors": 0, "rps": 0.0, "error_samples": []}
    accepted, closed = by_job.get(id(accept_job), none), by_job.get(id(closing_job), none)
    return {"mixed_rps": results[0]["rps"], "mixed_p99_ms": results[0]["p99_ms"],
            "accept_requests": accepted["requests"], "closing_requests": closed["requests"],
            "errors": results[0]["errors"] + accepted["errors"] + closed["errors"],
            "error_samples": results[0]["error_samples"] + accepted["error_samples"] + closed["error_samples"],
            "rss_mb": server.rss_mb(), "anon_mb": server.anon_mb()}


def round_line(figures: dict[str, Any]) -> str:
    return (f"  minute {figures['minute']:5.2f}: mixed {figures['mixed_rps']:,.0f} req/s (p99 {figures['mixed_p99_ms']} ms), "
            f"{figures['accept_requests']} accepts, {figures['closing_requests']} resolutions and confirmations, "
            f"{figures['open_tickets']:,} open and {figures['resolved_tickets']:,} resolved tickets, errors {figures['errors']}, server RSS {figures['rss_mb']:,.0f} MB "
            f"(heap {figures['anon_mb']:,.0f} MB)")


def soak_report(config: SoakConfig, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Throughput and errors over every round; memory over the measured rounds (after warm-up)."""
    measured = [r for r in rounds if not r.get("warmup")]
    warmup = [r for r in rounds if r.get("warmup")]
    rss = [r["rss_mb"] for r in measured]
    anon = [r["anon_mb"] for r in measured]
    trend = heap_trend(measured)
    return {
        "database": config.bench.database,
        "minutes": config.minutes,
        "rounds": len(measured),
        "warmup_rounds": len(warmup),
        "warmup_minutes": warmup[-1]["minute"] if warmup else 0.0,
        "warmup_resolved_target": config.warmup_resolved,
        "resolved_tickets_at_start": warmup[-1]["resolved_tickets"] if warmup else 0,
        "errors": sum(r["errors"] for r in rounds),
        "mixed_rps_mean": round(sum(r["mixed_rps"] for r in measured) / len(measured), 1) if measured else None,
        "accepts": sum(r["accept_requests"] for r in measured),
        "resolutions_and_confirmations": sum(r["closing_requests"] for r in measured),
        "open_tickets_last": rounds[-1]["open_tickets"] if rounds else None,
        "rss_mb_first": rss[0] if rss else None,
        "rss_mb_last": rss[-1] if rss else None,
        "rss_mb_growth_after_first_round": growth_after_first_round(rss),
        "anon_mb_first": anon[0] if anon else None,
        "anon_mb_last": anon[-1] if anon else None,
        "anon_mb_growth_after_first_round": growth_after_first_round(anon),
        "anon_mb_growth_second_half": growth_second_half(anon),
        "anon_mb_band": round(max(anon) - min(anon), 1) if anon else None,
        **trend,
        "resolved_tickets_last": rounds[-1]["resolved_tickets"] if rounds else None,
        "per_round": [{k: v for k, v in r.items() if k != "error_samples"} for r in rounds],
        "error_samples": [s for r in rounds for s in r["error_samples"]][:5],
    }


# Flat: the heap's trend over the measured minutes adds at most this share of the heap they
# started with. The index refits make a sawtooth of about 50 MB (two workers); a trend, fitted
# over every round, is not moved by where in the saw the run happens to end.
FLAT_SHARE = 0.05


def heap_trend(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The least-squares slope of the heap against the minute, the growth it makes over the
    measured span, and whether that is flat.

    >>> saw = [{"minute": m, "anon_mb": 1000.0 + (40 if m % 2 else 0)} for m in range(10)]
    >>> heap_trend(saw)
    {'anon_mb_per_minute': 1.21, 'anon_mb_trend_growth': 10.9, 'memory_flat': True}
    >>> leak = [{"minute": m, "anon_mb": 1000.0 + 12 * m} for m in range(10)]
    >>> heap_trend(leak)["memory_flat"], heap_trend(leak)["anon_mb_trend_growth"]
    (False, 108.0)
    """
    if len(rounds) < 3:
        return {"anon_mb_per_minute": None, "anon_mb_trend_growth": None, "memory_flat": None}
    xs = [r["minute"] for r in rounds]
    ys = [r["anon_mb"] for r in rounds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread if spread else 0.0
    growth = slope * (xs[-1] - xs[0])
    return {"anon_mb_per_minute": round(slope, 2), "anon_mb_trend_growth": round(growth, 1),
            "memory_flat": growth <= FLAT_SHARE * ys[0]}


def growth_after_first_round(values: list[float]) -> float | None:
    # The first round warms caches and fills the pools: growth is measured from its end.
    settled = values[1:] if len(values) > 2 else values
    return round(settled[-1] - settled[0], 1) if settled else None


def growth_second_half(values: list[float]) -> float | None:
    """From the middle round to the last.

    >>> growth_second_half([900.0, 1000.0, 1100.0, 1120.0, 1110.0])
    10.0
    """
    return round(values[-1] - values[len(values) // 2], 1) if values else None


def format_soak(result: dict[str, Any]) -> str:
    warmup = (f"after {result['warmup_rounds']} warm-up rounds ({result['warmup_minutes']:g} min, "
              f"{result['resolved_tickets_at_start']:,} tickets resolved), " if result["warmup_rounds"] else "")
    flat = {True: "flat", False: "NOT flat", None: "too few rounds to judge"}[result["memory_flat"]]
    return (f"soak on {result['database']}: {warmup}{result['minutes']:g} min measured, {result['rounds']} rounds, "
            f"mixed {result['mixed_rps_mean']} req/s on average, {result['accepts']} accepts, "
            f"{result['resolutions_and_confirmations']} resolutions and confirmations, "
            f"{result['open_tickets_last']} tickets open at the end, "
            f"errors {result['errors']}; server RSS {result['rss_mb_first']} MB after the first round, "
            f"{result['rss_mb_last']} MB at the end ({result['rss_mb_growth_after_first_round']:+} MB); "
            f"heap {result['anon_mb_first']} -> {result['anon_mb_last']} MB "
            f"({result['anon_mb_growth_after_first_round']:+} MB; {result['anon_mb_growth_second_half']:+} MB "
            f"over the second half; rounds within {result['anon_mb_band']} MB); heap trend "
            f"{result['anon_mb_per_minute']} MB/min, {result['anon_mb_trend_growth']} MB over the measured minutes: "
            f"{flat}" + ("" if result.get("autovacuum", True) else
                         f"; autovacuum is off on this server: the soak ran VACUUM (ANALYZE) {result['bench_vacuums']} "
                         f"times between rounds ({result['bench_vacuum_s']:.1f} s, not timed)"))
