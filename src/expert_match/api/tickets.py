"""Ticket and offer routes: filing, reading, the thread, transitions, offers inbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, QueryParameter
from sqlalchemy.orm import Session

from expert_match.api.auth import CallerDep, StaffDep
from expert_match.api.problems import problem_responses
from expert_match.auth.principal import Caller
from expert_match.http.deps import (
    DEFERRED_WRITE,
    SHORT_BODY_BYTES,
    DbSession,
    DeskDep,
    Limit,
    Now,
    Offset,
    PathId,
    SearchText,
    SettingsDep,
    client_address,
    end_reads,
    in_session,
)
from expert_match.http.tickets import accept_offer, checked_plan, logged_read, write_filing, written
from expert_match.db.hooks import after_commit
from expert_match.db.paging import Window
from expert_match.matching.text import fold_key
from expert_match.orgs.service import district_code
from expert_match.tickets import offers, queues, service, thread, workflow
from expert_match.tickets.desk import Desk
from expert_match.tickets.models import Offer, OfferState, Ticket, TicketEvent
from expert_match.tickets.repository import TicketFilter, TicketRepository, TicketView
from expert_match.tickets.schemas import (
    AccessRead,
    AssignRequest,
    EventRead,
    FeedbackCreate,
    FeedbackRead,
    LoadRead,
    MatchRunRead,
    MergeRequest,
    MetricsRead,
    OfferRead,
    OptionalReason,
    OrgBrief,
    PostCreate,
    QueuesRead,
    ReasonRequest,
    ResolveRequest,
    SimilarTicket,
    TargetRead,
    TicketCreate,
    TicketFiled,
    TicketPage,
    TicketRead,
)
from expert_match.tickets.sla import History, Priority, TargetStatus
from expert_match.tickets.states import TicketAction, TicketStatus

TicketSort = Literal["id", "-id", "created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority",
                     "status", "-status"]
H = timedelta(hours=1)


def target_read(target: TargetStatus) -> TargetRead:
    return TargetRead(name=target.name, state=target.state, target_hours=round(target.target / H, 3),
                      elapsed_hours=round(target.elapsed / H, 3), remaining_hours=round(target.remaining / H, 3),
                      due_at=target.due_at, completed_at=target.completed_at)


def ticket_reads(session: Session, desk: Desk, caller: Caller, tickets: list[Ticket], now: datetime) -> list[TicketRead]:
    past = workflow.history(session, tickets)
    actions = service.caller_actions(session, caller, tickets)
    return [_ticket_read(desk, t, OrgBrief(id=t.org.id, name=t.org.name), past[t.id], actions[t.id], now)
            for t in tickets]


def _ticket_read(desk: Desk, t: Ticket | TicketView, org: OrgBrief, past: History, actions: list[TicketAction],
                 now: datetime) -> TicketRead:
    return TicketRead(
        id=t.id, reference=t.reference or "", title=t.title, description=t.description, category=t.category,
        priority=t.priority, status=t.status, org=org, requester_id=t.requester_id,
        district_code=t.district_code, ward_code=t.ward_code, location=t.location, onsite=t.onsite,
        assigned_expert_id=t.assigned_expert_id, merged_into_id=t.merged_into_id,
        resolution_summary=t.resolution_summary, created_at=t.created_at, updated_at=t.updated_at, version=t.version,
        service_targets=[target_read(x) for x in service.targets_of(desk, t, past, now)],
        actions=actions,
    )


def ticket_read(session: Session, desk: Desk, caller: Caller, ticket: Ticket, now: datetime) -> TicketRead:
    return ticket_reads(session, desk, caller, [service.reload(session, ticket)], now)[0]


def viewed_read(session: Session, desk: Desk, caller: Caller, ticket_id: int, now: datetime) -> TicketRead:
    """The answer of a ticket read, from ``service.view_ticket`` (Core statements for the ticket
    with its org and for its history, without the ORM's loading)."""
    return view_reads(session, desk, caller, [service.view_ticket(session, caller, ticket_id)], now)[0]


def view_reads(session: Session, desk: Desk, caller: Caller, views: list[TicketView], now: datetime) -> list[TicketRead]:
    """``ticket_reads`` for tickets read as views, which bring their orgs' names and histories."""
    actions = service.caller_actions(session, caller, views)
    return [_ticket_read(desk, v, OrgBrief(id=v.org_id, name=v.org_name), workflow.view_history(v), actions[v.id], now)
            for v in views]


def similar_read(ticket: Ticket, score: float) -> SimilarTicket:
    return SimilarTicket(id=ticket.id, reference=ticket.reference or "", title=ticket.title, status=ticket.status,
                         similarity=round(score, 4))


def event_read(event: TicketEvent) -> EventRead:
    return EventRead(id=event.id, at=event.at, kind=event.kind, actor=event.actor, actor_user_id=event.actor_user_id,
                     actor_name=event.actor_user.display_name if event.actor_user else None,
                     from_status=event.from_status, to_status=event.to_status, body=event.body,
                     internal=event.internal, data=event.data or {})


def offer_read(offer: Offer, ticket: Ticket | None = None) -> OfferRead:
    return OfferRead(id=offer.id, ticket_id=offer.ticket_id, ticket_reference=ticket.reference if ticket else None,
                     ticket_title=ticket.title if ticket else None, expert_id=offer.expert_id, round=offer.round,
                     rank=offer.rank, score=round(offer.score, 6), state=offer.state.value, offered_at=offer.offered_at,
                     expires_at=offer.expires_at, responded_at=offer.responded_at, reason=offer.reason,
                     explanation=offer.explanation or {})


async def changed(request: Request[Any, Any, Any], db_session: Session, desk: Desk, caller: Caller, now: datetime,
                  change: Callable[[Session], Ticket]) -> TicketRead:
    """``change`` made in one trip holding the writer (``written``), answered with the ticket as
    it left it, read in the same session: after a hand-back the expert no longer sees it."""
    return await written(request, db_session, lambda s: ticket_read(s, desk, caller, change(s), now))


STATE_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)


class TicketController(Controller):
    path = "/api/v1/tickets"
    tags = ["tickets"]

    @post("/", summary="File a problem (offers go out at once)", opt={DEFERRED_WRITE: True},
          responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429))
    async def file(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                   now: Now, settings: SettingsDep, data: JSONBody[TicketCreate]) -> TicketFiled:
        address = client_address(request)

        def plan() -> service.FilingPlan:
            planned = checked_plan(db_session, desk, caller, data, now, settings, address)
            end_reads(db_session)  # hand the connection back before taking the writer
            return planned

        def respond(filed: service.Filed, planned: service.FilingPlan) -> TicketFiled:
            # After the commit, from the ticket and history as written (the session kept its
            # values): the writer is free sooner, and nothing is read back.
            ticket = filed.ticket
            actions = service.caller_actions(db_session, caller, [ticket])[ticket.id]
            org = OrgBrief(id=planned.org_id, name=planned.org_name)
            return TicketFiled(ticket=_ticket_read(desk, ticket, org, filed.history, actions, now),
                               possible_duplicates=[similar_read(t, s) for t, s in planned.duplicates],
                               similar_resolved=[similar_read(t, s) for t, s in planned.similar_resolved])

        planned = await in_session(db_session, plan)
        filed = await write_filing(request, desk, caller, data, now, settings, planned, address)
        return respond(filed, planned)

    @get("/", sync_to_thread=True, summary="List the tickets I may see", responses=problem_responses(400, 401, 422))
    def list_tickets(
        self, db_session: DbSession, caller: CallerDep, desk: DeskDep, now: Now,
        status: Annotated[list[TicketStatus] | None, QueryParameter(description="One or more states")] = None,
        priority: Annotated[Priority | None, QueryParameter()] = None,
        category: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
        district: Annotated[str | None, QueryParameter(max_length=120, description="District code or name")] = None,
        org_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        expert_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1, description="Assigned expert")] = None,
        q: SearchText = None,
        sort: Annotated[TicketSort, QueryParameter(description="A column, descending with '-'; priority runs "
                                                               "from low to urgent")] = "-created_at",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TicketPage:
        filters = TicketFilter(statuses=tuple(status or ()), priority=priority, category=category,
                               district_code=district_code(district), org_id=org_id, assigned_expert_id=expert_id,
                               query=fold_key(q) if q else None)
        tickets, total = service.list_tickets(db_session, caller, filters, Window(limit=limit, offset=offset, sort=sort))
        return TicketPage(items=view_reads(db_session, desk, caller, tickets, now), total=total, limit=limit,
                          offset=offset)

    @get("/{ticket_id:int}", summary="Read a ticket, with its service targets (staff reads are logged)",
         responses=problem_responses(400, 401, 404), opt={DEFERRED_WRITE: True})
    async def read(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                   now: Now, ticket_id: PathId) -> TicketRead:
        return await logged_read(request, db_session, caller, ticket_id, now,
                                 lambda: viewed_read(db_session, desk, caller, ticket_id, now))

    @get("/{ticket_id:int}/events", summary="The ticket's history and thread (staff reads are logged)",
         responses=problem_responses(400, 401, 404), opt={DEFERRED_WRITE: True})
    async def events(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, now: Now,
                     ticket_id: PathId) -> list[EventRead]:
        return await logged_read(request, db_session, caller, ticket_id, now,
                                 lambda: [event_read(e) for e in thread.events(db_session, caller, ticket_id)])

    @get("/{ticket_id:int}/accesses", sync_to_thread=True, summary="Who among the staff read the ticket (admins)",
         responses=problem_responses(400, 401, 403, 404))
    def ticket_accesses(self, db_session: DbSession, caller: CallerDep, ticket_id: PathId) -> list[AccessRead]:
        return [AccessRead(user_id=a.user_id, at=a.at, channel=a.channel)
                for a in service.accesses(db_session, caller, ticket_id)]

    # The changes below are DEFERRED_WRITE routes: the caller is read in the request's read
    # session, then the change and its answer are made in one trip holding the writer (``written``).

    @post("/{ticket_id:int}/posts", summary="Post advice, a note, an answer or a question", responses=STATE_ERRORS,
          opt={DEFERRED_WRITE: True})
    async def post_message(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep,
                           desk: DeskDep, now: Now, ticket_id: PathId, data: JSONBody[PostCreate]) -> EventRead:
        return await written(request, db_session,
                             lambda s: event_read(thread.post(s, desk, caller, ticket_id, data, now)))

    @post("/{ticket_id:int}/resolve", status_code=200, summary="Resolve with a summary", responses=STATE_ERRORS,
          opt={DEFERRED_WRITE: True})
    async def resolve(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                      now: Now, ticket_id: PathId, data: JSONBody[ResolveRequest]) -> TicketRead:
        return await changed(request, db_session, desk, caller, now,
                             lambda s: thread.resolve(s, desk, caller, ticket_id, data.summary, now))

    @post("/{ticket_id:int}/confirm", status_code=200, summary="Confirm the resolution", responses=STATE_ERRORS,
          opt={DEFERRED_WRITE: True})
    async def confirm(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                      now: Now, ticket_id: PathId) -> TicketRead:
        return await changed(request, db_session, desk, caller, now,
                             lambda s: thread.confirm(s, desk, caller, ticket_id, now))

    @post("/{ticket_id:int}/reopen", request_max_body_size=SHORT_BODY_BYTES, status_code=200,
          summary="Reopen within the window", responses=STATE_ERRORS, opt={DEFERRED_WRITE: True})
    async def reopen(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                     now: Now, ticket_id: PathId, data: JSONBody[ReasonRequest]) -> TicketRead:
        return await changed(request, db_session, desk, caller, now,
                             lambda s: thread.reopen(s, desk, caller, ticket_id, data.reason, now))

    @post("/{ticket_id:int}/cancel", request_max_body_size=SHORT_BODY_BYTES, status_code=200,
          summary="Withdraw or cancel, with a reason", responses=STATE_ERRORS, opt={DEFERRED_WRITE: True})
    async def cancel(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                     now: Now, ticket_id: PathId, data: JSONBody[ReasonRequest]) -> TicketRead:
        return await changed(request, db_session, desk, caller, now,
                             lambda s: thread.cancel(s, desk, caller, ticket_id, data.reason, now))

    @post("/{ticket_id:int}/merge", request_max_body_size=SHORT_BODY_BYTES, status_code=200,
          summary="Merge a duplicate into another ticket", responses=STATE_ERRORS, opt={DEFERRED_WRITE: True})
    async def merge(self, request: Request[Any, Any, Any], db_session: DbSession, staff: StaffDep, desk: DeskDep,
                    now: Now, ticket_id: PathId, data: JSONBody[MergeRequest]) -> TicketRead:
        return await changed(request, db_session, desk, staff, now,
                             lambda s: thread.merge(s, desk, staff, ticket_id, data.into_ticket_id, data.reason, now))

    @post("/{ticket_id:int}/assign", request_max_body_size=SHORT_BODY_BYTES, status_code=200,
          summary="Assign an expert directly (conflicts hold; capacity needs a reason)", responses=STATE_ERRORS,
          opt={DEFERRED_WRITE: True})
    async def assign(self, request: Request[Any, Any, Any], db_session: DbSession, staff: StaffDep, desk: DeskDep,
                     now: Now, ticket_id: PathId, data: JSONBody[AssignRequest]) -> TicketRead:
        return await changed(request, db_session, desk, staff, now,
                             lambda s: thread.assign(s, desk, staff, ticket_id, data.expert_id, data.reason, now))

    @post("/{ticket_id:int}/rematch", status_code=200, summary="Send a ticket that needs attention to matching again",
          responses=STATE_ERRORS, opt={DEFERRED_WRITE: True})
    async def rematch(self, request: Request[Any, Any, Any], db_session: DbSession, staff: StaffDep, desk: DeskDep,
                      now: Now, ticket_id: PathId) -> TicketRead:
        return await changed(request, db_session, desk, staff, now,
                             lambda s: thread.rematch(s, desk, staff, ticket_id, now))

    @post("/{ticket_id:int}/hand-back", request_max_body_size=SHORT_BODY_BYTES, status_code=200,
          summary="The assigned expert gives the ticket back (matched again without them)", responses=STATE_ERRORS,
          opt={DEFERRED_WRITE: True})
    async def hand_back(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep,
                        desk: DeskDep, now: Now, ticket_id: PathId, data: JSONBody[ReasonRequest]) -> TicketRead:
        # Answered from the write session: once handed back, the expert no longer sees the ticket.
        return await changed(request, db_session, desk, caller, now,
                             lambda s: thread.hand_back(s, desk, caller, ticket_id, data.reason, now))

    @post("/{ticket_id:int}/feedback", request_max_body_size=SHORT_BODY_BYTES,
          summary="Rate the advice (requester, once resolved)", responses=STATE_ERRORS, opt={DEFERRED_WRITE: True})
    async def feedback(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep,
                       desk: DeskDep, now: Now, ticket_id: PathId, data: JSONBody[FeedbackCreate]) -> FeedbackRead:
        def rate(session: Session) -> FeedbackRead:
            saved = thread.give_feedback(session, caller, ticket_id, data, now)
            if saved.expert_id is not None:
                # A good rating makes the ticket evidence for its expert: rank with it from now on.
                expert_id = saved.expert_id
                after_commit(session, lambda: desk.index.refresh([expert_id]))
            return FeedbackRead(rating=saved.rating, comment=saved.comment,
                                bottleneck_removed=saved.bottleneck_removed, at=saved.at)

        return await written(request, db_session, rate)

    @get("/{ticket_id:int}/offers", sync_to_thread=True, summary="Offers sent for a ticket (staff)",
         responses=problem_responses(400, 401, 403, 404))
    def ticket_offers(self, db_session: DbSession, staff: StaffDep, ticket_id: PathId) -> list[OfferRead]:
        ticket = service.get_ticket(db_session, staff, ticket_id)
        return [offer_read(o, ticket) for o in TicketRepository(db_session).offers_of_ticket(ticket.id)]

    @get("/{ticket_id:int}/match-runs", sync_to_thread=True, summary="Every ranking used for a ticket (staff)",
         responses=problem_responses(400, 401, 403, 404))
    def match_runs(self, db_session: DbSession, staff: StaffDep, ticket_id: PathId) -> list[MatchRunRead]:
        ticket = service.get_ticket(db_session, staff, ticket_id)
        return [MatchRunRead(id=r.id, at=r.at, purpose=r.purpose, experts_considered=r.experts_considered,
                             excluded_expert_ids=r.excluded_expert_ids, candidates=r.candidates)
                for r in TicketRepository(db_session).match_runs(ticket.id)]


class OfferController(Controller):
    path = "/api/v1/offers"
    tags = ["offers"]

    @get("/", sync_to_thread=True, summary="My offers (experts)", responses=problem_responses(400, 401))
    def inbox(self, db_session: DbSession, caller: CallerDep,
              states: Annotated[list[OfferState] | None,
                                QueryParameter(name="state", description="Default: pending")] = None,
              ) -> list[OfferRead]:
        if caller.expert_id is None:
            return []
        found = TicketRepository(db_session).offers_of_expert(caller.expert_id, tuple(states or [OfferState.PENDING]))
        return [offer_read(o, o.ticket) for o in found]

    @post("/{offer_id:int}/accept", status_code=200, summary="Accept an offer (first one wins)",
          responses=problem_responses(400, 401, 404, 409), opt={DEFERRED_WRITE: True})
    async def accept(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                     now: Now, offer_id: PathId) -> TicketRead:
        ticket_id = await accept_offer(request, db_session, desk, caller, offer_id, now)
        return await logged_read(request, db_session, caller, ticket_id, now,
                                 lambda: viewed_read(db_session, desk, caller, ticket_id, now))

    @post("/{offer_id:int}/decline", request_max_body_size=SHORT_BODY_BYTES, status_code=200,
          summary="Decline an offer", responses=problem_responses(400, 401, 404, 409, 413), opt={DEFERRED_WRITE: True})
    async def decline(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep, desk: DeskDep,
                      now: Now, offer_id: PathId, data: JSONBody[OptionalReason]) -> OfferRead:
        def decline(session: Session) -> OfferRead:
            offer = offers.decline(session, desk, caller, offer_id, data.reason, now)
            session.flush()
            session.refresh(offer)
            return offer_read(offer)

        return await written(request, db_session, decline)


class CoordinationController(Controller):
    path = "/api/v1"
    tags = ["coordination"]

    @get("/queues", sync_to_thread=True, summary="Coordinator queues: unassigned, needs attention, at risk, breached",
         responses=problem_responses(401, 403))
    def queues(self, db_session: DbSession, staff: StaffDep, desk: DeskDep, now: Now,
               limit: Annotated[int, QueryParameter(ge=1, le=200, description="Tickets per queue and experts "
                                                                             "listed (totals count all)")] = 50,
               ) -> QueuesRead:
        found = queues.queues(db_session, desk, now, limit=limit, loads_limit=limit)
        # Only the first ``limit`` of each queue is sent: a city's open tickets with their full
        # text and every expert's load made a multi-megabyte answer that took seconds to build.
        # A ticket in two sections (new and at risk) is read once.
        briefs = {b.id: b for section in found.sections.values() for b in section.briefs}
        reads = {t.id: t for t in view_reads(db_session, desk, staff, queues.shown(db_session, list(briefs.values())), now)}
        shown = {name: [reads[b.id] for b in section.briefs if b.id in reads] for name, section in found.sections.items()}
        return QueuesRead(**shown, totals={name: section.total for name, section in found.sections.items()},
                          by_district=found.by_district, by_category=found.by_category,
                          expert_loads=[LoadRead(expert_id=x.expert_id, name=x.name, load=x.load, capacity=x.capacity)
                                        for x in found.loads])

    @get("/metrics", sync_to_thread=True, summary="Service metrics: states, times, acceptance, utilisation",
         responses=problem_responses(401, 403))
    def metrics(self, db_session: DbSession, staff: StaffDep, desk: DeskDep, now: Now) -> MetricsRead:
        found = queues.metrics(db_session, desk, now)
        return MetricsRead(**{name: getattr(found, name) for name in MetricsRead.__struct_fields__})
