"""The consultation thread: advice, internal notes, asking the requester, resolution, confirmation,
reopening, cancellation, merging and the requester's feedback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from expert_match.auth.principal import Caller
from expert_match.db.flush import flush_or_conflict
from expert_match.errors import Conflict, InvalidValue, NotAllowed
from expert_match.tickets import offers
from expert_match.tickets.desk import Desk
from expert_match.tickets.models import Feedback, Ticket, TicketEvent
from expert_match.tickets.repository import TicketRepository
from expert_match.tickets.schemas import FeedbackCreate, PostCreate
from expert_match.tickets.service import get_ticket, scope_of
from expert_match.tickets.states import Actor, TicketAction, TicketStatus
from expert_match.tickets.workflow import actors_of, apply, record

POST_ACTIONS = {"advice": TicketAction.POST_ADVICE, "answer": TicketAction.ANSWER, "ask_info": TicketAction.ASK_INFO}


def sees_internal(caller: Caller, ticket: Ticket) -> bool:
    return caller.is_staff or (caller.expert_id is not None and caller.expert_id == ticket.assigned_expert_id)


def events(session: Session, caller: Caller, ticket_id: int) -> list[TicketEvent]:
    return events_of(session, caller, get_ticket(session, caller, ticket_id))


def events_of(session: Session, caller: Caller, ticket: Ticket) -> list[TicketEvent]:
    """``events`` of a ticket the caller was shown already (``get_ticket``)."""
    return TicketRepository(session).events(ticket.id, include_internal=sees_internal(caller, ticket))


def post(session: Session, desk: Desk, caller: Caller, ticket_id: int, data: PostCreate, now: datetime) -> TicketEvent:
    """A message on the thread, as stored (with its author)."""
    event = _post(session, desk, caller, ticket_id, data, now)
    flush_or_conflict(session, "the ticket was changed by someone else; reload it and try again")
    return TicketRepository(session).event(event.id)


def _post(session: Session, desk: Desk, caller: Caller, ticket_id: int, data: PostCreate, now: datetime) -> TicketEvent:
    ticket = get_ticket(session, caller, ticket_id)
    if data.kind == "note":
        if not sees_internal(caller, ticket):
            raise NotAllowed("internal notes are for coordinators and the assigned expert", field="kind")
        actor = next(iter(sorted(actors_of(caller, ticket))), Actor.COORDINATOR)
        event = record(session, ticket, "note", actor, now, user_id=caller.user_id, body=data.body, internal=True)
        ticket.updated_at = now
        flush_or_conflict(session, "the ticket was changed by someone else; reload it and try again")
        return event
    return apply(session, ticket, POST_ACTIONS[data.kind], actors_of(caller, ticket), now, calendar=desk.calendar,
                 user_id=caller.user_id, body=data.body)


def resolve(session: Session, desk: Desk, caller: Caller, ticket_id: int, summary: str, now: datetime) -> Ticket:
    ticket = get_ticket(session, caller, ticket_id)
    ticket.resolution_summary = summary  # written with the move (a refused move writes nothing)
    apply(session, ticket, TicketAction.RESOLVE, actors_of(caller, ticket), now, calendar=desk.calendar,
          user_id=caller.user_id, body=summary)
    return ticket


def confirm(session: Session, desk: Desk, caller: Caller, ticket_id: int, now: datetime) -> Ticket:
    ticket = get_ticket(session, caller, ticket_id)
    apply(session, ticket, TicketAction.CONFIRM, actors_of(caller, ticket), now, calendar=desk.calendar,
          user_id=caller.user_id)
    return ticket


def reopen(session: Session, desk: Desk, caller: Caller, ticket_id: int, reason: str, now: datetime) -> Ticket:
    ticket = get_ticket(session, caller, ticket_id)
    if ticket.status == TicketStatus.RESOLVED and ticket.resolved_at is not None \
            and now - ticket.resolved_at > desk.reopen_window:
        raise Conflict(f"the reopen window ({desk.reopen_window.days} days after resolution) has passed; "
                       "file a new ticket", field="action")
    apply(session, ticket, TicketAction.REOPEN, actors_of(caller, ticket), now, calendar=desk.calendar,
          user_id=caller.user_id, body=reason)
    return ticket


def cancel(session: Session, desk: Desk, caller: Caller, ticket_id: int, reason: str, now: datetime) -> Ticket:
    ticket = get_ticket(session, caller, ticket_id)
    apply(session, ticket, TicketAction.CANCEL, actors_of(caller, ticket), now, calendar=desk.calendar,
          user_id=caller.user_id, body=reason)
    TicketRepository(session).withdraw_pending(ticket.id, now)
    return ticket


def merge(session: Session, desk: Desk, caller: Caller, ticket_id: int, into_id: int, reason: str | None,
          now: datetime) -> Ticket:
    """Cancel a duplicate in favour of the surviving ticket; both histories record it."""
    ticket = get_ticket(session, caller, ticket_id)
    if into_id == ticket_id:
        raise InvalidValue("a ticket cannot be merged into itself", field="into_ticket_id")
    target = TicketRepository(session).get(into_id, scope_of(caller))
    if target is None:
        raise InvalidValue(f"ticket {into_id} not found", field="into_ticket_id")
    if target.status in (TicketStatus.CANCELLED, TicketStatus.CLOSED):
        raise Conflict(f"ticket {target.reference} is {target.status.value}; merge into an open ticket",
                       field="into_ticket_id")
    apply(session, ticket, TicketAction.MERGE, actors_of(caller, ticket), now, calendar=desk.calendar,
          user_id=caller.user_id, body=reason,
          data={"into_ticket_id": target.id, "into_reference": target.reference})
    ticket.merged_into_id = target.id
    TicketRepository(session).withdraw_pending(ticket.id, now)
    record(session, target, "merged_in", sorted(actors_of(caller, ticket))[0], now, user_id=caller.user_id,
           data={"ticket_id": ticket.id, "reference": ticket.reference})
    return ticket


def assign(session: Session, desk: Desk, caller: Caller, ticket_id: int, expert_id: int, reason: str | None,
           now: datetime) -> Ticket:
    ticket = get_ticket(session, caller, ticket_id)
    return offers.assign_directly(session, desk, caller, ticket, expert_id, reason, now)


def rematch(session: Session, desk: Desk, caller: Caller, ticket_id: int, now: datetime) -> Ticket:
    ticket = get_ticket(session, caller, ticket_id)
    offers.send_round(session, desk, ticket, now, actors=actors_of(caller, ticket), user_id=caller.user_id)
    return ticket


def hand_back(session: Session, desk: Desk, caller: Caller, ticket_id: int, reason: str, now: datetime) -> Ticket:
    ticket = get_ticket(session, caller, ticket_id)
    return offers.hand_back(session, desk, caller, ticket, reason, now)


def give_feedback(session: Session, caller: Caller, ticket_id: int, data: FeedbackCreate, now: datetime) -> Feedback:
    ticket = get_ticket(session, caller, ticket_id)
    if Actor.REQUESTER not in actors_of(caller, ticket):
        raise NotAllowed("only the requesting org rates the advice")
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise Conflict(f"a ticket that is {ticket.status.value.replace('_', ' ')} cannot be rated yet; "
                       "rate it once it is resolved", field="rating")
    repo = TicketRepository(session)
    if repo.feedback(ticket.id) is not None:
        raise Conflict("this ticket has already been rated", field="rating")
    feedback = repo.add_feedback(Feedback(ticket_id=ticket.id, expert_id=ticket.assigned_expert_id,
                                          user_id=caller.user_id, rating=data.rating, comment=data.comment,
                                          bottleneck_removed=data.bottleneck_removed, at=now))
    record(session, ticket, "feedback", Actor.REQUESTER, now, user_id=caller.user_id, body=data.comment,
           data={"rating": data.rating, "bottleneck_removed": data.bottleneck_removed})
    flush_or_conflict(session, "this ticket has already been rated", field="rating")
    return feedback
