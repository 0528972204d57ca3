"""Cross-cutting error behaviour: every error is problem+json with the right status."""

from tests.builders import expert_body


def test_oversized_body_is_413_and_saves_nothing(client, settings):
    body = expert_body(bio="x" * (settings.max_body_bytes + 10))
    response = client.post("/api/v1/experts", json=body)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/experts").json()["total"] == 0


def test_unknown_route_and_method_are_problems(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong_method = client.delete("/api/v1/orgs")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


def test_body_must_be_a_json_object_of_the_right_types(client):
    for raw in [b"[]", b"null", b'"text"', b"{"]:
        response = client.post("/api/v1/orgs", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400, raw
        assert response.json()["status"] == 400


def test_numbers_given_as_strings_are_refused_not_coerced(client):
    response = client.post("/api/v1/experts", json=expert_body(capacity="3"))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "capacity", "message": "Expected `int`, got `str`", "source": "body"}]
    response = client.post("/api/v1/experts", json=expert_body(onsite_possible="true"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "onsite_possible"


def test_path_ids_are_bounded(client):
    for path in ["/api/v1/orgs/0", "/api/v1/orgs/-1", "/api/v1/experts/2147483648", "/api/v1/skills/99999999999999999999"]:
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert response.headers["content-type"].startswith("application/problem+json"), path


def test_unexpected_errors_are_500_without_internals(client, monkeypatch):
    from expert_match.orgs import service

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret connection string postgresql://user:pw@db")

    monkeypatch.setattr(service, "list_orgs", explode)
    response = client.get("/api/v1/orgs")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text
