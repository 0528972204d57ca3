"""Availability rules shared by the registry (``available_now``) and, later, the ticket offers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol


class Period(Protocol):
    starts_at: datetime
    ends_at: datetime


def on_leave(periods: Iterable[Period], at: datetime) -> bool:
    """True when ``at`` falls in a period (start inclusive, end exclusive)."""
    return any(p.starts_at <= at < p.ends_at for p in periods)


def is_available(*, active: bool, capacity: int, load: int, periods: Iterable[Period], at: datetime) -> bool:
    """Can take one more ticket at ``at``: active, not on leave, and below capacity."""
    return active and load < capacity and not on_leave(periods, at)
