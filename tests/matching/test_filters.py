"""Availability: each expert's load is found by id, whatever order the experts were fitted in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expert_match.matching.filters import Eligibility
from expert_match.matching.profiles import Document, ExpertProfile, Period, Problem

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.integers(1, 60), unique=True, max_size=40),
       loads=st.dictionaries(st.integers(1, 80), st.integers(0, 9), max_size=30))
def test_loads_land_on_their_experts_and_unknown_ids_are_left_out(ids, loads):
    eligibility = Eligibility.build([ExpertProfile(i, (Document("x"),)) for i in ids])
    assert eligibility.loads_by_position(loads).tolist() == [loads.get(i, 0) for i in ids]


def test_an_expert_at_capacity_is_filtered_and_a_busy_one_counts_less():
    profiles = [ExpertProfile(i, (Document("x"),), capacity=c) for i, c in ((30, 2), (10, 4), (20, 4))]
    found = Eligibility.build(profiles).availability(Problem("x"), {30: 2, 10: 2, 99: 5}, NOW, NOW + timedelta(days=2),
                                                     min_availability=0.5)
    assert found[0] == 0.0  # 2 of 2
    assert found[2] == 1.0 > found[1] == 0.75  # 0 of 4, then 2 of 4 (0.5 + 0.5 * 2/4)
    assert np.all(found >= 0)


def present_share(periods, start, end):
    """The per-expert loop the vectorised leave replaced: the share of [start, end) not covered
    by any period (overlaps merged), and for an instant 0 when a period holds it."""
    length = (end - start).total_seconds()
    if length <= 0:
        return 0.0 if any(p.starts_at <= start < p.ends_at for p in periods) else 1.0
    covered, cursor = 0.0, start
    for begin, finish in sorted((max(p.starts_at, start), min(p.ends_at, end)) for p in periods):
        begin = max(begin, cursor)
        if finish > begin:
            covered += (finish - begin).total_seconds()
            cursor = finish
    return max(0.0, 1.0 - covered / length)


HOURS = st.integers(-72, 120)
PERIODS = st.lists(st.tuples(HOURS, st.integers(0, 96)).map(
    lambda p: Period(NOW + timedelta(hours=p[0]), NOW + timedelta(hours=p[0] + p[1]))), max_size=4)


@settings(max_examples=300, deadline=None)
@given(leave=st.lists(PERIODS, min_size=1, max_size=12), start=HOURS, length=st.integers(0, 80))
def test_leave_filters_and_discounts_as_each_experts_periods_say(leave, start, length):
    """Overlapping, touching, empty and past periods, windows and instants: the vectorised shares
    give each expert what its own periods give."""
    profiles = [ExpertProfile(i + 1, (Document("x"),), leave=tuple(periods)) for i, periods in enumerate(leave)]
    window_start = NOW + timedelta(hours=start)
    window_end = window_start + timedelta(hours=length)
    found = Eligibility.build(profiles).availability(Problem("x"), {}, window_start, window_end, min_availability=0.5)
    for index, periods in enumerate(leave):
        present = present_share(periods, window_start, window_end)
        expected = 0.0 if present <= 0 else (0.5 + 0.5 * present if periods else 1.0)
        assert found[index] == pytest.approx(expected, abs=1e-12), (index, periods)
