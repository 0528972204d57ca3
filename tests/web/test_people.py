"""The expert's profile page, the experts directory and the metrics page."""

from __future__ import annotations

import re

from tests.network import Network
from tests.web.helpers import ADMIN, REQUESTER, csrf_of, expert_email, sign_in
from tests.web.test_pages import file_through_form


def profile_form(html: str) -> dict[str, str]:
    """The profile form's fields as the browser would send them untouched."""
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    fields.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'value="([^"]+)" selected', body)
        fields[name] = chosen.group(1) if chosen else "3"
    return fields


def test_an_expert_edits_skills_capacity_and_leave_and_is_ranked_with_them(web: Network) -> None:
    client = web.client
    expert_id = web.experts["dung"]
    sign_in(client, expert_email("dung"))
    page = client.get("/profile")
    assert page.status_code == 200 and "Hồ sơ của tôi" in page.text and 'list="skill-names"' in page.text
    form = profile_form(page.text)
    form.update({"capacity": "4", "skill_1": "chu ky so", "level_1": "5",
                 "new_leave_start": "2026-12-07", "new_leave_end": "2026-12-11", "new_leave_reason": "Tập huấn"})
    saved = client.post("/profile", data=form)
    assert saved.status_code == 200, saved.text
    assert "Đã lưu" in saved.text and "chu ky so → Chữ ký số" in saved.text
    expert = client.get(f"/api/v1/experts/{expert_id}", headers=web.admin).json()
    assert expert["capacity"] == 4
    assert [s["name_vi"] for s in expert["skills"]][:2] == ["Hệ thống thông tin địa lý (GIS)", "Chữ ký số"]
    assert expert["unavailable"][0]["starts_at"].startswith("2026-12-06T17:00")  # 7 Dec 00:00 in Da Nang
    assert expert["unavailable"][0]["ends_at"].startswith("2026-12-11T17:00")  # the whole of 11 Dec
    ranked = client.post("/api/v1/match", headers=web.admin, json={"text": "chữ ký số", "k": 10}).json()
    assert expert_id in [m["expert"]["id"] for m in ranked["matches"]]

    again = profile_form(client.get("/profile").text)
    assert client.post("/profile", data={**again, "capacity": "99"}).status_code == 422
    bad = client.post("/profile", data={**again, "capacity": "99"})
    assert 'id="capacity-error"' in bad.text
    stale = client.post("/profile", data={**form, "capacity": "2"})  # the version the first save used
    assert stale.status_code == 409
    removed = client.post("/profile", data={**again, "leave_remove_0": "on"})
    assert removed.status_code == 200
    assert client.get(f"/api/v1/experts/{expert_id}", headers=web.admin).json()["unavailable"] == []


def test_coordinators_see_the_directory_and_the_metrics_charts_and_others_do_not(web: Network) -> None:
    client = web.client
    file_through_form(web, sign_in(client, REQUESTER))
    assert client.get("/experts").status_code == 403
    assert client.get("/metrics").status_code == 403
    sign_in(client, ADMIN)
    directory = client.get("/experts")
    assert directory.status_code == 200 and "An" in directory.text and "0/2" in directory.text
    assert "Giang" not in client.get("/experts", params={"q": "chu ky so"}).text
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    weekly = re.search(r'<svg class="chart"[^>]*aria-labelledby="weekly-title">(.*?)</svg>', metrics.text, re.S)
    assert weekly and weekly.group(1).count("<rect") == 1  # one ticket this week, in one state
    assert "Tỷ lệ nhận lời mời" in metrics.text
    csrf_of(metrics.text)
