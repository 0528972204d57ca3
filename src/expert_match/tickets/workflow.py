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
    and the ticket's alert instants for the queues (``refresh_alerts``) computed on ``calendar``."""
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
    TicketRepository(session).add_event(event)
    if before == TicketStatus.NEW:
        # A new ticket is moved on inside its filing transaction, before anyone else can see it
        # (nothing leads back to NEW): no conflict to catch, and its history is its filing and
        # this move. The filing writes one ticket UPDATE and reads no history.
        past = History(changes=[(ticket.created_at, before)] + ([(now, after)] if after != before else []))
    else:
        flush_or_conflict(session, "the ticket was changed by someone else; reload it and try again")
        past = None
    refresh_alerts(session, ticket, calendar, past)
    notify(session, ticket, event, now)
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


def written_history(session: Session, ticket: Ticket) -> History:
    """The history of a ticket filed in this session, from the events the session holds: all of
    its events, since nobody else can write one before the filing commits. The filing's answer
    is built from it without reading the event log back."""
    events = TicketRepository(session).written(ticket.id)
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
    event = TicketEvent(ticket_id=ticket.id, at=now, kind=kind, actor=actor.value, actor_user_id=user_id,
                        from_status=ticket.status.value, to_status=None, body=body, internal=internal,
                        data=data or {})
    TicketRepository(session).add_event(event)
    session.flush()  # the event id keys its notifications
    notify(session, ticket, event, now, recipients)
    return event
