"""Expert registry API: profiles with skills, districts, leave, capacity and conflicts."""

from datetime import timedelta

from tests.builders import create_expert, create_org, expert_body, seed_skills


def test_create_expert_normalises_skills_and_reports_unknown_ones(client):
    seed_skills(client)
    body = expert_body(skills=[{"name": "chu ki so", "level": 5}, {"name": "ATTT", "level": 3},
                               {"name": "information security", "level": 4}, {"name": "Lập trình PLC", "level": 2}])
    response = client.post("/api/v1/experts", json=body)
    assert response.status_code == 201, response.text
    saved = response.json()
    skills = saved["expert"]["skills"]
    # "ATTT" and "information security" are one skill: merged, keeping the higher level.
    assert [(s["slug"], s["level"]) for s in skills] == [("digital-signature", 5), ("cybersecurity", 4), (None, 2)]
    assert skills[2]["free_text"] == "Lập trình PLC"
    assert saved["unrecognised_skills"] == ["Lập trình PLC"]
    assert [r["method"] for r in saved["skill_report"]] == ["exact", "exact", "exact", "unknown"]


def test_created_expert_reads_back_with_user_and_availability(client, clock):
    created = create_expert(client)["expert"]
    expert = client.get(f"/api/v1/experts/{created['id']}").json()
    assert expert["email"] == "lan.nguyen@chuyengia.danang.example"
    assert expert["display_name"] == "Nguyễn Thị Lan"
    assert expert["districts"] == [{"code": "492", "name": "Hải Châu"}]
    assert expert["available_now"] is True
    assert expert["on_leave_now"] is False
    assert expert["version"] == 1


def test_leave_covering_now_makes_the_expert_unavailable(client, clock):
    now = clock.now()
    leave = [{"starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=2)).isoformat(),
              "reason": "Nghỉ phép"}]
    expert = create_expert(client, unavailable=leave)["expert"]
    assert expert["on_leave_now"] is True
    assert expert["available_now"] is False
    clock.current = now + timedelta(days=3)
    assert client.get(f"/api/v1/experts/{expert['id']}").json()["available_now"] is True


def test_leave_must_end_after_it_starts_and_carry_a_timezone(client, clock):
    now = clock.now()
    backwards = [{"starts_at": now.isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()}]
    response = client.post("/api/v1/experts", json=expert_body(unavailable=backwards))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unavailable[0].ends_at"
    naive = [{"starts_at": "2026-12-01T08:00:00", "ends_at": "2026-12-02T08:00:00"}]
    response = client.post("/api/v1/experts", json=expert_body(unavailable=naive))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "unavailable[0].starts_at"


def test_affiliation_and_conflicts_must_exist(client):
    response = client.post("/api/v1/experts", json=expert_body(affiliation_org_id=999))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "affiliation_org_id", "message": "org 999 does not exist"}
    org = create_org(client)
    response = client.post("/api/v1/experts", json=expert_body(conflicts=[{"org_id": org["id"]}, {"org_id": 998}]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "conflicts[1].org_id"
    assert client.get("/api/v1/experts").json()["total"] == 0


def test_conflicts_and_affiliation_are_stored(client):
    ward = create_org(client)
    company = create_org(client, name="Công ty CP Phần mềm Sông Hàn", kind="business", ward=None, district="492")
    expert = create_expert(client, affiliation_org_id=company["id"],
                           conflicts=[{"org_id": ward["id"], "reason": "Vợ là cán bộ phường"}])["expert"]
    assert expert["affiliation"]["code"] == company["code"]
    assert expert["conflicts"] == [{"org": {"id": ward["id"], "code": ward["code"], "name": ward["name"],
                                            "kind": "ward"}, "reason": "Vợ là cán bộ phường"}]


def test_duplicate_email_is_409_case_insensitively(client):
    create_expert(client)
    response = client.post("/api/v1/experts", json=expert_body(email="LAN.NGUYEN@chuyengia.danang.example"))
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"


def test_expert_input_bounds(client):
    cases = [
        (expert_body(capacity=51), "capacity"),
        (expert_body(capacity=-1), "capacity"),
        (expert_body(capacity="3"), "capacity"),
        (expert_body(email="no-at-sign"), "email"),
        (expert_body(languages=[]), "languages"),
        (expert_body(languages=["vietnamese"]), "languages[0]"),
        (expert_body(skills=[{"name": "GIS", "level": 6}]), "skills[0].level"),
        (expert_body(skills=[{"name": "GIS", "weight": 1}]), "skills[0].weight"),
        (expert_body(skills=[{"name": "x"}] * 41), "skills"),
        (expert_body(bio="x" * 5001), "bio"),
        (expert_body(is_admin=True), "is_admin"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/experts", json=body)
        assert response.status_code == 400, (field, response.text)
        assert response.json()["errors"][0]["field"] == field, response.json()
    response = client.post("/api/v1/experts", json=expert_body(districts=["Quận 7"]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "districts[0]"


def test_update_replaces_lists_and_bumps_version(client):
    seed_skills(client)
    expert = create_expert(client)["expert"]
    response = client.patch(f"/api/v1/experts/{expert['id']}", json={
        "version": 1, "capacity": 5, "skills": [{"name": "CKS", "level": 4}, {"name": "GIS", "level": 3}],
        "districts": ["son tra", "Hải Châu"], "headline": "Chuyên gia ký số và bản đồ số"})
    assert response.status_code == 200, response.text
    updated = response.json()["expert"]
    assert updated["capacity"] == 5
    assert [(s["slug"], s["level"]) for s in updated["skills"]] == [("digital-signature", 4), ("gis", 3)]
    assert [d["code"] for d in updated["districts"]] == ["492", "493"]
    assert updated["version"] == 2
    assert updated["display_name"] == "Nguyễn Thị Lan"


def test_stale_version_is_409_and_changes_nothing(client):
    expert = create_expert(client)["expert"]
    assert client.patch(f"/api/v1/experts/{expert['id']}", json={"version": 1, "capacity": 4}).status_code == 200
    response = client.patch(f"/api/v1/experts/{expert['id']}", json={"version": 1, "capacity": 9})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "version"
    assert client.get(f"/api/v1/experts/{expert['id']}").json()["capacity"] == 4


def test_update_missing_expert_is_404(client):
    assert client.patch("/api/v1/experts/12345", json={"capacity": 1}).status_code == 404
    assert client.get("/api/v1/experts/12345").status_code == 404


def test_list_filters(client, clock):
    ids = seed_skills(client)
    company = create_org(client, name="Công ty Sông Hàn", kind="business", ward=None, district="492", code="song-han")
    now = clock.now()
    create_expert(client, email="a@x.vn", display_name="Trần Văn An", skills=[{"name": "CKS"}], districts=["492"],
                  affiliation_org_id=company["id"])
    create_expert(client, email="b@x.vn", display_name="Lê Thị Bình", skills=[{"name": "GIS"}], districts=["493"])
    create_expert(client, email="c@x.vn", display_name="Phạm Hữu Cường", skills=[{"name": "chữ ký số"}],
                  districts=["493"], unavailable=[{"starts_at": (now - timedelta(days=1)).isoformat(),
                                                   "ends_at": (now + timedelta(days=1)).isoformat()}])
    create_expert(client, email="d@x.vn", display_name="Võ Thị Dung", skills=[{"name": "CKS"}], capacity=0)

    def names(**params):
        return [e["display_name"] for e in client.get("/api/v1/experts", params=params).json()["items"]]

    assert names(skill="chu ky so") == ["Trần Văn An", "Phạm Hữu Cường", "Võ Thị Dung"]
    assert names(skill="digital-signature", available_now="true") == ["Trần Văn An"]
    assert names(district="Sơn Trà") == ["Lê Thị Bình", "Phạm Hữu Cường"]
    assert names(org_kind="business") == ["Trần Văn An"]
    assert names(q="cuong") == ["Phạm Hữu Cường"]
    assert names(sort="-name", limit=2) == ["Võ Thị Dung", "Trần Văn An"]
    assert ids["gis"] > 0
    response = client.get("/api/v1/experts", params={"skill": "Thiết kế đồ họa"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "skill"
