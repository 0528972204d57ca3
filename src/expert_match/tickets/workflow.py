"""The one place that changes a ticket's status: checks the table, writes the status and its
history event together (same transaction, same flush)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from expert_match.auth.principal import Caller
from expert_match.db.flush import flush_or_conflict
from expert_match.errors import NotAllowed
from expert_match.orgs.models import Role
from expert_match.tickets.calendar import BusinessCalendar
from expert_match.tickets.models import Ticket, TicketEvent
from expert_match.tickets.notices import notify
from expert_match.tickets.repository import TicketBrief, TicketRepository, TicketView
from expert_match.tickets.sla import History, Priority, alert_basis, alerts
from expert_match.tickets.states import TRANSITIONS, Actor, IllegalMove, TicketAction, TicketStatus, next_status


def actors_of(caller: Caller | None, ticket: Ticket | TicketView,
              offered_expert_ids: set[int] = frozenset()) -> set[Actor]:
    """The relations ``caller`` has to ``ticket`` (None is the scheduler)."""
    if caller is None:
        return {Actor.SYSTEM}
    if caller.role == Role.ADMIN:
        return {Actor.ADMIN}
    if caller.role == Role.COORDINATOR:
        return {Actor.COORDINATOR}
    actors = set()
    if caller.role == Role.REQUESTER and caller.org_id == ticket.org_id:
        actors.add(Actor.REQUESTER)
    if caller.expert_id is not None:
        if caller.expert_id == ticket.assigned_expert_id:
            actors.add(Actor.ASSIGNED_EXPERT)
        if caller.expert_id in offered_expert_ids:
            actors.add(Actor.OFFERED_EXPERT)
    return actors


def choose_actor(status: TicketStatus, action: TicketAction, actors: set[Actor]) -> Actor:
    """The caller's relation that may take ``action`` now, or the table's refusal (409 or 403)."""
    move = TRANSITIONS.get((status, action))
    if move is None:
        next_status(status, action, Actor.SYSTEM)  # raises IllegalMove naming status and action
        raise IllegalMove(f"cannot {action.value}")  # pragma: no cover - next_status raised
    allowed = sorted(actors & move.actors)
    if not allowed:
        if not actors:
            raise NotAllowed("you have no part in this ticket")
        next_status(status, action, sorted(actors)[0])  # raises NotAllowed naming the actor
    return allowed[0]


def apply(session: Session, ticket: Ticket, action: TicketAction, actors: set[Actor], now: datetime, *,
          calendar: BusinessCalendar, user_id: int | None = None, body: str | None = None, internal: bool = False,
          data: dict[str, Any] | None = None) -> TicketEvent:
    """Take ``action`` on ``ticket``: the new status and the event that records it, flushed together,
    and the ticket's alert instants for the queues (``refresh_alerts``) computed on ``calendar``.

    The alerts come from the history read before the move plus the new event, so the ticket is
    written once. Computed after the flush, they changed the ticket again, and the next query's
    autoflush wrote it a second time (a fifth of accepting an offer's CPU, and two versions a move)."""
    with session.no_autoflush:  # the caller's pending changes go in the one flush below
        before = TicketRepository(session).status_changes([ticket.id])[ticket.id]
    event = move(ticket, action, actors, now, user_id=user_id, body=body, internal=internal, data=data)
    refresh_alerts(session, ticket, calendar, _history_of(ticket, [*before, (event.at, event.kind, event.to_status)]))
    TicketRepository(session).add_event(event)
    flush_or_conflict(session, "the ticket was changed by someone else; reload it and try again")
    notify(session, ticket, event, now)
    return event


def move(ticket: Ticket, action: TicketAction, actors: set[Actor], now: datetime, *, user_id: int | None = None,
         body: str | None = None, internal: bool = False, data: dict[str, Any] | None = None) -> TicketEvent:
    """The table's answer to ``action`` on ``ticket``, in memory: the ticket's new status fields
    and the event that records the move (not added anywhere; ``apply`` and a filing write it)."""
    actor = choose_actor(ticket.status, action, actors)
    before = ticket.status
    after = next_status(before, action, actor)
    event = TicketEvent(ticket_id=ticket.id, at=now, kind=action.value, actor=actor.value, actor_user_id=user_id,
                        from_status=before.value, to_status=after.value if after != before else None,
                        body=body, internal=internal, data=data or {})
    if after != before:
        ticket.status = after
        ticket.status_changed_at = now
    if after == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    ticket.updated_at = now
    return event


def refresh_alerts(session: Session, ticket: Ticket, calendar: BusinessCalendar, past: History | None = None) -> None:
    """Store from when the ticket is at risk and breached (``sla.alerts``), as its history now
    stands: ``past`` when the caller knows it, else read from the event log (the new event must
    be flushed)."""
    past = past or history(session, [ticket])[ticket.id]
    found = alerts(past, Priority(ticket.priority), calendar)
    ticket.alert_at_risk, ticket.alert_breach = found.at_risk_at, found.breach_at
    ticket.alert_basis = alert_basis(calendar)


def history(session: Session, tickets: Sequence[Ticket | TicketBrief]) -> dict[int, History]:
    """Each ticket's status changes and first advice, read from the event log."""
    rows = TicketRepository(session).status_changes([t.id for t in tickets])
    return {ticket.id: _history_of(ticket, rows[ticket.id]) for ticket in tickets}


def written_history(ticket: Ticket, events: Sequence[TicketEvent]) -> History:
    """The history of a ticket filed in this transaction, from the events the filing wrote: all
    of them, since nobody else can write one before it commits. The filing's alert instants
    and answer come from it without reading the event log."""
    return _history_of(ticket, [(e.at, e.kind, e.to_status) for e in events])


def view_history(view: TicketView) -> History:
    """The history of a ticket read with ``TicketRepository.view``, which brings its events."""
    return _history_of(view, view.changes)


def _history_of(ticket: Ticket | TicketBrief | TicketView,
                rows: Sequence[tuple[datetime, str, str | None]]) -> History:
    """``rows``: (time, kind, new status) of the ticket's events in order."""
    changes = [(at, TicketStatus(to)) for at, _kind, to in rows if to is not None]
    advice = next((at for at, kind, _to in rows if kind == TicketAction.POST_ADVICE.value), None)
    return History(changes=changes or [(ticket.created_at, ticket.status)], first_advice_at=advice)


def record(session: Session, ticket: Ticket, kind: str, actor: Actor, now: datetime, *, user_id: int | None = None,
           body: str | None = None, internal: bool = False, data: dict[str, Any] | None = None,
           recipients: list[str] | None = None) -> TicketEvent:
    """An event that does not change the status (an offer sent, a note, a rating). ``recipients``:
    whom its notice goes to, when the caller read them already (``notices.notify``)."""
    event = note(ticket, kind, actor, now, user_id=user_id, body=body, internal=internal, data=data)
    return record_note(session, ticket, event, now, recipients)


def record_note(session: Session, ticket: Ticket, event: TicketEvent, now: datetime,
                recipients: list[str] | None = None) -> TicketEvent:
    """``record`` for an event built by ``note``."""
    TicketRepository(session).add_event(event)
    session.flush()  # the event id keys its notifications
    notify(session, ticket, event, now, recipients)
    return event


def note(ticket: Ticket, kind: str, actor: Actor, now: datetime, *, user_id: int | None = None,
         body: str | None = None, internal: bool = False, data: dict[str, Any] | None = None) -> TicketEvent:
    """An event that leaves the status as it is, in memory (``record`` and a filing write it)."""
    return TicketEvent(ticket_id=ticket.id, at=now, kind=kind, actor=actor.value, actor_user_id=user_id,
                       from_status=ticket.status.value, to_status=None, body=body, internal=internal,
                       data=data or {})
