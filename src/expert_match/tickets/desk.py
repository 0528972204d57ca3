"""``Desk``: what the ticket services need besides the session, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from expert_match.experts.match_index import MatchIndex
from expert_match.settings import Settings
from expert_match.tickets.calendar import BusinessCalendar
from expert_match.tickets.similar import ResolvedIndex


@dataclass(frozen=True, slots=True)
class Desk:
    index: MatchIndex
    calendar: BusinessCalendar
    offer_policy: dict[str, tuple[int, int]]  # priority -> (offers in parallel, business minutes to answer)
    reopen_window: timedelta
    auto_close_after: timedelta
    resolved: ResolvedIndex = field(default_factory=ResolvedIndex)

    @classmethod
    def from_settings(cls, settings: Settings, index: MatchIndex) -> Desk:
        return cls(index=index, calendar=BusinessCalendar.load(settings.calendar_file or None),
                   offer_policy=settings.offer_policy(), reopen_window=timedelta(days=settings.reopen_days),
                   auto_close_after=timedelta(days=settings.auto_close_days))
