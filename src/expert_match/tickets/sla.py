"""Service targets counted in business hours, derived from the ticket's status history.

Three targets per priority: time to assignment, to first advice and to resolution, each counted
from filing in working time (``calendar.BusinessCalendar``). The clock stops while the ticket
waits on its requester and while it is resolved (a reopen starts it again, as Zammad and Frappe
do), so only the history of status changes is needed. The queues' view of it (``Alerts``: from
when a ticket is at risk or breached) is stored on the ticket at each change, with a fingerprint of
the calendar it was computed with, and recomputed from the history when that calendar changes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from expert_match.tickets.calendar import BusinessCalendar
from expert_match.tickets.states import DONE_STATES, PAUSED_STATES, TicketStatus


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TargetName(StrEnum):
    ASSIGNMENT = "assignment"
    FIRST_ADVICE = "first_advice"
    RESOLUTION = "resolution"


class TargetState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"  # less than ``at_risk_share`` of the target left
    PAUSED = "paused"  # waiting on the requester: the clock is stopped
    BREACHED = "breached"
    MET = "met"
    NOT_APPLICABLE = "not_applicable"  # cancelled before the target was reached


H = timedelta(hours=1)
# A running target is at risk with less than this share of it left.
AT_RISK_SHARE = 0.25
# Business hours per priority: (assignment, first advice, resolution). A working day is 7.5 h.
DEFAULT_TARGETS: Mapping[Priority, Mapping[TargetName, timedelta]] = {
    Priority.URGENT: {TargetName.ASSIGNMENT: 2 * H, TargetName.FIRST_ADVICE: 4 * H, TargetName.RESOLUTION: 15 * H},
    Priority.HIGH: {TargetName.ASSIGNMENT: 4 * H, TargetName.FIRST_ADVICE: 8 * H, TargetName.RESOLUTION: 37.5 * H},
    Priority.NORMAL: {TargetName.ASSIGNMENT: 8 * H, TargetName.FIRST_ADVICE: 15 * H, TargetName.RESOLUTION: 75 * H},
    Priority.LOW: {TargetName.ASSIGNMENT: 15 * H, TargetName.FIRST_ADVICE: 37.5 * H, TargetName.RESOLUTION: 150 * H},
}


@dataclass(frozen=True, slots=True)
class TargetStatus:
    name: TargetName
    target: timedelta
    elapsed: timedelta  # business time counted so far (or until completion)
    remaining: timedelta  # negative once breached
    due_at: datetime | None  # None while paused or once completed in time
    completed_at: datetime | None
    state: TargetState


@dataclass(frozen=True, slots=True)
class History:
    """What the targets need from the event log: status changes in order (the first is the filing,
    into ``new``) and the first public advice, if any."""

    changes: Sequence[tuple[datetime, TicketStatus]]
    first_advice_at: datetime | None = None


def service_targets(history: History, priority: Priority, now: datetime, calendar: BusinessCalendar, *,
                    targets: Mapping[Priority, Mapping[TargetName, timedelta]] = DEFAULT_TARGETS,
                    at_risk_share: float = AT_RISK_SHARE, due_times: bool = True) -> list[TargetStatus]:
    """Every target's state at ``now``. ``due_times=False`` leaves a running target's ``due_at``
    out: sorting thousands of open tickets into queues needs only the states, and finding the due
    instant is half the work.

    >>> from datetime import timezone
    >>> filed = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)  # Friday 09:00 in Da Nang
    >>> history = History([(filed, TicketStatus.NEW), (filed, TicketStatus.MATCHING)])
    >>> first = service_targets(history, Priority.NORMAL, filed + timedelta(hours=5), BusinessCalendar.default())[0]
    >>> first.name.value, first.elapsed / H, first.state.value, first.due_at.isoformat()
    ('assignment', 3.0, 'on_track', '2026-11-30T02:30:00+00:00')
    """
    changes = list(history.changes)
    current = changes[-1][1]
    done_at = {
        TargetName.ASSIGNMENT: _first_entry(changes, TicketStatus.ASSIGNED),
        TargetName.FIRST_ADVICE: _earliest(history.first_advice_at, _first_entry(changes, TicketStatus.RESOLVED)),
        TargetName.RESOLUTION: _last_entry(changes, TicketStatus.RESOLVED)
        if current in (TicketStatus.RESOLVED, TicketStatus.CLOSED) else None,
    }
    return [_target_status(name, target, done_at[name], changes, current, now, calendar, at_risk_share, due_times)
            for name, target in targets[priority].items()]


def _target_status(name: TargetName, target: timedelta, completed_at: datetime | None,
                   changes: list[tuple[datetime, TicketStatus]], current: TicketStatus, now: datetime,
                   calendar: BusinessCalendar, at_risk_share: float, due_times: bool = True) -> TargetStatus:
    until = completed_at or now
    elapsed = _running_time(changes, until, calendar)
    remaining = target - elapsed
    if completed_at is not None:
        state = TargetState.MET if remaining >= timedelta(0) else TargetState.BREACHED
        return TargetStatus(name, target, elapsed, remaining, None, completed_at, state)
    if current == TicketStatus.CANCELLED:
        return TargetStatus(name, target, elapsed, remaining, None, None, TargetState.NOT_APPLICABLE)
    if remaining < timedelta(0):
        return TargetStatus(name, target, elapsed, remaining,
                            _crossing(changes, target, now, calendar) if due_times else None, None,
                            TargetState.BREACHED)
    if current in PAUSED_STATES or current in DONE_STATES:
        return TargetStatus(name, target, elapsed, remaining, None, None, TargetState.PAUSED)
    state = TargetState.AT_RISK if remaining < target * at_risk_share else TargetState.ON_TRACK
    return TargetStatus(name, target, elapsed, remaining, calendar.add(now, remaining) if due_times else None, None,
                        state)


# Datetimes count microseconds: "more than x of business time" is "at least x + 1 µs".
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Alerts:
    """From when a ticket belongs in the coordinators' at-risk and breached queues, for as long as
    its history stays as it is. Stored on the ticket at every change (``refresh_alerts``), they
    make the queues and the scheduler's breach check read columns instead of replaying every open
    ticket's history through the calendar. None: not unless the ticket changes."""

    at_risk_at: datetime | None
    breach_at: datetime | None

    def state(self, now: datetime) -> TargetState | None:
        """BREACHED, AT_RISK or None: the same answer as the ticket's targets at ``now``."""
        if self.breach_at is not None and self.breach_at <= now:
            return TargetState.BREACHED
        if self.at_risk_at is not None and self.at_risk_at <= now:
            return TargetState.AT_RISK
        return None


def queue_state(statuses: Sequence[TargetStatus]) -> TargetState | None:
    """The queue a ticket's targets put it in: breached if an unfinished target is, else at risk if
    one is, else none."""
    states = {t.state for t in statuses if t.completed_at is None}
    for state in (TargetState.BREACHED, TargetState.AT_RISK):
        if state in states:
            return state
    return None


def alerts(history: History, priority: Priority, calendar: BusinessCalendar, *,
           targets: Mapping[Priority, Mapping[TargetName, timedelta]] = DEFAULT_TARGETS,
           at_risk_share: float = AT_RISK_SHARE) -> Alerts:
    """When the ticket enters the at-risk and breached queues if nothing more happens to it.

    After its last status change the clock runs without a break (or stays stopped), so a running
    target with ``remaining`` left is breached once more than ``remaining`` of business time has
    passed: from ``calendar.add(last change, remaining + 1 µs)`` on.

    >>> from datetime import timezone
    >>> filed = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)  # Friday 09:00 in Da Nang
    >>> found = alerts(History([(filed, TicketStatus.NEW)]), Priority.URGENT, BusinessCalendar.default())
    >>> found.at_risk_at.isoformat(), found.breach_at.isoformat()  # 1.5 h and 2 h of office time
    ('2026-11-27T03:30:00.000001+00:00', '2026-11-27T04:00:00.000001+00:00')
    """
    at, current = history.changes[-1]
    risk, breach = [], []
    for status in service_targets(history, priority, at, calendar, targets=targets, at_risk_share=at_risk_share,
                                  due_times=False):
        if status.completed_at is not None or status.state == TargetState.NOT_APPLICABLE:
            continue
        if status.remaining < timedelta(0):
            breach.append(at)
        elif _running(current):
            breach.append(calendar.add(at, status.remaining + _TICK))
            left = status.remaining - status.target * at_risk_share
            risk.append(at if left < timedelta(0) else calendar.add(at, left + _TICK))
    return Alerts(min(risk, default=None), min(breach, default=None))


@functools.cache
def alert_basis(calendar: BusinessCalendar) -> str:
    """A fingerprint of what stored ``Alerts`` are computed with (the calendar, the default targets
    and the at-risk share): when an operator edits the calendar file (next year's holidays),
    tickets stored under another basis are recomputed (``scheduler.run_once``)."""
    text = repr((str(calendar.offset), calendar.hours, sorted(calendar.holidays), sorted(calendar.working_weekends),
                 sorted((p.value, sorted((n.value, t.total_seconds()) for n, t in by_name.items()))
                        for p, by_name in DEFAULT_TARGETS.items()), AT_RISK_SHARE))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _running(status: TicketStatus) -> bool:
    return status not in PAUSED_STATES and status not in DONE_STATES


def _intervals(changes: list[tuple[datetime, TicketStatus]], until: datetime):
    """(start, end) of every stretch the clock ran, up to ``until``."""
    for (start, status), nxt in zip(changes, [*changes[1:], (until, None)]):
        end = min(nxt[0], until)
        if _running(status) and end > start:
            yield start, end


def _running_time(changes: list[tuple[datetime, TicketStatus]], until: datetime, calendar: BusinessCalendar) -> timedelta:
    return sum((calendar.business_time(a, b) for a, b in _intervals(changes, until)), timedelta(0))


def _crossing(changes: list[tuple[datetime, TicketStatus]], target: timedelta, now: datetime,
              calendar: BusinessCalendar) -> datetime | None:
    """When the running clock passed ``target`` (the breach time, before ``now``)."""
    left = target
    for a, b in _intervals(changes, now):
        spent = calendar.business_time(a, b)
        if spent >= left:
            return calendar.add(a, left)
        left -= spent
    return None


def _first_entry(changes: Sequence[tuple[datetime, TicketStatus]], status: TicketStatus) -> datetime | None:
    return next((at for at, s in changes if s == status), None)


def _last_entry(changes: Sequence[tuple[datetime, TicketStatus]], status: TicketStatus) -> datetime | None:
    return next((at for at, s in reversed(changes) if s == status), None)


def _earliest(*instants: datetime | None) -> datetime | None:
    present = [i for i in instants if i is not None]
    return min(present) if present else None
