"""The only module that reads the wall clock. Everything else takes ``now`` or a ``Clock``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

# Da Nang's wall clock for display and weekly grouping. Vietnam has kept UTC+7 without daylight
# saving since 1975, so a fixed offset is exact and needs no time-zone database.
CITY_TIME = timezone(timedelta(hours=7), "ICT")


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return utc_now()


class FixedClock:
    """A clock tests can move by hand (``clock.current += timedelta(...)``)."""

    def __init__(self, current: datetime) -> None:
        if current.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.current = current

    def now(self) -> datetime:
        return self.current


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused because their zone is a guess."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: give a timezone offset, e.g. 2026-01-01T08:00:00+07:00")
    return value.astimezone(UTC)
