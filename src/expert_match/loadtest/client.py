"""A small HTTP/1.1 load generator, run as its own process: ``python -m expert_match.loadtest.client``.

It reads one job as JSON on stdin, keeps ``connections`` keep-alive connections busy for
``duration_s`` seconds (closed loop: each connection sends its next request when the previous
answer has been read), and prints the figures as JSON on stdout. Requests are encoded once
before the clock starts, so the generator spends its CPU on sockets, not on building requests.
Any status outside 2xx, and any broken connection, counts as an error.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec


class Request(msgspec.Struct, frozen=True):
    method: str
    path: str
    token: str | None = None
    body: Any = None
    # The address the reverse proxy forwards (X-Forwarded-For): whose limits the request counts against.
    client: str | None = None


class Job(msgspec.Struct, frozen=True):
    host: str
    port: int
    connections: int
    duration_s: float
    requests: list[Request]
    # True: go round the list again; False: each request is sent once (accepting an offer).
    cycle: bool = True
    warmup_s: float = 0.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    broken: int = 0
    samples: list[str] = field(default_factory=list)
    answered: int = 0  # every answer read, the warm-up's and the errors included

    def error(self, text: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(text[:300])


def encode(request: Request, host: str) -> bytes:
    body = b"" if request.body is None else msgspec.json.encode(request.body)
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    if request.token:
        lines.append(f"Authorization: Bearer {request.token}")
    if request.client:
        lines.append(f"X-Forwarded-For: {request.client}")
    if request.body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "transfer-encoding":
            raise ValueError("chunked responses are not expected from this API")
    return status, await reader.readexactly(length) if length else b""


async def connection(job: Job, wire: list[bytes], cursor: list[int], tally: Tally, started: float) -> None:
    deadline = started + job.warmup_s + job.duration_s
    measure_from = started + job.warmup_s
    reader, writer = await asyncio.open_connection(job.host, job.port)
    try:
        while (now := time.perf_counter()) < deadline:
            index = cursor[0]
            if index >= len(wire) and not job.cycle:
                return
            cursor[0] += 1
            sent = now
            try:
                writer.write(wire[index % len(wire)])
                status, body = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.broken += 1
                tally.error(f"connection: {exc!r}")
                writer.close()
                reader, writer = await asyncio.open_connection(job.host, job.port)
                continue
            tally.answered += 1
            if sent >= measure_from:
                tally.latencies.append(time.perf_counter() - sent)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if not 200 <= status < 300:
                    tally.error(f"{status} {job.requests[index % len(wire)].path}: {body.decode('utf-8', 'replace')}")
    finally:
        writer.close()


async def run(job: Job) -> dict[str, Any]:
    wire = [encode(r, f"{job.host}:{job.port}") for r in job.requests]
    tally, cursor = Tally(), [0]
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(connection(job, wire, cursor, tally, started) for _ in range(job.connections)))
    elapsed = max(time.perf_counter() - started - job.warmup_s, 1e-9)
    return summary(tally, elapsed, time.process_time() - cpu)


def summary(tally: Tally, elapsed: float, cpu_s: float = 0.0) -> dict[str, Any]:
    """The figures of the measured part of a run; ``answered`` and ``client_cpu_s`` (this
    process's CPU) cover the whole run, warm-up included."""
    latencies = sorted(tally.latencies)
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    return {
        "requests": len(latencies),
        "ok": ok,
        "errors": len(latencies) - ok + tally.broken,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile_ms(latencies, 0.50),
        "p99_ms": percentile_ms(latencies, 0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "error_samples": tally.samples,
        "answered": tally.answered,
        "client_cpu_s": round(cpu_s, 4),
    }


def percentile_ms(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), int(q * len(ordered) + 0.999999)))
    return round(ordered[rank - 1] * 1000, 2)


def main() -> None:
    job = msgspec.json.decode(sys.stdin.buffer.read(), type=Job)
    try:
        import uvloop  # faster event loop when installed; the figures do not depend on it
        result = uvloop.run(run(job))
    except ImportError:
        result = asyncio.run(run(job))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
