"""Availability: each expert's load is found by id, whatever order the experts were fitted in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from expert_match.matching.filters import Eligibility
from expert_match.matching.profiles import Document, ExpertProfile, Problem

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
