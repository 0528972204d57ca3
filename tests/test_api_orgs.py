"""Org registry API: create, read, update, list, with Da Nang locations and every failure path."""

import unicodedata

from tests.builders import create_org, org_body


def test_create_org_resolves_ward_and_district_from_a_loose_name(client):
    response = client.post("/api/v1/orgs", json=org_body(ward="p. hoa cuong bac"))
    assert response.status_code == 201
    org = response.json()
    assert org["ward_code"] == "20257"
    assert org["ward_name"] == "Hòa Cường Bắc"
    assert org["district_code"] == "492"
    assert org["district_name"] == "Hải Châu"
    assert org["admin_version"] == "2023"
    assert org["code"] == "ubnd-phuong-hoa-cuong-bac"


def test_vietnamese_text_is_stored_nfc_and_round_trips(client):
    nfd_name = unicodedata.normalize("NFD", "Tổ Công nghệ số cộng đồng phường Thạch Thang")
    org = create_org(client, name=nfd_name, kind="community_team", ward="20233", code="to-cns-thach-thang")
    assert org["name"] == "Tổ Công nghệ số cộng đồng phường Thạch Thang"
    assert unicodedata.is_normalized("NFC", org["name"])
    assert client.get(f"/api/v1/orgs/{org['id']}").json()["name"] == org["name"]


def test_read_missing_org_is_problem_404(client):
    response = client.get("/api/v1/orgs/4242")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "not_found"
    assert problem["status"] == 404
    assert problem["instance"] == "/api/v1/orgs/4242"


def test_duplicate_code_is_409_naming_the_field(client):
    create_org(client, code="ubnd-hcb")
    response = client.post("/api/v1/orgs", json=org_body(code="ubnd-hcb"))
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "code", "message": "an org with code 'ubnd-hcb' already exists"}]


def test_unknown_ward_is_422_naming_the_field(client):
    response = client.post("/api/v1/orgs", json=org_body(ward="Phường Không Tồn Tại"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ward"


def test_ward_outside_the_given_district_is_refused(client):
    response = client.post("/api/v1/orgs", json=org_body(district="Sơn Trà", ward="20257"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ward"


def test_later_admin_versions_keep_the_ward_as_typed(client):
    org = create_org(client, name="UBND phường Hòa Cường", ward="Hòa Cường", admin_version="2025-07", code="ubnd-hoa-cuong")
    assert org["ward_name"] == "Hòa Cường"
    assert org["ward_code"] is None
    assert org["admin_version"] == "2025-07"


def test_bad_inputs_are_400_naming_the_field(client):
    cases = [
        ({"name": "X", "kind": "ward", "colour": "red"}, "colour"),
        ({"name": "X", "kind": "ministry"}, "kind"),
        ({"name": "", "kind": "ward"}, "name"),
        ({"name": "   ", "kind": "ward"}, "name"),
        ({"name": "X" * 201, "kind": "ward"}, "name"),
        ({"name": 12, "kind": "ward"}, "name"),
        ({"kind": "ward"}, "name"),
        ({"name": "X", "kind": "ward", "code": "Bad Code"}, "code"),
        ({"name": "X", "kind": "ward", "contact_email": "not-an-email"}, "contact_email"),
        ({"name": "X", "kind": "ward", "admin_version": "2030"}, "admin_version"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/orgs", json=body)
        assert response.status_code == 400, (body, response.text)
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert problem["errors"][0]["field"] == field, (body, problem)


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/orgs", content=b'{"name": "X", ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


def test_update_org_changes_only_given_fields(client, clock):
    org = create_org(client)
    response = client.patch(f"/api/v1/orgs/{org['id']}", json={"address": "12 Núi Thành", "ward": "Hòa Cường Nam"})
    assert response.status_code == 200
    updated = response.json()
    assert updated["address"] == "12 Núi Thành"
    assert updated["ward_code"] == "20258"
    assert updated["name"] == org["name"]


def test_update_missing_org_is_404_and_unknown_field_400(client):
    assert client.patch("/api/v1/orgs/999", json={"address": "x"}).status_code == 404
    org = create_org(client)
    response = client.patch(f"/api/v1/orgs/{org['id']}", json={"id": 5})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "id"


def test_list_filters_by_kind_district_and_unaccented_search(client):
    create_org(client)
    create_org(client, name="UBND phường An Hải Bắc", ward="20272")
    create_org(client, name="Công ty TNHH Hải sản Thọ Quang", kind="business", district="Sơn Trà", ward=None)
    assert client.get("/api/v1/orgs", params={"kind": "business"}).json()["total"] == 1
    son_tra = client.get("/api/v1/orgs", params={"district": "son tra"}).json()
    assert {o["name"] for o in son_tra["items"]} == {"UBND phường An Hải Bắc", "Công ty TNHH Hải sản Thọ Quang"}
    found = client.get("/api/v1/orgs", params={"q": "hoa cuong"}).json()
    assert [o["name"] for o in found["items"]] == ["UBND phường Hòa Cường Bắc"]


def test_list_paginates_with_a_stable_order(client):
    for ward in ["20227", "20230", "20233", "20236", "20239"]:
        create_org(client, name=f"UBND {ward}", ward=ward, code=f"ubnd-{ward}")
    first = client.get("/api/v1/orgs", params={"limit": 2, "offset": 0, "sort": "-name"}).json()
    second = client.get("/api/v1/orgs", params={"limit": 2, "offset": 2, "sort": "-name"}).json()
    assert first["total"] == second["total"] == 5
    names = [o["name"] for o in first["items"] + second["items"]]
    assert names == ["UBND 20239", "UBND 20236", "UBND 20233", "UBND 20230"]


def test_list_refuses_bad_parameters(client):
    for params, field in [({"limit": 0}, "limit"), ({"limit": 500}, "limit"), ({"offset": -1}, "offset"),
                          ({"sort": "password"}, "sort"), ({"kind": "ministry"}, "kind")]:
        response = client.get("/api/v1/orgs", params=params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["field"] == field
    response = client.get("/api/v1/orgs", params={"district": "Quận 1"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "district"
