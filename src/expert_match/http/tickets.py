"""Ticket requests that the JSON API and the web pages serve alike: the reading in the request's
read session, the writing in a write transaction of its own (``DEFERRED_WRITE`` routes).

On SQLite one writer at a time serves every process. A route whose whole request held it made
everyone else's writes wait while it ranked experts or rendered a page: with web ticket pages
holding it, two server processes served 146 pages/s and kept 0.6 of their 2 cores idle when
filings came alongside (README, 2026-12-07, late night).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from litestar import Request
from sqlalchemy.orm import Session

from expert_match.auth import service as auth_service
from expert_match.auth.principal import Caller
from expert_match.http.deps import end_reads, in_session, write_transaction
from expert_match.settings import Settings
from expert_match.tickets import offers, service
from expert_match.tickets.desk import Desk
from expert_match.tickets.schemas import TicketCreate

T = TypeVar("T")


async def logged_read(request: Request[Any, Any, Any], db_session: Session, caller: Caller, ticket_id: int, now: datetime,
                      build: Callable[[], T], *, channel: str = "api") -> T:
    """``build()``, the answer about a ticket the caller may see (404 otherwise), read in the
    request's read session; a staff read is then logged in a write transaction of its own,
    committed before the answer is sent. Requesters' and experts' reads never take the writer."""

    def load() -> T:
        answer = build()
        # Ended in this trip to the worker thread, not in another at the end of the request; a
        # staff read also hands the connection back before taking the writer.
        end_reads(db_session)
        return answer

    answer = await in_session(db_session, load)
    if caller.is_staff:
        await write_transaction(request, lambda session: service.log_access(session, caller, ticket_id, now, channel))
    return answer


def checked_plan(session: Session, desk: Desk, caller: Caller, data: TicketCreate, now: datetime, settings: Settings,
                 address: str) -> service.FilingPlan:
    """A filing's checks and plan, in the request's read session: the filing rate, then
    everything ``service.plan_filing`` decides (the caller then ends the reads)."""
    auth_service.check_filing_rate(session, caller.user_id, address, now, settings)
    return service.plan_filing(session, desk, caller, data, now)


async def write_filing(request: Request[Any, Any, Any], desk: Desk, caller: Caller, data: TicketCreate, now: datetime,
                       settings: Settings, planned: service.FilingPlan, address: str) -> service.Filed:
    """The planned filing's rows, committed before this returns, with the filing counted
    against the caller's rate."""

    def write(session: Session) -> service.Filed:
        filed = service.file_ticket(session, desk, caller, data, now, planned)
        auth_service.record_filing(session, caller.user_id, address, now, settings)
        return filed

    return await write_transaction(request, write)


async def accept_offer(request: Request[Any, Any, Any], db_session: Session, desk: Desk, caller: Caller, offer_id: int,
                       now: datetime) -> int:
    """Accept the caller's offer (``offers.accept``) and return its ticket's id. The writer is held
    for the acceptance alone, in one trip: when the whole request held it, two server processes
    took turns through SQLite's busy handler."""

    return await written(request, db_session, lambda session: offers.accept(session, desk, caller, offer_id, now).id)


async def written(request: Request[Any, Any, Any], db_session: Session, work: Callable[[Session], T]) -> T:
    """``work`` (a change and its answer) in a write transaction of its own, once the request's
    reads are ended. The writer is held for one trip to a worker thread: held for the whole
    request, it waited on the event loop between the request's steps while every other write
    in every server process waited for it."""
    await in_session(db_session, end_reads, db_session)
    return await write_transaction(request, work)
