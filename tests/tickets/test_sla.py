"""Business-hours calendar and service targets, on hand-computed timelines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from expert_match.tickets.calendar import BusinessCalendar
from expert_match.tickets.sla import H, History, Priority, TargetName, TargetState, service_targets
from expert_match.tickets.states import TicketStatus as S

CAL = BusinessCalendar.default()


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Da Nang wall-clock time as UTC."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=7)


def test_lunch_break_nights_and_weekends_do_not_count() -> None:
    assert CAL.business_time(local(2026, 11, 25, 11, 0), local(2026, 11, 25, 14, 0)) == 1 * H  # 0.5 + 0.5
    assert CAL.business_time(local(2026, 11, 27, 16, 0), local(2026, 11, 30, 8, 30)) == 2 * H  # Fri 1 h + Mon 1 h
    assert CAL.business_time(local(2026, 11, 28, 9, 0), local(2026, 11, 29, 17, 0)) == timedelta(0)  # weekend
    assert CAL.business_time(local(2026, 11, 30, 9, 0), local(2026, 11, 30, 8, 0)) == timedelta(0)


def test_tet_holidays_are_skipped() -> None:
    # Friday 13 February 2026, 16:00; Tết runs Monday 16 to Friday 20 February.
    start = local(2026, 2, 13, 16, 0)
    assert CAL.add(start, 2 * H) == local(2026, 2, 23, 8, 30)
    assert CAL.business_time(start, local(2026, 2, 23, 7, 30)) == 1 * H


def test_add_and_business_time_agree() -> None:
    start = local(2026, 4, 29, 10, 15)  # before the 30/4 and 1/5 holidays
    for hours in (0.25, 1, 3.25, 7.5, 20, 75):
        due = CAL.add(start, hours * H)
        assert CAL.business_time(start, due) == hours * H
    assert CAL.add(start, 7.5 * H) == local(2026, 5, 4, 10, 15)  # Thu, Fri are holidays; Mon again


def reference_business_time(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Day by day, interval by interval, straight from ``spans``: what the calendar's remembered
    day totals and skipped whole days must agree with."""
    start, end = start.astimezone(calendar.offset), end.astimezone(calendar.offset)
    total, day = timedelta(0), start.date()
    while day <= end.date():
        for a, b in calendar.spans(day):
            lo = max(datetime.combine(day, a, calendar.offset), start)
            hi = min(datetime.combine(day, b, calendar.offset), end)
            total += max(hi - lo, timedelta(0))
        day += timedelta(days=1)
    return total


instants = st.datetimes(min_value=datetime(2025, 12, 20), max_value=datetime(2027, 3, 1),
                        timezones=st.just(UTC))
spans_of_work = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=400))


@settings(max_examples=300, deadline=None)
@given(start=instants, length=st.timedeltas(min_value=timedelta(hours=-5), max_value=timedelta(days=60)))
def test_business_time_matches_the_day_by_day_count(start: datetime, length: timedelta) -> None:
    assert CAL.business_time(start, start + length) == reference_business_time(CAL, start, start + length)


@settings(max_examples=300, deadline=None)
@given(start=instants, amount=spans_of_work)
@example(start=local(2026, 11, 30, 7, 0), amount=7.5 * H)  # exactly Monday's hours: ends at 17:00 Monday
@example(start=local(2026, 11, 27, 6, 0), amount=15 * H)  # Friday's and Monday's, over a weekend
def test_add_finds_the_first_instant_with_that_much_work_done(start: datetime, amount: timedelta) -> None:
    due = CAL.add(start, amount)
    assert reference_business_time(CAL, start, due) == amount
    if amount > timedelta(0):  # the first such instant: a microsecond earlier is not enough
        assert reference_business_time(CAL, start, due - timedelta(microseconds=1)) < amount


def test_calendar_file_is_data(tmp_path) -> None:
    path = tmp_path / "calendar.json"
    path.write_text('{"utc_offset": "+07:00", "working_hours": {"sat": [["08:00", "12:00"]]}, '
                    '"holidays": [{"date": "2026-11-28", "name": "x"}], "working_weekends": []}')
    calendar = BusinessCalendar.load(path)
    assert calendar.add(local(2026, 11, 27, 9, 0), 1 * H) == local(2026, 12, 5, 9, 0)
    path.write_text('{"utc_offset": "+07:00", "working_hours": {"mon": [["12:00", "08:00"]]}}')
    with pytest.raises(ValueError, match="mon"):
        BusinessCalendar.load(path)


def by_name(history: History, priority: Priority, now: datetime) -> dict[TargetName, object]:
    return {t.name: t for t in service_targets(history, priority, now, CAL)}


def test_waiting_on_requester_pauses_the_clock() -> None:
    filed = local(2026, 11, 23, 8, 0)  # Monday
    history = History([
        (filed, S.NEW), (filed, S.MATCHING),
        (local(2026, 11, 23, 9, 0), S.ASSIGNED),
        (local(2026, 11, 23, 10, 0), S.IN_PROGRESS),
        (local(2026, 11, 23, 11, 0), S.WAITING_ON_REQUESTER),
        (local(2026, 11, 25, 8, 0), S.IN_PROGRESS),  # two days later; not counted
    ], first_advice_at=local(2026, 11, 23, 10, 0))
    targets = by_name(history, Priority.NORMAL, local(2026, 11, 25, 9, 0))
    assert targets[TargetName.ASSIGNMENT].state == TargetState.MET
    assert targets[TargetName.ASSIGNMENT].elapsed == 1 * H
    assert targets[TargetName.FIRST_ADVICE].elapsed == 2 * H
    resolution = targets[TargetName.RESOLUTION]
    assert resolution.elapsed == 4 * H  # 8:00-11:00 on Monday, then 8:00-9:00 on Wednesday
    assert resolution.remaining == 71 * H
    assert resolution.state == TargetState.ON_TRACK
    paused = by_name(History([*history.changes, (local(2026, 11, 25, 9, 0), S.WAITING_ON_REQUESTER)]),
                     Priority.NORMAL, local(2026, 12, 10, 9, 0))[TargetName.RESOLUTION]
    assert paused.state == TargetState.PAUSED and paused.due_at is None and paused.elapsed == 4 * H


def test_breach_time_and_at_risk() -> None:
    filed = local(2026, 11, 23, 8, 0)
    history = History([(filed, S.NEW), (filed, S.MATCHING)])
    at_risk = by_name(history, Priority.URGENT, local(2026, 11, 23, 9, 45))[TargetName.ASSIGNMENT]
    assert at_risk.state == TargetState.AT_RISK  # 15 of 120 minutes left
    assert at_risk.due_at == local(2026, 11, 23, 10, 0)
    breached = by_name(history, Priority.URGENT, local(2026, 11, 24, 8, 0))[TargetName.ASSIGNMENT]
    assert breached.state == TargetState.BREACHED
    assert breached.due_at == local(2026, 11, 23, 10, 0)  # when it was breached
    assert breached.remaining == 2 * H - (3.5 + 3.5 + 0.5) * H


def test_reopen_restarts_the_resolution_clock_and_cancel_is_not_applicable() -> None:
    filed = local(2026, 11, 23, 8, 0)
    changes = [(filed, S.NEW), (filed, S.MATCHING), (local(2026, 11, 23, 8, 30), S.ASSIGNED),
               (local(2026, 11, 23, 9, 0), S.RESOLVED)]
    resolved = by_name(History(changes), Priority.URGENT, local(2026, 11, 30, 9, 0))
    assert resolved[TargetName.RESOLUTION].state == TargetState.MET
    assert resolved[TargetName.RESOLUTION].elapsed == 1 * H
    assert resolved[TargetName.FIRST_ADVICE].completed_at == local(2026, 11, 23, 9, 0)  # resolving advises
    reopened = changes + [(local(2026, 11, 24, 8, 0), S.IN_PROGRESS)]
    running = by_name(History(reopened), Priority.URGENT, local(2026, 11, 24, 9, 0))[TargetName.RESOLUTION]
    assert running.completed_at is None and running.elapsed == 2 * H  # 1 h before, 1 h since reopening
    cancelled = by_name(History([(filed, S.NEW), (local(2026, 11, 23, 8, 10), S.CANCELLED)]),
                        Priority.LOW, local(2026, 11, 30, 8, 0))
    assert {t.state for t in cancelled.values()} == {TargetState.NOT_APPLICABLE}


def test_states_without_due_times_are_the_same_states():
    """Queues sort thousands of tickets by state only; leaving the due instants out must not
    change a single state."""
    calendar = BusinessCalendar.default()
    filed = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    history = History([(filed, S.NEW), (filed, S.MATCHING)])
    for hours in (1, 5, 20, 60, 200):
        now = filed + timedelta(hours=hours)
        for priority in Priority:
            full = service_targets(history, priority, now, calendar)
            light = service_targets(history, priority, now, calendar, due_times=False)
            assert [(t.name, t.state, t.elapsed, t.remaining) for t in light] == \
                [(t.name, t.state, t.elapsed, t.remaining) for t in full]
            assert all(t.due_at is None for t in light)
            assert any(t.due_at is not None for t in full)
