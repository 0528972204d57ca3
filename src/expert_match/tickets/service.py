"""Filing, reading and listing tickets, scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from expert_match.auth.principal import Caller
from expert_match.db.flush import flush_or_conflict
from expert_match.db.paging import Window
from expert_match.errors import Conflict, InvalidReference, InvalidValue, NotAllowed, NotFound
from expert_match.experts.repository import ExpertRepository
from expert_match.matching.profiles import Match, Problem
from expert_match.matching.text import fold_key
from expert_match.orgs.models import Role
from expert_match.orgs.repository import OrgPlace, OrgRepository
from expert_match.orgs.service import resolve_place
from expert_match.tickets import offers, workflow
from expert_match.tickets.desk import Desk
from expert_match.tickets.notices import notify
from expert_match.tickets.models import MatchRun, Ticket, TicketAccess, TicketEvent
from expert_match.tickets.repository import Scope, TicketBrief, TicketFilter, TicketRepository, TicketView
from expert_match.tickets.schemas import TicketCreate
from expert_match.tickets.similar import duplicate_scores
from expert_match.tickets.sla import History, Priority, TargetStatus, service_targets
from expert_match.tickets.states import Actor, TicketAction, TicketStatus, actions_for
from expert_match.tickets.workflow import actors_of

DUPLICATE_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Filed:
    ticket: Ticket
    duplicates: list[tuple[Ticket, float]]
    similar_resolved: list[tuple[Ticket, float]]
    history: History  # as written: the answer needs no read of the event log


def scope_of(caller: Caller) -> Scope:
    if caller.is_staff:
        return Scope(everything=True)
    if caller.role == Role.REQUESTER:
        return Scope(org_id=caller.org_id)
    return Scope(expert_id=caller.expert_id if caller.expert_id is not None else -1)


def get_ticket(session: Session, caller: Caller, ticket_id: int) -> Ticket:
    """The ticket if the caller may see it; a foreign ticket is 404 exactly like a missing one."""
    ticket = TicketRepository(session).get(ticket_id, scope_of(caller))
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def view_ticket(session: Session, caller: Caller, ticket_id: int) -> TicketView:
    """``get_ticket`` for showing the ticket, with its org's name and its history."""
    view = TicketRepository(session).view(ticket_id, scope_of(caller))
    if view is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return view


def read_ticket(session: Session, caller: Caller, ticket_id: int, now: datetime, channel: str) -> Ticket:
    """``get_ticket`` for showing the ticket to someone: a coordinator's or admin's read is
    logged (they can open every org's tickets, so who looked at what must be answerable)."""
    ticket = get_ticket(session, caller, ticket_id)
    log_access(session, caller, ticket.id, now, channel)
    return ticket


def log_access(session: Session, caller: Caller, ticket_id: int, now: datetime, channel: str) -> None:
    """Record a coordinator's or admin's read of a ticket (others' reads are not logged)."""
    if caller.is_staff:
        TicketRepository(session).add_access(TicketAccess(ticket_id=ticket_id, user_id=caller.user_id, at=now,
                                                          channel=channel))


def accesses(session: Session, caller: Caller, ticket_id: int) -> list[TicketAccess]:
    """Who among the staff read the ticket, and when (admins only)."""
    if caller.role != Role.ADMIN:
        raise NotAllowed("only admins may read the access log")
    return TicketRepository(session).accesses(get_ticket(session, caller, ticket_id).id)


def expert_loads(session: Session) -> dict[int, int]:
    """Active tickets per expert (what counts against capacity)."""
    return TicketRepository(session).loads()


def reload(session: Session, ticket: Ticket) -> Ticket:
    flush_or_conflict(session, "the ticket was changed by someone else; reload it and try again")
    return TicketRepository(session).reload(ticket.id)


def list_tickets(session: Session, caller: Caller, filters: TicketFilter, window: Window) -> tuple[list[TicketView], int]:
    return TicketRepository(session).list(scope_of(caller), filters, window)


@dataclass(frozen=True, slots=True)
class FilingPlan:
    """Everything filing decides by reading. Made before the write transaction, so SQLite's
    single writer is held for the inserts only, not for ranking and duplicate detection (the
    bulk of a filing's time). The ranking is a snapshot taken milliseconds before the write; an
    expert who fills up meanwhile is refused at accept time, as for any offer."""

    org_id: int
    org_name: str
    district_code: str | None
    ward_code: str | None
    search_key: str
    duplicates: list[tuple[Ticket, float]]
    similar_resolved: list[tuple[Ticket, float]]
    ranked: offers.Ranked


def plan_filing(session: Session, desk: Desk, caller: Caller, data: TicketCreate, now: datetime) -> FilingPlan:
    org = _filing_org(session, caller, data)
    if data.district is None and data.ward is None:
        district, ward = org.district_code, org.ward_code
    else:
        place = resolve_place(data.district, data.ward, "2023")
        district, ward = place.district_code, place.ward_code
    text = f"{data.title}\n{data.description}"
    key = fold_key(f"{data.title} {data.description}")
    problem = Problem(text=text, org_id=org.id, district=district, onsite=data.onsite, language=data.language)
    parallel, _minutes = desk.offer_policy[data.priority.value]
    return FilingPlan(
        org_id=org.id, org_name=org.name, district_code=district, ward_code=ward, search_key=key,
        duplicates=_duplicates(session, org.id, key, now),
        similar_resolved=_similar_resolved(session, desk, caller, org.id, text),
        ranked=offers.rank_candidates(session, desk, problem, now, parallel),
    )


def file_ticket(session: Session, desk: Desk, caller: Caller, data: TicketCreate, now: datetime,
                plan: FilingPlan | None = None) -> Filed:
    """File a problem, find possible duplicates and similar resolved tickets, and send the first
    round of offers (or flag it for a coordinator when nobody is available). ``plan``: made
    beforehand in a read-only session (the API does this); without it, made here.

    The rows go in as column values, not through the ORM's unit of work, which cost about 3 of
    the 4 ms the writer was held per filing: a new ticket has no versions to check, nothing
    else can see it before the commit, and every value is known once its id is."""
    plan = plan or plan_filing(session, desk, caller, data, now)
    repo = TicketRepository(session)
    ticket = _new_ticket(caller, data, plan, now)
    try:
        ticket.id = repo.insert_new(ticket)
    except IntegrityError as exc:  # the org or the requester went away meanwhile
        session.rollback()
        raise Conflict("the ticket could not be saved") from exc
    ticket.reference = f"CDS-{now.year}-{ticket.id:06d}"
    first = _first_round(desk, caller, ticket, plan.ranked, now)
    history = workflow.written_history(ticket, first.events)
    workflow.refresh_alerts(session, ticket, desk.calendar, history)
    repo.update_filed(ticket)
    for event in first.events:
        event.id = repo.insert_event(event)
    repo.insert_match_run(first.run)
    repo.add_offers(first.offered.offers if first.offered else [])
    recipients = plan.ranked.recipients(first.candidates)
    for event in first.events:
        notify(session, ticket, event, now, recipients if event.kind == "offered" else None)
    return Filed(ticket=ticket, duplicates=plan.duplicates, similar_resolved=plan.similar_resolved, history=history)


@dataclass(frozen=True, slots=True)
class _FirstRound:
    events: list[TicketEvent]  # filed, moved to matching, then offered (or needs attention)
    run: MatchRun
    candidates: list[Match]  # offered, best first
    offered: offers.Round | None


def _first_round(desk: Desk, caller: Caller, ticket: Ticket, ranked: offers.Ranked, now: datetime) -> _FirstRound:
    """A new ticket's history up to its first round of offers, in memory, by the workflow table."""
    actor = Actor.REQUESTER if caller.role == Role.REQUESTER else Actor(caller.role.value)
    events = [TicketEvent(ticket_id=ticket.id, at=now, kind="file", actor=actor.value, actor_user_id=caller.user_id,
                          from_status=None, to_status=TicketStatus.NEW.value, body=None, internal=False,
                          data={"priority": ticket.priority.value}),
              workflow.move(ticket, TicketAction.START_MATCHING, {Actor.SYSTEM}, now)]
    candidates = ranked.matches[:desk.offer_policy[ticket.priority.value][0]]
    run = offers.match_run(ticket, now, "offer_round",
                           offers.Ranked(candidates, ranked.excluded, ranked.considered, ranked.emails))
    offered = offers.offer_round(ticket, candidates, desk, now) if candidates else None
    events.append(offered.event if offered else
                  workflow.move(ticket, TicketAction.NO_CANDIDATES, {Actor.SYSTEM}, now, data={"round": 0}))
    return _FirstRound(events=events, run=run, candidates=candidates, offered=offered)


def _new_ticket(caller: Caller, data: TicketCreate, plan: FilingPlan, now: datetime) -> Ticket:
    """The ticket as filed, not added to the session: every column set, as it is written."""
    return Ticket(
        reference=None, title=data.title, description=data.description, search_key=plan.search_key,
        category=data.category, priority=data.priority, org_id=plan.org_id, requester_id=caller.user_id,
        district_code=plan.district_code, ward_code=plan.ward_code, location=data.location, onsite=data.onsite,
        language=data.language, status=TicketStatus.NEW, assigned_expert_id=None, merged_into_id=None,
        offer_round=0, resolution_summary=None, resolved_at=None, status_changed_at=now, alert_at_risk=None,
        alert_breach=None, alert_basis=None, created_at=now, updated_at=now, version=1,
    )


def _filing_org(session: Session, caller: Caller, data: TicketCreate) -> OrgPlace:
    if caller.role == Role.REQUESTER:
        if data.org_id is not None and data.org_id != caller.org_id:
            raise InvalidValue("requesters file for their own org; leave org_id out", field="org_id")
        org_id = caller.org_id
    elif caller.is_staff:
        if data.org_id is None:
            raise InvalidValue("give the org this problem is filed for", field="org_id")
        org_id = data.org_id
    else:
        raise NotAllowed("experts do not file tickets; a requester or a coordinator does")
    org = OrgRepository(session).place(org_id) if org_id is not None else None
    if org is None:
        raise InvalidReference(f"org {org_id} does not exist", field="org_id")
    return org


@dataclass(frozen=True, slots=True)
class Preview:
    duplicates: list[tuple[Ticket, float]]
    similar_resolved: list[tuple[Ticket, float]]


def preview(session: Session, desk: Desk, caller: Caller, data: TicketCreate, now: datetime) -> Preview:
    """What filing ``data`` would find, without filing it: the web form shows this before the
    requester confirms (the same checks as ``file_ticket``, so a bad field fails here first)."""
    org = _filing_org(session, caller, data)
    if data.district is not None or data.ward is not None:
        resolve_place(data.district, data.ward, "2023")
    key = fold_key(f"{data.title} {data.description}")
    return Preview(duplicates=_duplicates(session, org.id, key, now),
                   similar_resolved=_similar_resolved(session, desk, caller, org.id,
                                                      f"{data.title}\n{data.description}"))


def _duplicates(session: Session, org_id: int, key: str, now: datetime) -> list[tuple[Ticket, float]]:
    repo = TicketRepository(session)
    scored = duplicate_scores(key, repo.same_org_recent(org_id, now - DUPLICATE_LOOKBACK))[:5]
    by_id = {t.id: t for t in repo.by_ids([i for i, _ in scored])}
    return [(by_id[i], score) for i, score in scored]


def _similar_resolved(session: Session, desk: Desk, caller: Caller, org_id: int,
                      text: str) -> list[tuple[Ticket, float]]:
    repo = TicketRepository(session)
    found = desk.resolved.similar(text, repo)
    # Only tickets the caller may open: another org's resolved problems stay private.
    visible = {t.id: t for t in repo.by_ids([i for i, _ in found]) if caller.is_staff or t.org_id == org_id}
    return [(visible[i], score) for i, score in found if i in visible][:5]


def targets_of(desk: Desk, ticket: Ticket | TicketBrief | TicketView, past: History, now: datetime, *,
               due_times: bool = True) -> list[TargetStatus]:
    return service_targets(past, Priority(ticket.priority), now, desk.calendar, due_times=due_times)


def caller_actions(session: Session, caller: Caller,
                   tickets: Sequence[Ticket | TicketView]) -> dict[int, list[TicketAction]]:
    """What the caller may do on each ticket now; the pending offers of a whole page in one query,
    read only for an expert (nobody else's actions depend on them: a requester's ticket read
    made that query for nothing)."""
    if caller.expert_id is None:
        return {t.id: actions_for(t.status, actors_of(caller, t)) for t in tickets}
    offered = TicketRepository(session).pending_experts([t.id for t in tickets])
    return {t.id: actions_for(t.status, actors_of(caller, t, offered.get(t.id, set()))) for t in tickets}


def latest_candidates(session: Session, ticket: Ticket) -> list[dict]:
    """The most recent ranking stored for the ticket, each candidate with the expert's name."""
    runs = TicketRepository(session).match_runs(ticket.id)
    if not runs:
        return []
    names = {expert_id: name for expert_id, name, _capacity in ExpertRepository(session).capacities()}
    return [{**c, "name": names.get(c["expert_id"], "")} for c in runs[-1].candidates]


def rank_again(session: Session, desk: Desk, caller: Caller, ticket_id: int, now: datetime) -> None:
    """A coordinator asks for a fresh ranking (stored as a match run; nobody is offered anything)."""
    if not caller.is_staff:
        raise NotAllowed("only coordinators and admins may rank candidates")
    offers.rank_for(session, desk, get_ticket(session, caller, ticket_id), now, 10, "coordinator_review")
