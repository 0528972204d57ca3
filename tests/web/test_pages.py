"""The life of a ticket through the web pages, as requester, expert and coordinator, in Vietnamese."""

from __future__ import annotations

import html
import re

from tests.network import Network
from tests.web.helpers import ADMIN, PASSWORD, REQUESTER, csrf_of, expert_email, sign_in

PROBLEM = {"title": "Không ký số được hồ sơ DVCTT", "priority": "high", "ward": "hoa cuong bac",
           "description": "Máy tính của bộ phận một cửa không nhận USB token, không ký số được hồ sơ dịch vụ công trực tuyến.",
           "location": "UBND phường, tầng 1", "onsite": "on"}


def file_through_form(network: Network, csrf: str, **overrides: str) -> int:
    client = network.client
    form = {**PROBLEM, **overrides, "csrf_token": csrf}
    preview = client.post("/tickets/new", data=form)
    assert preview.status_code == 200, preview.text
    assert 'name="confirmed" value="yes"' in preview.text  # shown before it is filed
    filed = client.post("/tickets/new", data={**form, "confirmed": "yes"}, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    return int(filed.headers["location"].rsplit("/", 1)[1])


def offered_expert(network: Network, ticket_id: int) -> str:
    response = network.client.get(f"/api/v1/tickets/{ticket_id}/offers", headers=network.admin)
    pending = [o["expert_id"] for o in response.json() if o["state"] == "pending"]
    assert len(pending) == 1
    return next(name for name, expert_id in network.experts.items() if expert_id == pending[0])


def test_pages_are_vietnamese_by_default_and_english_on_request(web: Network) -> None:
    client = web.client
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text and "Đăng nhập" in page.text and "Mật khẩu" in page.text
    switched = client.post("/language", data={"csrf_token": csrf_of(page.text), "language": "en", "next": "/login"},
                           follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    english = client.get("/login")
    assert '<html lang="en">' in english.text and "Password" in english.text and "Mật khẩu" not in english.text


def test_login_gives_a_new_session_each_time_and_wrong_passwords_get_an_error(web: Network) -> None:
    client = web.client
    sign_in(client, REQUESTER)
    first = client.cookies.get("em_session")
    form = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_of(form.text), "email": REQUESTER, "password": PASSWORD},
                follow_redirects=False)
    assert client.cookies.get("em_session") not in (None, first)

    client.cookies.clear()
    form = client.get("/login")
    wrong = client.post("/login", data={"csrf_token": csrf_of(form.text), "email": REQUESTER, "password": "sai"})
    assert wrong.status_code == 401
    assert 'aria-describedby="password-error"' in wrong.text and "Sai thư điện tử hoặc mật khẩu" in wrong.text
    assert client.get("/tickets", follow_redirects=False).headers["location"] == "/login?next=/tickets"


def test_a_ticket_lives_its_whole_life_through_the_pages(web: Network) -> None:
    client = web.client
    csrf = sign_in(client, REQUESTER)
    ticket_id = file_through_form(web, csrf)
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200 and "Không ký số được hồ sơ DVCTT" in page.text
    assert '<p class="ward">Phường/xã: Hòa Cường Bắc</p>' in page.text  # typed as "hoa cuong bac"
    assert "Đang tìm chuyên gia" in page.text and "Cao" in page.text

    name = offered_expert(web, ticket_id)
    csrf = sign_in(client, expert_email(name))
    inbox = client.get("/inbox")
    assert "Không ký số được hồ sơ DVCTT" in inbox.text
    assert "Vì sao mời bạn" in inbox.text and "chữ ký số" in inbox.text.lower()
    offer_id = int(re.search(r'action="/offers/(\d+)/accept"', inbox.text).group(1))
    accepted = client.post(f"/offers/{offer_id}/accept", data={"csrf_token": csrf}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/tickets/{ticket_id}"
    advice = "Cài lại driver USB token bản 2.3 rồi ký lại trên Cổng DVC."
    posted = client.post(f"/tickets/{ticket_id}/posts", data={"csrf_token": csrf, "body": advice, "kind": "advice"},
                         follow_redirects=False)
    assert posted.status_code == 303
    resolved = client.post(f"/tickets/{ticket_id}/do/resolve", data={"csrf_token": csrf, "text": "Đã hướng dẫn cài driver."},
                           follow_redirects=False)
    assert resolved.status_code == 303
    assert "Đã giải quyết" in client.get(f"/tickets/{ticket_id}").text

    csrf = sign_in(client, REQUESTER)
    page = client.get(f"/tickets/{ticket_id}")
    assert advice in page.text and "Xác nhận đã giải quyết xong" in page.text
    assert client.post(f"/tickets/{ticket_id}/do/confirm", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    rated = client.post(f"/tickets/{ticket_id}/do/feedback", data={
        "csrf_token": csrf, "rating": "5", "comment": "Rất nhanh", "bottleneck_removed": "on"}, follow_redirects=False)
    assert rated.status_code == 303
    assert "Đã đóng" in client.get(f"/tickets/{ticket_id}").text
    feedback = client.get(f"/api/v1/tickets/{ticket_id}", headers=web.admin).json()
    assert feedback["status"] == "closed"

    sign_in(client, ADMIN)
    desk = client.get("/desk")
    assert desk.status_code == 200 and "Bàn điều phối" in desk.text and "Khối lượng của chuyên gia" in desk.text


def test_the_coordinator_sees_ranked_candidates_with_their_reasons_and_assigns(web: Network) -> None:
    client = web.client
    ticket_id = file_through_form(web, sign_in(client, REQUESTER))
    csrf = sign_in(client, ADMIN)
    assert "Xếp hạng lại chuyên gia" in client.get(f"/tickets/{ticket_id}").text
    assert client.post(f"/tickets/{ticket_id}/do/rank", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    page = client.get(f"/tickets/{ticket_id}").text
    assert "An" in page and "kỹ năng" in page and "Chữ ký số" in page
    expert_id = web.experts["an"]
    assigned = client.post(f"/tickets/{ticket_id}/do/assign",
                           data={"csrf_token": csrf, "expert_id": str(expert_id), "text": ""}, follow_redirects=False)
    assert assigned.status_code == 303, assigned.text
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=web.admin).json()
    assert ticket["assigned_expert_id"] == expert_id
    channels = [a["channel"] for a in client.get(f"/api/v1/tickets/{ticket_id}/accesses", headers=web.admin).json()]
    assert channels == ["web", "web", "api"]  # each time the coordinator opened the ticket, by page or API


def test_form_errors_are_shown_next_to_the_field_with_the_input_kept(web: Network) -> None:
    client = web.client
    csrf = sign_in(client, REQUESTER)
    response = client.post("/tickets/new", data={**PROBLEM, "title": "", "csrf_token": csrf})
    assert response.status_code == 422
    assert 'id="title-error"' in response.text and 'aria-describedby="title-error"' in response.text
    assert html.escape(PROBLEM["description"]) in response.text
    unknown_ward = client.post("/tickets/new", data={**PROBLEM, "ward": "phường không có", "csrf_token": csrf})
    assert unknown_ward.status_code == 422 and 'id="ward-error"' in unknown_ward.text
    empty_reason = client.post(f"/tickets/{file_through_form(web, csrf)}/do/cancel", data={"csrf_token": csrf, "text": ""})
    assert empty_reason.status_code == 422 and 'id="cancel-error"' in empty_reason.text


def test_a_change_refused_inside_its_write_shows_the_page_again_and_writes_nothing(web: Network) -> None:
    """Errors raised in the write trip (a malformed expert id, an expert who does not exist): the
    write is rolled back, and the ticket page is read again with the error next to the form."""
    client = web.client
    ticket_id = file_through_form(web, sign_in(client, REQUESTER))
    csrf = sign_in(client, ADMIN)
    before = client.get(f"/api/v1/tickets/{ticket_id}/events", headers=web.admin).json()
    malformed = client.post(f"/tickets/{ticket_id}/do/assign", data={"csrf_token": csrf, "expert_id": "an"})
    missing = client.post(f"/tickets/{ticket_id}/do/assign", data={"csrf_token": csrf, "expert_id": "999999"})
    for response in (malformed, missing):
        assert response.status_code == 422 and 'id="assign-error"' in response.text, response.text[:300]
        assert f"CDS-2026-{ticket_id:06d}" in response.text  # the ticket page, read afresh
    assert client.get(f"/api/v1/tickets/{ticket_id}/events", headers=web.admin).json() == before
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=web.admin).json()
    assert ticket["assigned_expert_id"] is None
    # Each page shown to the coordinator is logged as a staff read, the failed ones too.
    channels = [a["channel"] for a in client.get(f"/api/v1/tickets/{ticket_id}/accesses", headers=web.admin).json()]
    assert channels.count("web") == 2


def test_requesters_see_only_their_org_and_experts_only_what_was_offered(web: Network, database) -> None:
    from tests.builders import add_user
    from tests.web.helpers import set_password

    client = web.client
    ticket_id = file_through_form(web, sign_in(client, REQUESTER))
    org = client.post("/api/v1/orgs", headers=web.admin, json={
        "name": "UBND phường Thanh Bình", "kind": "ward", "district": "Hải Châu", "ward": "Thanh Bình"}).json()
    add_user(database, email="khac@thanhbinh.danang.example", role="requester", org_id=org["id"])
    set_password(database, "khac@thanhbinh.danang.example")
    sign_in(client, "khac@thanhbinh.danang.example")
    assert client.get(f"/tickets/{ticket_id}").status_code == 404
    assert client.get("/tickets/999999").status_code == 404
    assert "Không ký số" not in client.get("/tickets").text

    offered = offered_expert(web, ticket_id)
    other = next(name for name in web.experts if name != offered)
    sign_in(client, expert_email(other))
    assert client.get(f"/tickets/{ticket_id}").status_code == 404
    assert client.get("/desk").status_code == 403


def test_lists_and_queues_filter_and_sort(web: Network) -> None:
    client = web.client
    csrf = sign_in(client, REQUESTER)
    signatures = file_through_form(web, csrf, category="security")
    urgent = file_through_form(web, csrf, title="Mạng LAN phường bị mất kết nối", priority="urgent",
                               description="Toàn bộ máy tính bộ phận một cửa mất mạng LAN từ sáng, cáp quang nghi đứt.")
    client.post(f"/tickets/{signatures}/do/cancel", data={"csrf_token": csrf, "text": "Đã tự xử lý"})
    cancelled = client.get("/tickets", params={"status": "cancelled"}).text
    assert f"/tickets/{signatures}" in cancelled and f"/tickets/{urgent}" not in cancelled
    found = client.get("/tickets", params={"q": "mang lan", "status": "", "sort": "created_at"}).text
    assert f"/tickets/{urgent}" in found and f"/tickets/{signatures}" not in found
    assert client.get("/tickets", params={"status": "lost"}).status_code == 422
    assert client.get("/tickets", params={"district": "Quận Không Có"}).status_code == 422

    sign_in(client, ADMIN)
    another = file_through_form(web, csrf_of(client.get("/tickets/new").text), title="Cần tư vấn chữ ký số",
                                priority="low", org_id=str(web.org_id))
    desk = client.get("/desk", params={"sort": "priority"}).text
    assert desk.index(f"/tickets/{urgent}") < desk.index(f"/tickets/{another}")
    newest = client.get("/desk", params={"sort": "newest"}).text
    assert newest.index(f"/tickets/{another}") < newest.index(f"/tickets/{urgent}")
    security = client.get("/desk", params={"category": "security"}).text
    assert f"/tickets/{urgent}" not in security.split('class="grid"')[1]
    assert client.get("/desk", params={"sort": "random"}).status_code == 422
