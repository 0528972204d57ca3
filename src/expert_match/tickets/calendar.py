"""Business time on a calendar file: office hours per weekday, public holidays, make-up days.

The calendar is data (``tickets/data/calendar_vn.json`` by default, or the file named by
``EXPERT_MATCH_CALENDAR_FILE``): the government announces Tết and bridge days each year, and an
operator updates the file, not the code. Vietnam has kept UTC+7 without daylight saving since
1975, so a fixed offset from the file is exact and needs no tz database on the server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from pathlib import Path

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A business-time search gives up after this many calendar days (a calendar with no hours at all).
MAX_DAYS = 3660
DAYS_REMEMBERED = 8192
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working intervals per weekday (local time), holidays and working weekend days.

    >>> calendar = BusinessCalendar.default()
    >>> friday_4pm = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)  # 16:00 in Da Nang
    >>> calendar.add(friday_4pm, timedelta(hours=2)).isoformat()  # 1 h on Friday, 1 h on Monday
    '2026-11-30T01:30:00+00:00'
    >>> monday_10am = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    >>> calendar.business_time(friday_4pm, monday_10am) / timedelta(hours=1)  # 1 h + 2.5 h
    3.5
    """

    offset: timezone
    hours: tuple[tuple[tuple[time, time], ...], ...]  # by weekday, Monday first
    holidays: frozenset[date]
    working_weekends: frozenset[date]
    # Each day's working intervals and total, remembered: service targets ask for the same few
    # weeks of days thousands of times. Kept on the calendar, not in an lru_cache keyed by it,
    # which hashed the whole calendar (its holiday sets included) at every lookup: a quarter of a
    # ticket's targets (123 -> 96 us; summing whole days by their totals then made it 43 us).
    _days: dict[date, _Day] = field(
        default_factory=dict, init=False, compare=False, hash=False, repr=False)

    @classmethod
    def default(cls) -> BusinessCalendar:
        text = resources.files("expert_match.tickets").joinpath("data/calendar_vn.json").read_text("utf-8")
        return cls.parse(json.loads(text))

    @classmethod
    def load(cls, path: str | Path | None) -> BusinessCalendar:
        if path is None:
            return cls.default()
        return cls.parse(json.loads(Path(path).read_text("utf-8")))

    @classmethod
    def parse(cls, data: dict) -> BusinessCalendar:
        sign = -1 if data["utc_offset"].startswith("-") else 1
        hh, mm = data["utc_offset"].lstrip("+-").split(":")
        offset = timezone(sign * timedelta(hours=int(hh), minutes=int(mm)))
        hours = []
        for day in WEEKDAYS:
            spans = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in data["working_hours"].get(day, []))
            if any(a >= b for a, b in spans):
                raise ValueError(f"working hours on {day} must end after they start")
            hours.append(spans)
        return cls(
            offset=offset,
            hours=tuple(hours),
            holidays=frozenset(date.fromisoformat(h["date"]) for h in data.get("holidays", [])),
            working_weekends=frozenset(date.fromisoformat(d) for d in data.get("working_weekends", [])),
        )

    def spans(self, day: date) -> tuple[tuple[time, time], ...]:
        """Working intervals of one local day (empty on holidays and non-working days)."""
        if day in self.holidays:
            return ()
        spans = self.hours[day.weekday()]
        if not spans and day in self.working_weekends:
            return self.hours[0]  # a make-up Saturday works Monday's hours
        return spans

    def _day(self, day: date) -> _Day:
        found = self._days.get(day)
        if found is None:
            if len(self._days) >= DAYS_REMEMBERED:
                self._days.clear()
            spans = tuple((datetime.combine(day, a, self.offset), datetime.combine(day, b, self.offset))
                          for a, b in self.spans(day))
            found = self._days[day] = _Day(spans, sum((b - a for a, b in spans), timedelta(0)))
        return found

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero when ``end`` is not after ``start``)."""
        if end <= start:
            return timedelta(0)
        # In the calendar's own offset: datetimes sharing one tzinfo compare without calling
        # utcoffset(), which was most of the cost of a ticket's service targets.
        start, end = start.astimezone(self.offset), end.astimezone(self.offset)
        day, last = start.date(), end.date()
        if day == last:
            return self._day(day).within(start, end)
        total = self._day(day).within(start, None) + self._day(last).within(None, end)
        day += ONE_DAY
        while day < last:  # whole days in between: their remembered totals
            total += self._day(day).total
            day += ONE_DAY
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when ``amount`` of working time has passed since ``start`` (UTC)."""
        left = amount
        start = start.astimezone(self.offset)  # one tzinfo for the comparisons (see business_time)
        day = start.date()
        for _ in range(MAX_DAYS):
            today = self._day(day)
            if today.total < left and (not today.spans or today.spans[0][0] >= start):
                left -= today.total  # a whole day short of the mark: skip it at once
            else:
                for a, b in today.spans:
                    lo = max(a, start)
                    if b <= lo:
                        continue
                    if b - lo >= left:
                        return (lo + left).astimezone(timezone.utc)
                    left -= b - lo
            day += ONE_DAY
        raise ValueError("the calendar has no working hours in the next ten years")


@dataclass(frozen=True, slots=True)
class _Day:
    """One local day's working intervals and their total."""

    spans: tuple[tuple[datetime, datetime], ...]
    total: timedelta

    def within(self, start: datetime | None, end: datetime | None) -> timedelta:
        """Working time of this day between ``start`` and ``end`` (None: the day's edge)."""
        total = timedelta(0)
        for a, b in self.spans:
            lo = a if start is None or a >= start else start
            hi = b if end is None or b <= end else end
            if hi > lo:
                total += hi - lo
        return total
