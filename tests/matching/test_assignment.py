"""Global assignment: optimal on small instances, capacity and floor respected, beats greedy."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from expert_match.matching.assignment import allowed_pairs, assign, assign_greedy, optimum


def brute_force(pairs, capacity):
    """Best total over every way to give each ticket one allowed expert or none."""
    options = {}
    for t, e, s in pairs:
        options.setdefault(t, []).append((e, s))
    tickets = sorted(options)
    best = 0.0
    for choice in itertools.product(*[[None, *options[t]] for t in tickets]):
        used = {}
        for pick in choice:
            if pick is not None:
                used[pick[0]] = used.get(pick[0], 0) + 1
        if all(used[e] <= capacity.get(e, 0) for e in used):
            best = max(best, sum(pick[1] for pick in choice if pick is not None))
    return best


instances = st.integers(min_value=1, max_value=5).flatmap(lambda n_tickets: st.tuples(
    st.lists(st.tuples(st.integers(0, n_tickets - 1), st.integers(0, 3),
                       st.floats(0.01, 1.0, allow_nan=False)), min_size=1, max_size=12,
             unique_by=lambda x: (x[0], x[1])),
    st.dictionaries(st.integers(0, 3), st.integers(0, 3)),
))


@settings(max_examples=150, deadline=None)
@given(instances)
def test_assign_is_optimal_on_small_instances(instance):
    candidates, capacity = instance
    result = assign(candidates, capacity, min_share_of_best=0.0)
    exact = brute_force(candidates, capacity)
    assert abs(result.total - exact) < 1e-9
    assert abs(optimum(candidates, capacity, min_share_of_best=0.0) - exact) < 1e-6
    greedy = assign_greedy(candidates, capacity, min_share_of_best=0.0)
    assert greedy.total <= result.total + 1e-9
    load = {}
    for ticket, expert in result.pairs.items():
        load[expert] = load.get(expert, 0) + 1
        assert (ticket, expert) in {(t, e) for t, e, _ in candidates}
    assert all(load[e] <= capacity.get(e, 0) for e in load)


def test_floor_keeps_weak_pairs_out_even_when_it_lowers_the_total():
    candidates = [("t1", "A", 0.9), ("t1", "B", 0.2), ("t2", "A", 0.8)]
    # Without the floor the optimum gives t1 the weak expert B so that t2 gets A (total 1.0).
    assert assign(candidates, {"A": 1, "B": 1}, min_share_of_best=0.0).pairs == {"t1": "B", "t2": "A"}
    # With it, B (0.2 < half of t1's best 0.9) is not an option: one ticket waits for a coordinator.
    floored = assign(candidates, {"A": 1, "B": 1}, min_share_of_best=0.5)
    assert len(floored.pairs) == 1 and len(floored.unassigned) == 1
    assert allowed_pairs(candidates, min_score=0.85) == [("t1", "A", 0.9)]


def test_global_beats_one_by_one_when_order_matters():
    candidates = [("t1", "A", 0.9), ("t1", "B", 0.85), ("t2", "A", 0.8)]
    greedy = assign_greedy(candidates, {"A": 1, "B": 1})
    best = assign(candidates, {"A": 1, "B": 1})
    assert greedy.pairs == {"t1": "A"} and greedy.unassigned == ["t2"]
    assert best.pairs == {"t1": "B", "t2": "A"}
    assert best.total > greedy.total


def test_capacity_zero_and_empty_input():
    assert assign([("t1", "A", 0.9)], {"A": 0}).pairs == {}
    assert assign([], {}).total == 0.0
    assert assign([("t1", "A", 0.9), ("t2", "A", 0.8)], {"A": 2}).pairs == {"t1": "A", "t2": "A"}
