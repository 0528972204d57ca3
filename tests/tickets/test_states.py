"""The workflow table: every status x action x actor, and the shape of the graph."""

from __future__ import annotations

import itertools

import pytest

from expert_match.errors import NotAllowed
from expert_match.tickets.states import (
    DONE_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Actor,
    IllegalMove,
    TicketAction,
    TicketStatus,
    actions_for,
    next_status,
)

S, A = TicketStatus, TicketAction
GRID = list(itertools.product(TicketStatus, TicketAction, Actor))


@pytest.mark.parametrize(("status", "action", "actor"), GRID, ids=lambda v: v.value)
def test_every_status_action_actor(status: TicketStatus, action: TicketAction, actor: Actor) -> None:
    move = TRANSITIONS.get((status, action))
    if move is None:
        with pytest.raises(IllegalMove) as refused:
            next_status(status, action, actor)
        # The message names the status and the action, so a client knows what went wrong.
        assert status.value.replace("_", " ") in refused.value.message
        assert action.value.replace("_", " ") in refused.value.message
    elif actor not in move.actors:
        with pytest.raises(NotAllowed) as refused:
            next_status(status, action, actor)
        assert actor.value.replace("_", " ") in refused.value.message
    else:
        assert next_status(status, action, actor) is move.to


def test_grid_covers_the_whole_table() -> None:
    assert len(GRID) == len(TicketStatus) * len(TicketAction) * len(Actor) == 9 * 15 * 6
    assert set(TRANSITIONS) <= {(s, a) for s, a, _ in GRID}


def test_closed_and_cancelled_are_final() -> None:
    for status in (S.CLOSED, S.CANCELLED):
        assert not [key for key in TRANSITIONS if key[0] == status]


def _reachable(start: TicketStatus) -> set[TicketStatus]:
    seen, frontier = {start}, [start]
    while frontier:
        state = frontier.pop()
        for (source, _action), move in TRANSITIONS.items():
            if source == state and move.to not in seen:
                seen.add(move.to)
                frontier.append(move.to)
    return seen


def test_every_status_is_reachable_from_new_and_can_end() -> None:
    assert _reachable(S.NEW) == set(TicketStatus)
    for status in OPEN_STATES | {S.RESOLVED}:
        assert _reachable(status) & {S.CLOSED, S.CANCELLED}, status


def test_the_typical_path() -> None:
    path = [(A.START_MATCHING, Actor.SYSTEM), (A.ACCEPT_OFFER, Actor.OFFERED_EXPERT),
            (A.POST_ADVICE, Actor.ASSIGNED_EXPERT), (A.ASK_INFO, Actor.ASSIGNED_EXPERT),
            (A.ANSWER, Actor.REQUESTER), (A.RESOLVE, Actor.ASSIGNED_EXPERT), (A.REOPEN, Actor.REQUESTER),
            (A.RESOLVE, Actor.ASSIGNED_EXPERT), (A.CONFIRM, Actor.REQUESTER)]
    status = S.NEW
    seen = [status]
    for action, actor in path:
        status = next_status(status, action, actor)
        seen.append(status)
    assert seen == [S.NEW, S.MATCHING, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_REQUESTER, S.IN_PROGRESS,
                    S.RESOLVED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED]


def test_who_may_do_what() -> None:
    # Only the expert holding an offer accepts it; only the assigned expert resolves.
    assert {m for (s, a), m in TRANSITIONS.items() if a == A.ACCEPT_OFFER} == {TRANSITIONS[(S.MATCHING, A.ACCEPT_OFFER)]}
    assert all(m.actors == {Actor.ASSIGNED_EXPERT} for (s, a), m in TRANSITIONS.items() if a == A.RESOLVE)
    # Requesters never act for experts, and the scheduler never confirms or resolves for people.
    assert all(Actor.REQUESTER not in m.actors for (s, a), m in TRANSITIONS.items()
               if a in (A.ACCEPT_OFFER, A.RESOLVE, A.POST_ADVICE, A.ASSIGN, A.MERGE))
    assert actions_for(S.RESOLVED, {Actor.SYSTEM}) == [A.AUTO_CLOSE]
    # Cancelling needs nobody's permission but the requester's or staff's, in any open status.
    for status in OPEN_STATES:
        assert next_status(status, A.CANCEL, Actor.REQUESTER) is S.CANCELLED
    with pytest.raises(NotAllowed):
        next_status(S.IN_PROGRESS, A.CANCEL, Actor.ASSIGNED_EXPERT)
    assert DONE_STATES.isdisjoint(OPEN_STATES)
