"""Skill taxonomy API."""

from tests.builders import SKILLS, seed_skills


def test_create_and_read_skill(client):
    ids = seed_skills(client)
    skill = client.get(f"/api/v1/skills/{ids['digital-signature']}").json()
    assert skill["name_vi"] == "Chữ ký số"
    assert skill["aliases"] == SKILLS[0]["aliases"]


def test_aliases_repeating_a_name_or_each_other_are_dropped(client):
    body = {"slug": "e-invoice", "name_vi": "Hóa đơn điện tử", "name_en": "E-invoicing",
            "aliases": ["HĐĐT", "hoá đơn điện tử", "hoa don dien tu", "e-invoice", "electronic invoice", "HDDT"]}
    skill = client.post("/api/v1/skills", json=body).json()
    # "hoá đơn điện tử" repeats the Vietnamese name, "e-invoice" the slug, "HDDT" the first alias.
    assert skill["aliases"] == ["HĐĐT", "electronic invoice"]


def test_duplicate_slug_is_409(client):
    seed_skills(client)
    response = client.post("/api/v1/skills", json=SKILLS[0])
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "slug"


def test_alias_claimed_by_another_skill_is_409_naming_it(client):
    seed_skills(client)
    body = {"slug": "pki", "name_vi": "Hạ tầng khóa công khai", "name_en": "PKI", "aliases": ["PKI", "cks"]}
    response = client.post("/api/v1/skills", json=body)
    assert response.status_code == 409
    problem = response.json()
    assert problem["errors"][0]["field"] == "aliases[1]"
    assert "digital-signature" in problem["detail"]


def test_update_aliases_and_resolve_with_the_new_alias(client):
    ids = seed_skills(client)
    response = client.patch(f"/api/v1/skills/{ids['gis']}", json={"aliases": ["GIS", "bản đồ số", "WebGIS"]})
    assert response.status_code == 200
    resolved = client.get("/api/v1/skills/resolve", params={"text": "webgis"}).json()
    assert resolved["resolution"]["slug"] == "gis"


def test_resolve_reports_method_and_suggestions(client):
    seed_skills(client)
    exact = client.get("/api/v1/skills/resolve", params={"text": "an toan thong tin"}).json()
    assert exact["resolution"] == {"input": "an toan thong tin", "slug": "cybersecurity", "method": "exact",
                                   "score": 100.0, "matched_name": "An toàn thông tin"}
    unknown = client.get("/api/v1/skills/resolve", params={"text": "Thiết kế đồ họa"}).json()
    assert unknown["resolution"]["slug"] is None
    assert unknown["resolution"]["method"] == "unknown"


def test_list_search_is_diacritic_insensitive_and_covers_aliases(client):
    seed_skills(client)
    by_name = client.get("/api/v1/skills", params={"q": "chu ky so"}).json()
    assert [s["slug"] for s in by_name["items"]] == ["digital-signature"]
    by_alias = client.get("/api/v1/skills", params={"q": "DVCTT"}).json()
    assert [s["slug"] for s in by_alias["items"]] == ["online-public-services"]
    by_category = client.get("/api/v1/skills", params={"category": "security", "sort": "-slug"}).json()
    assert [s["slug"] for s in by_category["items"]] == ["digital-signature", "cybersecurity"]


def test_skill_input_bounds(client):
    for body, field in [
        ({"slug": "X Y", "name_vi": "a", "name_en": "b"}, "slug"),
        ({"slug": "ok", "name_vi": "", "name_en": "b"}, "name_vi"),
        ({"slug": "ok", "name_vi": "a", "name_en": "b", "aliases": ["x" * 81]}, "aliases[0]"),
        ({"slug": "ok", "name_vi": "a", "name_en": "b", "aliases": ["a"] * 41}, "aliases"),
        ({"slug": "ok", "name_vi": "a", "name_en": "b", "weight": 3}, "weight"),
    ]:
        response = client.post("/api/v1/skills", json=body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["field"] == field
    assert client.get("/api/v1/skills/77").status_code == 404
    assert client.patch("/api/v1/skills/77", json={"name_en": "x"}).status_code == 404
    assert client.get("/api/v1/skills/resolve").status_code == 400
