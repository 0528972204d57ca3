"""Processes under test: the server (and the scheduler) started like production, each in its own
process group so they can be measured (RSS of every worker) and stopped as a whole."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The bench files hundreds of tickets a second from one account per org: the abuse limits (30
# filings an hour per account) would refuse nearly all of them. Everything else is the
# production default.
UNLIMITED_FILINGS = {"EXPERT_MATCH_FILINGS_PER_HOUR_PER_ACCOUNT": "100000000",
                     "EXPERT_MATCH_FILINGS_PER_HOUR_PER_ADDRESS": "100000000"}
# As production runs, behind a reverse proxy on the same machine: the load generator is the
# proxy, and each org's requests come from the org's own address (``office_address``). From
# one address the limit's count covered every filing of the last hour (in a soak, 28,000 rows
# read per filing after 15 minutes) where a city's offices each count their own.
BEHIND_A_PROXY = {"EXPERT_MATCH_TRUSTED_PROXIES": "127.0.0.1"}


def office_address(org_id: int) -> str:
    """The address an org's requests come from, as the proxy forwards it.

    >>> office_address(1), office_address(300)
    ('10.0.0.1', '10.0.1.44')
    """
    return f"10.{org_id >> 16 & 255}.{org_id >> 8 & 255}.{org_id & 255}"


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int
    pid: int

    def rss_mb(self) -> float:
        return group_rss_mb(self.pid)

    def anon_mb(self) -> float:
        return group_memory_mb(self.pid, "RssAnon")

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.pid)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str) -> dict[str, str]:
    # INFO: the servers say when each worker has started (after building its index), which is how
    # the bench knows the server is ready; the access log stays off as in production.
    return {**os.environ, "EXPERT_MATCH_DATABASE_URL": database_url, "EXPERT_MATCH_LOG_LEVEL": "INFO",
            "EXPERT_MATCH_DEBUG": "false", **UNLIMITED_FILINGS, **BEHIND_A_PROXY}


@contextmanager
def running_server(database_url: str, workers: int, log: Path, *, with_scheduler: bool = True,
                   startup_s: float = 300.0) -> Iterator[Server]:
    """``expert-match serve --workers N`` (and ``expert-match scheduler``) until the block ends."""
    port = free_port()
    env = environment(database_url)
    command = [sys.executable, "-m", "expert_match.cli"]
    log_from = log.stat().st_size if log.exists() else 0
    with log.open("ab") as sink:
        server = subprocess.Popen([*command, "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--workers", str(workers)], env=env, stdout=sink, stderr=sink,
                                  start_new_session=True)
        scheduler = (subprocess.Popen([*command, "scheduler", "--interval", "5"], env=env, stdout=sink, stderr=sink,
                                      start_new_session=True) if with_scheduler else None)
    try:
        wait_until_live(server, workers, startup_s, log, log_from)
        yield Server("127.0.0.1", port, server.pid)
    finally:
        for process in filter(None, [scheduler, server]):
            stop(process)


def wait_until_live(server: subprocess.Popen, workers: int, timeout_s: float, log: Path, log_from: int) -> None:
    """Wait until every worker has started (each builds its index first)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}; see {log}")
        with log.open("rb") as text:
            text.seek(log_from)
            started = text.read()
            # uvicorn (one worker) and granian (several) say so once per worker, after start-up.
            if started.count(b"Application startup complete") + started.count(b"Started worker-") >= workers:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not start within {timeout_s:.0f} s; see {log}")


def stop(process: subprocess.Popen, grace_s: float = 20.0) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace_s)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def group_pids(group: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group:  # field 5 of /proc/PID/stat: the process group
                pids.append(int(entry.name))
    return pids


def group_cpu_seconds(group: int) -> float:
    """CPU time (user and system, every thread) used so far by the processes in the group."""
    ticks = 0
    for pid in group_pids(group):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime and stime
    return ticks / os.sysconf("SC_CLK_TCK")


def group_rss_mb(group: int) -> float:
    """Resident memory of every process in the group (the server supervisor and its workers)."""
    return group_memory_mb(group, "VmRSS")


def group_memory_mb(group: int, field: str) -> float:
    """A memory figure of ``/proc/PID/status`` summed over the group: ``VmRSS`` (everything
    resident) or ``RssAnon`` (the processes' own heap and stacks, without mapped files such as
    SQLite's shared WAL index, which every worker maps and which grows with the WAL)."""
    total_kb = 0
    for pid in group_pids(group):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)
