"""The similar-resolved-ticket index follows resolutions and reopenings through the status-event
log (no refit, no read of every resolved id), holds the newest tickets only, and the texts it
reads come in chunks (SQLite's bound-variable limit)."""

from __future__ import annotations

import pytest

from expert_match.tickets import repository as ticket_repository
from expert_match.tickets.repository import TicketRepository
from expert_match.tickets.models import Ticket, TicketEvent
from expert_match.tickets.similar import ResolvedIndex
from expert_match.tickets.states import TicketStatus
from tests.tickets.test_ticket_api import GIS, SIGNATURE, file

TEXTS = {
    1: "Máy tính bộ phận một cửa không nhận USB token chữ ký số khi ký hồ sơ.",
    2: "Phường cần đưa các chung cư lên bản đồ số GIS dùng chung.",
    3: "Camera giám sát giao thông mất kết nối về trung tâm điều hành.",
    4: "Cài lại driver USB token để ký số hồ sơ dịch vụ công trực tuyến.",
    5: "Wi-Fi tầng hai chập chờn, mất kết nối khi họp trực tuyến.",
    6: "Cấp lại chứng thư số cho lãnh đạo phường, USB token bị khoá.",
    7: "Cập nhật bản đồ số GIS ranh giới tổ dân phố sau sáp nhập.",
    8: "Máy in tầng một không nhận lệnh in từ phần mềm một cửa.",
}


class Source:
    """An in-memory ``ResolvedSource``: ticket statuses, a status-event log, and a record of
    which texts and id lists were read."""

    def __init__(self, *, in_commit_order: bool = False) -> None:
        self.event_ids_in_commit_order = in_commit_order
        self.resolved: set[int] = set()
        self.events: list[tuple[int, int]] = []
        self.asked: list[list[int]] = []
        self.full_reads = 0

    def resolve(self, *ids: int, event_id: int | None = None) -> None:
        self._log(ids, event_id)
        self.resolved.update(ids)

    def reopen(self, *ids: int) -> None:
        self._log(ids, None)
        self.resolved.difference_update(ids)

    def _log(self, ids: tuple[int, ...], event_id: int | None) -> None:
        for ticket_id in ids:
            self.events.append((event_id or self.last_event_id() + 1, ticket_id))
        self.events.sort()

    def last_event_id(self) -> int:
        return max((e for e, _t in self.events), default=0)

    def status_events_since(self, event_id: int) -> list[tuple[int, int]]:
        return [(e, t) for e, t in self.events if e > event_id]

    def resolved_among(self, ticket_ids: list[int]) -> set[int]:
        return self.resolved & set(ticket_ids)

    def newest_resolved_ids(self, limit: int) -> list[int]:
        self.full_reads += 1
        return sorted(self.resolved)[-limit:]

    def texts(self, ids: list[int]) -> list[tuple[int, str]]:
        self.asked.append(list(ids))
        return [(i, TEXTS[i]) for i in ids]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ids_found(found: list[tuple[int, float]]) -> list[int]:
    return [i for i, _score in found]


def test_a_new_resolution_is_added_without_reading_the_others_again():
    index, source = ResolvedIndex(refit_drift=1.0), Source()
    source.resolve(1, 2, 3)
    assert ids_found(index.similar("USB token không ký số được", source))[0] == 1
    assert source.asked == [[1, 2, 3]]
    source.resolve(4)
    found = ids_found(index.similar("USB token không ký số được", source))
    assert source.asked[-1] == [4]  # only the new ticket's text was read
    assert set(found[:2]) == {1, 4}
    # Nothing changed: nothing is read, and the resolved ids are read only at the start.
    index.similar("bản đồ số chung cư", source)
    assert len(source.asked) == 2 and source.full_reads == 1


def test_a_reopened_ticket_drops_out():
    index, source = ResolvedIndex(refit_drift=1.0), Source()
    query = "USB token không nhận khi ký số hồ sơ dịch vụ công"
    source.resolve(1, 2, 3, 4)
    assert set(ids_found(index.similar(query, source))[:2]) == {1, 4}
    source.reopen(1)
    found = ids_found(index.similar(query, source))
    assert 1 not in found and found[0] == 4
    assert source.asked[-1] == []
    assert index.held == {2, 3, 4}


def test_many_new_words_refit_the_whole_index():
    index, source = ResolvedIndex(refit_drift=0.05), Source()
    source.resolve(1)
    index.similar("USB token", source)
    source.resolve(3)
    index.similar("camera giao thông", source)
    # Ticket 3 shares almost no word with ticket 1: everything is read again for a refit.
    assert source.asked == [[1], [3], [1, 3]]
    assert ids_found(index.similar("camera giao thông mất kết nối", source))[0] == 3


def test_the_index_holds_the_newest_resolved_tickets_only():
    index, source = ResolvedIndex(limit=2, refit_drift=1.0), Source()
    source.resolve(1, 2, 3)
    found = ids_found(index.similar("USB token ký số hồ sơ", source))
    assert index.held == {2, 3} and source.asked == [[2, 3]]
    assert 1 not in found
    source.resolve(4)  # newer: pushes the oldest out
    index.similar("USB token ký số", source)
    assert index.held == {3, 4} and 4 in source.asked[-1]
    source.reopen(3)
    source.resolve(3)  # reopened and resolved again: still among the newest two
    index.similar("USB token ký số", source)
    assert index.held == {3, 4}


def test_replacing_half_the_tickets_refits_the_index():
    index, source = ResolvedIndex(limit=4), Source()
    source.resolve(1, 2, 3, 4)
    index.similar("USB token", source)
    source.resolve(5)  # one in, one out: incremental
    index.similar("USB token", source)
    assert source.asked[-1] == [5]
    source.resolve(6)  # four changes for four held: the document frequencies are stale, refit
    found = ids_found(index.similar("chứng thư số lãnh đạo USB token bị khoá", source))
    assert source.asked[-1] == [3, 4, 5, 6] and index.held == {3, 4, 5, 6}
    assert found[0] == 6
    source.resolve(7)
    index.similar("bản đồ số GIS", source)
    assert source.asked[-1] == [7]  # counting starts again after the refit


def test_a_refit_runs_in_the_background_and_replays_what_changed_meanwhile():
    jobs: list = []
    index, source = ResolvedIndex(limit=4, spawn=jobs.append), Source()
    source.resolve(1, 2, 3, 4)
    index.similar("USB token", source)
    source.resolve(5)
    source.resolve(6)
    index.similar("USB token", source)
    index.similar("USB token", source)
    assert len(jobs) == 1  # due, queued, and the current index still answers meanwhile
    assert ids_found(index.similar("chứng thư số lãnh đạo USB token bị khoá", source))[0] == 6
    source.resolve(7)  # while the refit runs: 3 drops out, 7 comes in
    source.resolve(8)  # more churn does not queue a second refit
    found = ids_found(index.similar("bản đồ số GIS ranh giới tổ dân phố", source))
    assert found[0] == 7 and len(jobs) == 1
    jobs.pop()()  # the refit finishes and is swapped in, with 7 and 8 replayed and 3 and 4 dropped
    assert index.held == {5, 6, 7, 8}
    assert ids_found(index.similar("bản đồ số GIS ranh giới tổ dân phố", source))[0] == 7
    assert ids_found(index.similar("máy in không nhận lệnh in", source))[0] == 8
    assert not {3, 4} & set(ids_found(index.similar("camera giao thông USB token", source)))


def test_an_event_committed_late_below_the_watermark_is_still_applied():
    index, source = ResolvedIndex(refit_drift=1.0, overlap=10, reread_every=0.0), Source()
    source.resolve(2, event_id=5)
    index.similar("bản đồ số", source)
    source.resolve(3, event_id=9)
    index.similar("camera", source)
    assert index.held == {2, 3}
    # A PostgreSQL transaction that took event id 7 commits after 9 was seen.
    source.resolve(1, event_id=7)
    index.similar("USB token", source)
    assert index.held == {1, 2, 3} and 1 in source.asked[-1]
    # Events already applied are not applied again: nothing more is read.
    reads = len(source.asked)
    index.similar("USB token", source)
    assert len(source.asked) == reads


def test_ids_in_commit_order_are_followed_without_rereading():
    index, source = ResolvedIndex(refit_drift=1.0, overlap=10), Source(in_commit_order=True)
    source.resolve(2, event_id=5)
    index.similar("bản đồ số", source)
    seen = []
    source.status_events_since = lambda event_id: seen.append(event_id) or Source.status_events_since(source, event_id)
    source.resolve(3, event_id=6)
    index.similar("camera", source)
    index.similar("camera", source)
    assert seen == [5, 6] and index.held == {2, 3}  # from the watermark itself, not 10 below it


def test_the_overlap_is_reread_at_most_every_reread_every_seconds():
    clock = Clock()
    index, source = ResolvedIndex(refit_drift=1.0, overlap=10, reread_every=1.0, clock=clock), Source()
    source.resolve(2, event_id=5)
    index.similar("bản đồ số", source)  # the first look reads everything
    source.resolve(3, event_id=9)
    clock.now = 0.1
    index.similar("camera", source)  # re-reads the overlap (the first time) and applies 9
    source.resolve(1, event_id=7)  # committed late, below the watermark
    clock.now = 0.5
    index.similar("USB token", source)  # within the second: from the watermark only
    assert index.held == {2, 3}
    clock.now = 1.2
    index.similar("USB token", source)  # the overlap again: 7 applied
    assert index.held == {1, 2, 3} and 1 in source.asked[-1]
    reads = len(source.asked)
    clock.now = 2.5
    index.similar("USB token", source)  # re-read again, but 5, 7 and 9 are not applied twice
    assert len(source.asked) == reads


def test_a_periodic_resync_catches_what_the_overlap_missed():
    clock = Clock()
    index, source = ResolvedIndex(refit_drift=1.0, overlap=0, resync_every=300.0, clock=clock), Source()
    source.resolve(2, event_id=5)
    index.similar("bản đồ số", source)
    source.resolve(1, event_id=3)  # below the watermark and outside the overlap
    index.similar("USB token", source)
    assert index.held == {2}
    clock.now = 301.0
    index.similar("USB token", source)
    assert index.held == {1, 2} and source.full_reads == 2


def test_the_repository_feeds_the_index(parallel_network, database):
    ids = [file(parallel_network, body)["ticket"]["id"] for body in (SIGNATURE, GIS)]
    with database.writer() as session:
        session.get(Ticket, ids[0]).status = TicketStatus.RESOLVED
        session.add(TicketEvent(ticket_id=ids[0], at=session.get(Ticket, ids[0]).created_at, kind="resolve",
                                actor="expert", from_status="assigned", to_status="resolved"))
        session.commit()
    with database.reader() as session:
        repo = TicketRepository(session)
        before = repo.last_event_id()
        assert repo.event_ids_in_commit_order == (database.dialect == "sqlite")
        assert (before, ids[0]) in repo.status_events_since(before - 1)
        assert repo.resolved_among(ids) == {ids[0]}
        assert repo.newest_resolved_ids(10)[-1] == ids[0]
        index = ResolvedIndex()
        found = index.similar(SIGNATURE["description"], repo)
    assert ids_found(found) == [ids[0]]


def test_texts_are_read_in_chunks(parallel_network, database, monkeypatch):
    ids = [file(parallel_network, body)["ticket"]["id"] for body in (SIGNATURE, GIS, SIGNATURE)]
    monkeypatch.setattr(ticket_repository, "IN_CHUNK", 2)
    with database.reader() as session:
        texts = TicketRepository(session).texts(list(reversed(ids)))
    assert [i for i, _text in texts] == sorted(ids)
    assert SIGNATURE["title"] in texts[0][1] and GIS["title"] in texts[1][1]


def test_segments_score_as_one_index_updated_with_every_change():
    """The fitted tickets (some dropped) beside the added ones give the scores of one ranker
    updated with each change, which is what the index held before it kept segments."""
    from expert_match.matching.profiles import Document, ExpertProfile
    from expert_match.matching.ranker import ExpertRanker
    from expert_match.tickets.similar import Segments

    more = {**TEXTS, 9: "Chữ ký số USB token zkrollup mới, ký hồ sơ thuế", 10: "Bản đồ số GIS quantumx phường"}
    segments = Segments.fit([(i, more[i]) for i in (1, 2, 3, 5, 7, 8)])
    one = ExpertRanker(expand_skills=False, correct_typos=False).fit(
        [ExpertProfile(i, (Document(more[i]),)) for i in (1, 2, 3, 5, 7, 8)])
    for added, removed in (([4], [1]), ([9], []), ([1, 10], [7, 9]), ([], [3])):
        segments = segments.updated([(i, more[i]) for i in added], removed)
        one = one.updated([ExpertProfile(i, (Document(more[i]),)) for i in added], removed)
    for query in (*more.values(), "USB token zkrollup", "bản đồ quantumx"):
        ids, scores = segments.top(query, k=20)
        expected = one.text_scores(query) * one.space_.coverage(query)
        want = {int(i): float(s) for i, s in zip(one.expert_ids_, expected) if s > 0}
        got = {int(i): float(s) for i, s in zip(ids, scores) if s > 0}
        assert got == pytest.approx(want, abs=1e-6), query
        assert not {3, 7, 9} & set(got)


def test_the_index_follows_any_sequence_of_resolutions_and_reopenings():
    """Whatever is resolved and reopened, a look holds resolved tickets only, at most ``limit``,
    every one just resolved that is among the newest ``limit``, and finds only those it holds;
    a resync holds exactly the newest ``limit``. (A ticket that made room for newer ones comes
    back at the resync, not when a newer one is reopened.)"""
    import random

    for seed in range(40):
        rng = random.Random(seed)
        limit, clock, jobs = rng.randint(1, 5), Clock(), []
        index = ResolvedIndex(limit=limit, spawn=jobs.append, clock=clock, resync_every=10.0)
        source = Source(in_commit_order=True)
        for step in range(12):
            just_resolved = set()
            for ticket_id in rng.sample(sorted(TEXTS), rng.randint(1, 3)):
                if ticket_id in source.resolved:
                    source.reopen(ticket_id)
                    just_resolved.discard(ticket_id)
                else:
                    source.resolve(ticket_id)
                    just_resolved.add(ticket_id)
            if jobs and rng.random() < 0.5:  # a background refit finishes between two looks
                jobs.pop()()
            clock.now += rng.choice([1.0, 1.0, 1.0, 10.0])
            resync = index._synced_at is None or clock.now - index._synced_at >= 10.0
            found = ids_found(index.similar(rng.choice(list(TEXTS.values())), source))
            newest = set(sorted(source.resolved)[-limit:])
            held = index.held
            assert held <= source.resolved and len(held) <= limit and set(found) <= held, (seed, step)
            assert just_resolved & newest <= held, (seed, step)
            assert held == newest or not resync, (seed, step)
