"""The collector around the matcher's indexes: paused while one is built, start-up frozen, and
fitted indexes free of reference cycles (a frozen cycle would never be freed)."""

import contextlib
import gc
import os
import platform
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator

import pytest

from expert_match.matching.heap import collection_paused, freeze_survivors, limit_malloc_arenas
from expert_match.matching.profiles import Document, ExpertProfile, SkillEvidence
from expert_match.matching.ranker import ExpertRanker

SKILL = SkillEvidence("Chữ ký số", ("digital signature", "ký số từ xa"), 4)


def profiles(n: int, start: int = 1) -> list[ExpertProfile]:
    return [ExpertProfile(i, (Document(f"Chuyên gia {i}: chữ ký số, mạng LAN, dịch vụ công số {i % 7}"),),
                          skills=(SKILL,), districts=frozenset({f"d{i % 5}"})) for i in range(start, start + n)]


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of every automatic or explicit collection while the test runs, with the
    collector made eager (a pass every 10 allocations) so a fit would trigger many."""
    seen: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    thresholds = gc.get_threshold()
    gc.set_threshold(10, 2, 2)
    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*thresholds)


def test_pause_switches_the_collector_off_inside_and_back_on_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collection_paused():
            assert not gc.isenabled()
            raise RuntimeError("the build failed")
    assert gc.isenabled()


def test_overlapping_pauses_in_two_threads_share_one_pause():
    inside, release = threading.Event(), threading.Event()

    def other_builder() -> None:
        with collection_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_builder)
    with collection_paused():
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other build is still running
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_pause_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def fit_and_update(collections: list[int]) -> int:
    experts, changed = profiles(300), profiles(20, start=1000)
    collections.clear()
    ExpertRanker().fit(experts).updated(changed, removed=[1, 2])
    return len(collections)


def test_a_fit_and_an_update_leave_the_collector_a_pass_or_two_instead_of_hundreds(collections, monkeypatch):
    paused = fit_and_update(collections)
    # The passes left are the collector catching up once a pause ends (one per generation).
    assert paused <= 6
    monkeypatch.setattr("expert_match.matching.ranker.collection_paused", contextlib.nullcontext)
    assert fit_and_update(collections) > 10 * max(paused, 1)


def test_freezing_collects_cyclic_garbage_first_and_freezes_the_living():
    garbage, alive = Cycle(), Cycle()
    gone = weakref.ref(garbage)
    del garbage
    try:
        assert freeze_survivors() > 0
        assert gone() is None  # collected, not frozen for ever
        assert alive.me is alive
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_replaced_index_is_freed_without_the_collector():
    """A frozen index in a reference cycle would never be freed after a refit replaced it:
    reference counting alone must free a fitted ranker, an updated one, and what they hold."""
    ranker = ExpertRanker().fit(profiles(50))
    newer = ranker.updated(profiles(3, start=500))
    refs = [weakref.ref(x) for x in (ranker, ranker.pruned_, ranker.space_, newer, newer.pruned_)]
    gc.disable()
    try:
        del ranker, newer
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()


# Eight threads each allocate and hold memory at once; malloc_stats() then lists one "Arena N:"
# block per heap the process has (on stderr).
ARENAS_PROBE = """
import ctypes, os, sys, threading
from expert_match.matching.heap import limit_malloc_arenas
if sys.argv[1] == "limited":
    assert limit_malloc_arenas(2)
start, hold = threading.Barrier(8), threading.Event()
def work():
    start.wait()
    kept = [bytearray(4096) for _ in range(2000)]
    hold.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
import time; time.sleep(0.5)
ctypes.CDLL("libc.so.6").malloc_stats()
hold.set()
for thread in threads:
    thread.join()
"""


def arenas_used(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", ARENAS_PROBE, mode], capture_output=True, text=True, check=True,
                          env=env)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")
def test_a_serving_process_keeps_to_two_malloc_arenas_whatever_its_threads() -> None:
    assert arenas_used("free") > 2  # glibc's own bound is 8 per core
    assert arenas_used("limited") == 2


def test_the_operators_malloc_arena_max_is_left_alone(monkeypatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
