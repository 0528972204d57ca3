"""The ticket workflow as one table: (status, action) -> next status, with who may take it.

Pure Python, no database: the service asks ``next_status`` before it writes anything, and one
function (``tickets.service.apply``) writes the status and its history event together.

Actors are relations to the ticket, not only account roles: the requester of the owning org, the
expert holding a pending offer, the assigned expert, coordinators, admins, and the scheduler.

>>> next_status(TicketStatus.MATCHING, TicketAction.ACCEPT_OFFER, Actor.OFFERED_EXPERT)
<TicketStatus.ASSIGNED: 'assigned'>
>>> next_status(TicketStatus.CLOSED, TicketAction.REOPEN, Actor.REQUESTER)
Traceback (most recent call last):
...
expert_match.tickets.states.IllegalMove: cannot reopen a ticket that is closed
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from expert_match.errors import Conflict, NotAllowed


class TicketStatus(StrEnum):
    NEW = "new"
    MATCHING = "matching"
    NEEDS_ATTENTION = "needs_attention"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_REQUESTER = "waiting_on_requester"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class TicketAction(StrEnum):
    START_MATCHING = "start_matching"  # send the first round of offers
    NO_CANDIDATES = "no_candidates"  # every offer declined or expired and nobody is left
    ACCEPT_OFFER = "accept_offer"
    ASSIGN = "assign"  # a coordinator assigns directly
    REMATCH = "rematch"  # a coordinator sends a stuck or handed-back ticket to matching again
    HAND_BACK = "hand_back"  # the assigned expert gives the ticket back, with a reason
    POST_ADVICE = "post_advice"  # public advice from the assigned expert
    ASK_INFO = "ask_info"  # the expert needs something from the requester (SLA clock paused)
    ANSWER = "answer"  # the requester replies
    RESOLVE = "resolve"  # the expert summarises the advice
    CONFIRM = "confirm"  # the requester confirms the resolution
    REOPEN = "reopen"  # the requester reopens within the reopen window
    AUTO_CLOSE = "auto_close"  # the scheduler closes a quietly resolved ticket
    CANCEL = "cancel"  # withdrawn by the requester or cancelled by a coordinator, with a reason
    MERGE = "merge"  # a duplicate is merged into another ticket


class Actor(StrEnum):
    REQUESTER = "requester"  # a requester of the owning org
    OFFERED_EXPERT = "offered_expert"  # an expert holding a pending offer on the ticket
    ASSIGNED_EXPERT = "assigned_expert"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    SYSTEM = "system"  # the scheduler and the filing service


OPEN_STATES = frozenset({TicketStatus.NEW, TicketStatus.MATCHING, TicketStatus.NEEDS_ATTENTION,
                         TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_REQUESTER})
# States whose ticket counts against its expert's capacity.
WORKING_STATES = frozenset({TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_REQUESTER})
# The service-target clock stops while the ticket waits on its requester (and once it is done).
PAUSED_STATES = frozenset({TicketStatus.WAITING_ON_REQUESTER})
DONE_STATES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class Move:
    to: TicketStatus
    actors: frozenset[Actor]


def _move(to: TicketStatus, *actors: Actor) -> Move:
    return Move(to, frozenset(actors))


S, A = TicketStatus, TicketAction
STAFF = (Actor.COORDINATOR, Actor.ADMIN)
_CANCELLABLE = (S.NEW, S.MATCHING, S.NEEDS_ATTENTION, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_REQUESTER)

TRANSITIONS: dict[tuple[TicketStatus, TicketAction], Move] = {
    (S.NEW, A.START_MATCHING): _move(S.MATCHING, Actor.SYSTEM, *STAFF),
    (S.NEW, A.ASSIGN): _move(S.ASSIGNED, *STAFF),
    (S.MATCHING, A.ACCEPT_OFFER): _move(S.ASSIGNED, Actor.OFFERED_EXPERT),
    (S.MATCHING, A.NO_CANDIDATES): _move(S.NEEDS_ATTENTION, Actor.SYSTEM),
    (S.MATCHING, A.ASSIGN): _move(S.ASSIGNED, *STAFF),
    (S.NEEDS_ATTENTION, A.REMATCH): _move(S.MATCHING, *STAFF),
    (S.NEEDS_ATTENTION, A.ASSIGN): _move(S.ASSIGNED, *STAFF),
    (S.ASSIGNED, A.POST_ADVICE): _move(S.IN_PROGRESS, Actor.ASSIGNED_EXPERT),
    (S.ASSIGNED, A.ASK_INFO): _move(S.WAITING_ON_REQUESTER, Actor.ASSIGNED_EXPERT),
    (S.ASSIGNED, A.RESOLVE): _move(S.RESOLVED, Actor.ASSIGNED_EXPERT),
    (S.ASSIGNED, A.HAND_BACK): _move(S.MATCHING, Actor.ASSIGNED_EXPERT),
    (S.ASSIGNED, A.ASSIGN): _move(S.ASSIGNED, *STAFF),
    (S.IN_PROGRESS, A.POST_ADVICE): _move(S.IN_PROGRESS, Actor.ASSIGNED_EXPERT),
    (S.IN_PROGRESS, A.ASK_INFO): _move(S.WAITING_ON_REQUESTER, Actor.ASSIGNED_EXPERT),
    (S.IN_PROGRESS, A.ANSWER): _move(S.IN_PROGRESS, Actor.REQUESTER),
    (S.IN_PROGRESS, A.RESOLVE): _move(S.RESOLVED, Actor.ASSIGNED_EXPERT),
    (S.IN_PROGRESS, A.HAND_BACK): _move(S.MATCHING, Actor.ASSIGNED_EXPERT),
    (S.IN_PROGRESS, A.ASSIGN): _move(S.ASSIGNED, *STAFF),
    (S.WAITING_ON_REQUESTER, A.ANSWER): _move(S.IN_PROGRESS, Actor.REQUESTER),
    (S.WAITING_ON_REQUESTER, A.POST_ADVICE): _move(S.WAITING_ON_REQUESTER, Actor.ASSIGNED_EXPERT),
    (S.WAITING_ON_REQUESTER, A.RESOLVE): _move(S.RESOLVED, Actor.ASSIGNED_EXPERT),
    (S.WAITING_ON_REQUESTER, A.HAND_BACK): _move(S.MATCHING, Actor.ASSIGNED_EXPERT),
    (S.RESOLVED, A.CONFIRM): _move(S.CLOSED, Actor.REQUESTER),
    (S.RESOLVED, A.REOPEN): _move(S.IN_PROGRESS, Actor.REQUESTER),
    (S.RESOLVED, A.AUTO_CLOSE): _move(S.CLOSED, Actor.SYSTEM),
    **{(s, A.CANCEL): _move(S.CANCELLED, Actor.REQUESTER, *STAFF) for s in _CANCELLABLE},
    **{(s, A.MERGE): _move(S.CANCELLED, *STAFF) for s in _CANCELLABLE},
}


class IllegalMove(Conflict):
    """The action does not apply to a ticket in this status (409)."""

    code = "illegal_transition"


def next_status(status: TicketStatus, action: TicketAction, actor: Actor) -> TicketStatus:
    """The status after ``action``, or an error naming the status and the action.

    ``IllegalMove`` (409) when the action does not apply in this status, whoever asks;
    ``NotAllowed`` (403) when it applies but not for this actor.
    """
    move = TRANSITIONS.get((status, action))
    if move is None:
        raise IllegalMove(f"cannot {action.value.replace('_', ' ')} a ticket that is {status.value.replace('_', ' ')}",
                          field="action")
    if actor not in move.actors:
        raise NotAllowed(f"a {actor.value.replace('_', ' ')} cannot {action.value.replace('_', ' ')} "
                         f"a ticket that is {status.value.replace('_', ' ')}", field="action")
    return move.to


def actions_for(status: TicketStatus, actors: set[Actor]) -> list[TicketAction]:
    """Actions these actors may take now (what a client shows as buttons)."""
    return [action for (state, action), move in TRANSITIONS.items()
            if state == status and move.actors & actors]
