"""The pages take the database's writer only to write (``http/tickets``): on SQLite one writer
serves every process, and a page that held it while ranking experts or rendering made every
other write wait."""

from __future__ import annotations

import dataclasses
import re

import pytest

from expert_match.http import tickets
from tests.network import Network
from tests.web.helpers import ADMIN, REQUESTER, expert_email, sign_in
from tests.web.test_pages import PROBLEM, offered_expert


class Counted:
    """A session factory that notes each session it makes."""

    def __init__(self, factory, seen: list[str]) -> None:
        self.factory, self.seen = factory, seen

    def __call__(self):
        self.seen.append("writer")
        return self.factory()

    def __getattr__(self, name: str):
        return getattr(self.factory, name)


@pytest.fixture
def seen(web: Network, monkeypatch) -> list[str]:
    """In order: each writer session the app opens ("writer"), each write transaction of a
    request's own ("write_transaction": the request itself only reads) and each ranking ("rank")."""
    state = web.client.app.state
    noted: list[str] = []
    monkeypatch.setattr(state, "database", dataclasses.replace(state.database,
                                                               writer=Counted(state.database.writer, noted)))
    index, rank = state.desk.index, state.desk.index.rank

    def ranked(*args, **kwargs):
        noted.append("rank")
        return rank(*args, **kwargs)

    monkeypatch.setattr(index, "rank", ranked)
    write_transaction = tickets.write_transaction

    async def writing(*args, **kwargs):
        noted.append("write_transaction")
        return await write_transaction(*args, **kwargs)

    monkeypatch.setattr(tickets, "write_transaction", writing)
    return noted


def test_a_web_filing_ranks_before_it_takes_the_writer_and_views_never_take_it(web: Network, seen: list[str]) -> None:
    client = web.client
    form = {**PROBLEM, "csrf_token": sign_in(client, REQUESTER)}
    seen.clear()
    preview = client.post("/tickets/new", data=form)
    assert preview.status_code == 200 and 'name="confirmed" value="yes"' in preview.text
    assert seen == []  # the first submit only reads: possible duplicates and similar solved problems
    wrong = client.post("/tickets/new", data={**form, "title": "", "confirmed": "yes"})
    assert wrong.status_code == 422 and 'id="title-error"' in wrong.text and seen == []
    filed = client.post("/tickets/new", data={**form, "confirmed": "yes"}, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    assert seen == ["rank", "write_transaction", "writer"]  # ranked in the read session, then one write
    ticket_id = int(filed.headers["location"].rsplit("/", 1)[1])
    seen.clear()
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200 and PROBLEM["title"] in page.text
    assert seen == []  # a requester's read is not logged: nothing to write
    assert client.get("/tickets/999999").status_code == 404 and seen == []


def test_a_staff_page_view_writes_its_log_line_alone_and_an_accept_writes_once(web: Network, seen: list[str]) -> None:
    client = web.client
    form = {**PROBLEM, "csrf_token": sign_in(client, REQUESTER), "confirmed": "yes"}
    ticket_id = int(client.post("/tickets/new", data=form, follow_redirects=False).headers["location"].rsplit("/", 1)[1])
    sign_in(client, ADMIN)
    seen.clear()
    assert client.get(f"/tickets/{ticket_id}").status_code == 200
    assert seen == ["write_transaction", "writer"]  # read and rendered first, then the log line
    log = client.get(f"/api/v1/tickets/{ticket_id}/accesses", headers=web.admin).json()
    assert [a["channel"] for a in log] == ["web"]

    name = offered_expert(web, ticket_id)
    csrf = sign_in(client, expert_email(name))
    offer_id = int(re.search(r'action="/offers/(\d+)/accept"', client.get("/inbox").text).group(1))
    seen.clear()
    accepted = client.post(f"/offers/{offer_id}/accept", data={"csrf_token": csrf}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/tickets/{ticket_id}"
    assert seen == ["write_transaction", "writer"]
    again = client.post(f"/offers/{offer_id}/accept", data={"csrf_token": csrf}, follow_redirects=False)
    assert again.status_code == 409  # the acceptance's own refusal, from its write transaction
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=web.admin).json()
    assert ticket["status"] == "assigned" and ticket["assigned_expert_id"] == web.experts[name]
