"""The similar-resolved-ticket index follows resolutions and reopenings without refitting, and
the texts it reads come in chunks (SQLite's bound-variable limit)."""

from __future__ import annotations

from expert_match.tickets import repository as ticket_repository
from expert_match.tickets.repository import TicketRepository
from expert_match.tickets.similar import ResolvedIndex
from tests.tickets.test_ticket_api import GIS, SIGNATURE, file

TEXTS = {
    1: "Máy tính bộ phận một cửa không nhận USB token chữ ký số khi ký hồ sơ.",
    2: "Phường cần đưa các chung cư lên bản đồ số GIS dùng chung.",
    3: "Camera giám sát giao thông mất kết nối về trung tâm điều hành.",
    4: "Cài lại driver USB token để ký số hồ sơ dịch vụ công trực tuyến.",
}


class Loader:
    """``texts`` for the index, remembering which ids it was asked for."""

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def __call__(self, ids: list[int]) -> list[tuple[int, str]]:
        self.asked.append(list(ids))
        return [(i, TEXTS[i]) for i in ids]


def ids_found(found: list[tuple[int, float]]) -> list[int]:
    return [i for i, _score in found]


def test_a_new_resolution_is_added_without_reading_the_others_again():
    index, loader = ResolvedIndex(refit_drift=1.0), Loader()
    assert ids_found(index.similar("USB token không ký số được", [1, 2, 3], loader))[0] == 1
    assert loader.asked == [[1, 2, 3]]
    found = ids_found(index.similar("USB token không ký số được", [1, 2, 3, 4], loader))
    assert loader.asked[-1] == [4]  # only the new ticket's text was read
    assert set(found[:2]) == {1, 4}
    # Nothing changed: nothing is read.
    index.similar("bản đồ số chung cư", [1, 2, 3, 4], loader)
    assert len(loader.asked) == 2


def test_a_reopened_ticket_drops_out():
    index, loader = ResolvedIndex(refit_drift=1.0), Loader()
    query = "USB token không nhận khi ký số hồ sơ dịch vụ công"
    assert set(ids_found(index.similar(query, [1, 2, 3, 4], loader))[:2]) == {1, 4}
    found = ids_found(index.similar(query, [2, 3, 4], loader))
    assert 1 not in found and found[0] == 4
    assert loader.asked[-1] == []


def test_many_new_words_refit_the_whole_index():
    index, loader = ResolvedIndex(refit_drift=0.05), Loader()
    index.similar("USB token", [1], loader)
    index.similar("camera giao thông", [1, 3], loader)
    # Ticket 3 shares almost no word with ticket 1: everything is read again for a refit.
    assert loader.asked == [[1], [3], [1, 3]]
    assert ids_found(index.similar("camera giao thông mất kết nối", [1, 3], loader))[0] == 3


def test_texts_are_read_in_chunks(parallel_network, database, monkeypatch):
    ids = [file(parallel_network, body)["ticket"]["id"] for body in (SIGNATURE, GIS, SIGNATURE)]
    monkeypatch.setattr(ticket_repository, "IN_CHUNK", 2)
    with database.reader() as session:
        texts = TicketRepository(session).texts(list(reversed(ids)))
    assert [i for i, _text in texts] == sorted(ids)
    assert SIGNATURE["title"] in texts[0][1] and GIS["title"] in texts[1][1]
